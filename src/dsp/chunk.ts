/** Small helpers shared by the dsp processors. */
import type { ChannelInfo, SignalChunk } from '../types.ts';

/** Number of samples in a signal chunk. */
export function nSamples(c: SignalChunk): number {
  return c.channels.length === 0 ? 0 : c.data.length / c.channels.length;
}

/** A cheap identity for a channel set: processors re-initialise when it changes. */
export function channelKey(channels: ChannelInfo[]): string {
  let s = `${channels.length}:`;
  for (const ch of channels) s += ch.label + '\u0001';
  return s;
}

/** A new chunk with the same stream/timestamps/channels/srate and new data (or overrides). */
export function withData(c: SignalChunk, data: Float32Array, over: Partial<SignalChunk> = {}): SignalChunk {
  return { kind: 'signal', stream: c.stream, data, timestamps: c.timestamps, channels: c.channels, srate: c.srate, ...over };
}

/** Interface every stateful signal processor in src/dsp implements. */
export interface ChunkProcessor {
  /** Process one chunk; returns the output chunk, or null when no output sample is ready yet. */
  process(chunk: SignalChunk): SignalChunk | null;
  /** Forget all history (used after a gap). Channel set and design are kept. */
  reset(): void;
}

/** The PRNG and Gaussian sampler live in src/util/random.ts; re-exported for the processors' callers that import them from here. */
export { mulberry32, gaussian } from '../util/random.ts';
