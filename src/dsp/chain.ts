/**
 * The dsp stage as the runtime configures it: an ordered chain of stateful
 * processors per signal stream (notch → band-pass → montage → resample), built from
 * the first chunk of each stream. Used identically by live runs, replay and offline
 * calibration, so every path sees the same filtered signal.
 *
 * With `badChannels`, an online BadChannelDetector sees each stream's raw chunks first
 * (its line-noise test needs the signal before the notch); the labels it holds bad leave
 * the CAR average and the bipolar montage until they recover, and every decision is
 * handed to the caller as a BadChannelEvent (`onBadChannel`, or `takeEvents()`).
 */
import type { Chunk, SignalChunk, StreamId } from '../types.ts';
import type { ChunkProcessor } from './chunk.ts';
import { BadChannelDetector, type BadChannelEvent, type BadChannelOptions } from './badchannels.ts';
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
  /**
   * Online bad-channel detection (true = defaults, or detector options; plain JSON, so the
   * options can be stored in a recording's header). Bad channels are excluded from CAR and
   * bipolar; decisions are events (see DspChain). Off when absent or false.
   */
  badChannels?: boolean | BadChannelOptions;
}

/** True when the options ask for any processing at all. */
export function dspActive(o: DspOptions | undefined): boolean {
  return !!o && (o.notch !== undefined || o.bandpass !== undefined || (o.montage ?? 'none') !== 'none' || o.resample !== undefined || !!o.badChannels);
}

/** Parse and validate CLI-style values; throws an Error naming the bad option. */
export function parseDspOptions(v: { notch?: string; bandpass?: string; montage?: string; resample?: string; badChannels?: boolean | string }): DspOptions {
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
  if (v.badChannels !== undefined && v.badChannels !== false) out.badChannels = parseBadChannels(v.badChannels, out.notch);
  return out;
}

/**
 * `--bad-channels` (a boolean flag) or `--bad-channels KEY=V,...` with numeric BadChannelOptions
 * keys (e.g. `lineFreq=60,confirmWindows=3`). The line frequency follows `--notch` unless given.
 */
export function parseBadChannels(v: boolean | string, notch?: number): boolean | BadChannelOptions {
  const o: Record<string, number> = {};
  if (typeof v === 'string' && v !== '' && v !== 'true' && v !== 'on') {
    for (const part of v.split(',').map((x) => x.trim()).filter(Boolean)) {
      const [k, val] = part.split('=');
      const x = Number(val);
      if (!k || !BAD_KEYS.has(k) || val === undefined || !Number.isFinite(x))
        throw new Error(`--bad-channels: expected KEY=NUMBER with KEY one of ${[...BAD_KEYS].join(', ')}, got "${part}"`);
      o[k] = x;
    }
  }
  if (notch !== undefined && o.lineFreq === undefined) o.lineFreq = notch;
  return Object.keys(o).length ? (o as BadChannelOptions) : true;
}

const BAD_KEYS = new Set(['windowSec', 'hopSec', 'confirmWindows', 'recoverWindows', 'flatAbs', 'flatRel', 'railValue', 'railFraction', 'railRel', 'highZ', 'highRatio', 'lineFreq', 'lineFraction', 'lineRel', 'corrMin', 'neighbours']);

/** Passes chunks through unchanged; feeds the detector and queues its decisions. */
class BadChannelStage implements ChunkProcessor {
  readonly detector: BadChannelDetector;
  constructor(opts: BadChannelOptions, private readonly sink: (e: BadChannelEvent) => void) {
    this.detector = new BadChannelDetector(opts);
  }
  reset(): void { this.detector.reset(); }
  process(chunk: SignalChunk): SignalChunk {
    for (const e of this.detector.process(chunk)) this.sink(e);
    return chunk;
  }
}

interface StreamChain {
  processors: ChunkProcessor[];
  detector?: BadChannelDetector;
}

function build(o: DspOptions, first: SignalChunk, sink: (e: BadChannelEvent) => void): StreamChain {
  const fs = first.srate;
  const chain: ChunkProcessor[] = [];
  let detector: BadChannelDetector | undefined;
  if (o.badChannels) {
    const stage = new BadChannelStage(o.badChannels === true ? {} : o.badChannels, sink);
    detector = stage.detector;
    chain.push(stage);
  }
  // Read on every chunk, so a decision takes effect from the next chunk on.
  const exclude = detector ? () => detector.badLabels() : undefined;
  if (o.notch !== undefined) chain.push(notchFilter({ freq: o.notch, fs }));
  if (o.bandpass) {
    if (o.bandpass[1] >= fs / 2) throw new Error(`band-pass ${o.bandpass.join('–')} Hz reaches the Nyquist frequency of a ${fs} Hz stream`);
    chain.push(butterFilter('bandpass', o.bandpass, { fs }));
  }
  if (o.montage === 'car') chain.push(new CommonAverageReference(exclude));
  if (o.montage === 'bipolar') chain.push(new MontageProcessor('bipolar', (ch, ex) => bipolarMontage(ch, ex), exclude));
  if (o.resample !== undefined && o.resample !== fs) chain.push(new Resampler({ fsOut: o.resample, fsIn: fs }));
  return detector ? { processors: chain, detector } : { processors: chain };
}

/** Most bad-channel events kept for `takeEvents()`; older ones are dropped first. */
const MAX_QUEUED = 1024;

export interface DspChainHooks {
  /** Called synchronously with every bad-channel decision (flagged or recovered), in order. */
  onBadChannel?: (e: BadChannelEvent) => void;
}

/**
 * The dsp stage over all streams. Bad-channel decisions are delivered two ways: to
 * `hooks.onBadChannel` as they happen, and queued for `takeEvents()` (drained by the caller
 * after each `process`), so a synchronous driver can put them in its own output.
 */
export class DspChain {
  private readonly chains = new Map<StreamId, StreamChain>();
  private events: BadChannelEvent[] = [];

  constructor(readonly options: DspOptions = {}, private readonly hooks: DspChainHooks = {}) {}

  /** Bad-channel events since the last call (oldest first); empties the queue. */
  takeEvents(): BadChannelEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  /** Labels the detector currently holds bad on a stream (empty without detection). */
  badChannels(stream: StreamId): string[] {
    return this.chains.get(stream)?.detector?.badLabels() ?? [];
  }

  /** Process one chunk: signal chunks go through the stream's chain; gaps reset it. */
  process(c: Chunk): Chunk[] {
    if (!dspActive(this.options)) return [c];
    if (c.kind === 'gap') {
      for (const p of this.chains.get(c.stream)?.processors ?? []) p.reset();
      return [c];
    }
    if (c.kind !== 'signal' || c.srate <= 0 || c.channels.length === 0) return [c];
    let chain = this.chains.get(c.stream);
    if (!chain) this.chains.set(c.stream, (chain = build(this.options, c, (e) => {
      // Bounded: a caller that never drains must not grow memory over a long session.
      if (this.events.length >= MAX_QUEUED) this.events.shift();
      this.events.push(e);
      this.hooks.onBadChannel?.(e);
    })));
    let cur: SignalChunk | null = c;
    for (const p of chain.processors) {
      if (!cur) break;
      cur = p.process(cur);
    }
    // Keep arrival time for latency accounting through the chain.
    return cur ? [{ ...cur, arrivedAt: c.arrivedAt }] : [];
  }
}
