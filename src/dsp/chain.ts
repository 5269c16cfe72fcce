/**
 * The dsp stage as the runtime configures it: an ordered chain of stateful
 * processors per signal stream (notch → band-pass → montage → resample), built from
 * the first chunk of each stream. Used identically by live runs, replay and offline
 * calibration, so every path sees the same filtered signal.
 */
import type { Chunk, SignalChunk, StreamId } from '../types.ts';
import type { ChunkProcessor } from './chunk.ts';
import { bipolarMontage, CommonAverageReference, MontageProcessor } from './montage.ts';
import { Resampler } from './resample.ts';
import { butterFilter, notchFilter } from './sos.ts';

export interface DspOptions {
  /** Line frequency to notch, with its harmonics below Nyquist (50 or 60); off when absent. */
  notch?: number;
  /** Causal Butterworth band-pass [lo, hi] Hz, order 4; off when absent. */
  bandpass?: [number, number];
  /** Re-reference: common average, or bipolar pairs along SEEG shafts. */
  montage?: 'none' | 'car' | 'bipolar';
  /** Resample to this rate (polyphase, anti-aliased); off when absent. */
  resample?: number;
}

/** True when the options ask for any processing at all. */
export function dspActive(o: DspOptions | undefined): boolean {
  return !!o && (o.notch !== undefined || o.bandpass !== undefined || (o.montage ?? 'none') !== 'none' || o.resample !== undefined);
}

/** Parse and validate CLI-style values; throws an Error naming the bad option. */
export function parseDspOptions(v: { notch?: string; bandpass?: string; montage?: string; resample?: string }): DspOptions {
  const out: DspOptions = {};
  if (v.notch !== undefined) {
    const f = Number(v.notch);
    if (f !== 50 && f !== 60) throw new Error(`--notch: expected 50 or 60, got "${v.notch}"`);
    out.notch = f;
  }
  if (v.bandpass !== undefined) {
    const p = v.bandpass.split(',').map(Number);
    if (p.length !== 2 || !p.every((x) => Number.isFinite(x) && x > 0) || p[0]! >= p[1]!)
      throw new Error(`--bandpass: expected LO,HI in Hz with 0 < LO < HI, got "${v.bandpass}"`);
    out.bandpass = [p[0]!, p[1]!];
  }
  if (v.montage !== undefined) {
    if (!['none', 'car', 'bipolar'].includes(v.montage)) throw new Error(`--montage: expected none, car or bipolar, got "${v.montage}"`);
    out.montage = v.montage as DspOptions['montage'];
  }
  if (v.resample !== undefined) {
    const f = Number(v.resample);
    if (!(f > 0)) throw new Error(`--resample: expected a rate in Hz, got "${v.resample}"`);
    out.resample = f;
  }
  return out;
}

function build(o: DspOptions, first: SignalChunk): ChunkProcessor[] {
  const fs = first.srate;
  const chain: ChunkProcessor[] = [];
  if (o.notch !== undefined) chain.push(notchFilter({ freq: o.notch, fs }));
  if (o.bandpass) {
    if (o.bandpass[1] >= fs / 2) throw new Error(`band-pass ${o.bandpass.join('–')} Hz reaches the Nyquist frequency of a ${fs} Hz stream`);
    chain.push(butterFilter('bandpass', o.bandpass, { fs }));
  }
  if (o.montage === 'car') chain.push(new CommonAverageReference());
  if (o.montage === 'bipolar') chain.push(new MontageProcessor('bipolar', (ch, ex) => bipolarMontage(ch, ex)));
  if (o.resample !== undefined && o.resample !== fs) chain.push(new Resampler({ fsOut: o.resample, fsIn: fs }));
  return chain;
}

export class DspChain {
  private readonly chains = new Map<StreamId, ChunkProcessor[]>();

  constructor(readonly options: DspOptions = {}) {}

  /** Process one chunk: signal chunks go through the stream's chain; gaps reset it. */
  process(c: Chunk): Chunk[] {
    if (!dspActive(this.options)) return [c];
    if (c.kind === 'gap') {
      for (const p of this.chains.get(c.stream) ?? []) p.reset();
      return [c];
    }
    if (c.kind !== 'signal' || c.srate <= 0 || c.channels.length === 0) return [c];
    let chain = this.chains.get(c.stream);
    if (!chain) this.chains.set(c.stream, (chain = build(this.options, c)));
    let cur: SignalChunk | null = c;
    for (const p of chain) {
      if (!cur) break;
      cur = p.process(cur);
    }
    // Keep arrival time for latency accounting through the chain.
    return cur ? [{ ...cur, arrivedAt: c.arrivedAt }] : [];
  }
}
