/**
 * dsp stage: causal IIR filters (Butterworth, notch with harmonics), offline zero-phase,
 * montages (CAR, bipolar, Laplacian, matrix), streaming polyphase resampling, bad-channel and
 * artifact detection, per-frame log band power. Synchronous stateful processors plus RxJS
 * operators. See docs/dsp.md.
 */
export * from './design.ts';
export * from './sos.ts';
export * from './resample.ts';
export * from './montage.ts';
export * from './fft.ts';
export * from './spectral.ts';
export * from './badchannels.ts';
export * from './artifacts.ts';
export * from './operators.ts';
export { nSamples, channelKey, withData, mulberry32, gaussian, type ChunkProcessor } from './chunk.ts';
export { DspChain, dspActive, parseDspOptions, type DspOptions } from './chain.ts';
