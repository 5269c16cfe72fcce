/**
 * RxJS operators over the chunk stream. Each wraps one of the synchronous stateful
 * processors, keeping one processor per stream id (so EEG and audio streams in the same
 * pipeline never share filter state).
 *
 * Common behaviour:
 * - Marker chunks and other streams' chunks pass through untouched, in order.
 * - `streams` selects which signal streams are processed (default: all).
 * - GapEvent for a processed stream: `onGap: 'reset'` (default) forgets the history so that no
 *   output mixes samples from both sides of the hole (IIR filters re-initialise to the steady
 *   state of the first sample after the gap, the resampler restarts its grid, band power waits
 *   for a full window); `'hold'` keeps the state as if the samples were contiguous.
 *   The gap event itself is passed on.
 * - A change of channel set (count or labels) re-initialises the processor state.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { Chunk, MarkerChunk, SignalChunk, StreamId } from '../types.ts';
import { logger } from '../log.ts';
import type { ChunkProcessor } from './chunk.ts';
import { butterSos, notchSos, type BType, type Sos } from './design.ts';
import { SosFilter, sosfiltfiltOffline, type ZeroPhaseOptions } from './sos.ts';
import { Resampler, type ResamplerOptions } from './resample.ts';
import {
  CommonAverageReference,
  MontageProcessor,
  bipolarMontage,
  laplacianMontage,
  matrixMontage,
  type BipolarOptions,
  type Exclusion,
  type LaplacianOptions,
  type MatrixMontageOptions,
} from './montage.ts';
import { BandPower, type BandPowerOptions } from './spectral.ts';
import { BadChannelDetector, type BadChannelEvent, type BadChannelOptions } from './badchannels.ts';
import { ArtifactDetector, type ArtifactFrame, type ArtifactOptions } from './artifacts.ts';

const log = logger('dsp');

export interface CommonOptions {
  /** Streams to process (ids or a predicate); others pass through. Default: every signal stream. */
  streams?: StreamId[] | ((id: StreamId) => boolean);
  /** What a GapEvent does to the state. Default 'reset'. */
  onGap?: 'reset' | 'hold';
}

function selector(s: CommonOptions['streams']): (id: StreamId) => boolean {
  if (!s) return () => true;
  if (typeof s === 'function') return s;
  const set = new Set(s);
  return (id) => set.has(id);
}

/** Suffix of the marker stream carrying bad-channel decisions of stream S: `${S}${BAD_CHANNEL_SUFFIX}`. */
export const BAD_CHANNEL_SUFFIX = ':badchannels';
/** Suffix of the marker stream carrying artifact frames. */
export const ARTIFACT_SUFFIX = ':artifacts';
/** Suffix of the band-power stream derived from stream S. */
export const BANDPOWER_SUFFIX = ':bandpower';

/**
 * Generic operator: one processor per stream, created from the first chunk.
 * `onMarker` lets montage operators react to bad-channel markers.
 */
export function processorOperator<P extends ChunkProcessor>(
  name: string,
  create: (first: SignalChunk) => P,
  opts: CommonOptions = {},
  onMarker?: (m: MarkerChunk, procs: Map<StreamId, P>) => void,
): OperatorFunction<Chunk, Chunk> {
  const selected = selector(opts.streams);
  const onGap = opts.onGap ?? 'reset';
  return (source) => new Observable<Chunk>((sub) => {
    const procs = new Map<StreamId, P>();
    return source.subscribe({
      next(c) {
        try {
          if (c.kind === 'signal' && selected(c.stream)) {
            let p = procs.get(c.stream);
            if (!p) { p = create(c); procs.set(c.stream, p); log.debug({ op: name, stream: c.stream }, 'processor created'); }
            const out = p.process(c);
            if (out) sub.next(out);
            return;
          }
          if (c.kind === 'gap' && onGap === 'reset') procs.get(c.stream)?.reset();
          if (c.kind === 'marker' && onMarker) onMarker(c, procs);
          sub.next(c);
        } catch (err) {
          log.error({ op: name, stream: c.stream, err: (err as Error).message }, 'dsp operator failed');
          sub.error(err);
        }
      },
      error: (e) => sub.error(e),
      complete: () => sub.complete(),
    });
  });
}

// ---------------------------------------------------------------- IIR filters
export interface IirOperatorOptions extends CommonOptions {
  /** Filter order (Butterworth prototype order; band filters have 2× as many poles). Default 4. */
  order?: number;
  /** Initial state: 'steady' (default) or 'zero'. See SosFilter. */
  init?: 'zero' | 'steady';
}

/** Causal filter from an SOS, fixed or designed for the stream's rate. */
export function sosFilter(sos: Sos | ((fs: number) => Sos), opts: CommonOptions & { init?: 'zero' | 'steady' } = {}): OperatorFunction<Chunk, Chunk> {
  return processorOperator('sosfilter', (c) => new SosFilter(typeof sos === 'function' ? sos(c.srate) : sos, { init: opts.init }), opts);
}

function butterOp(btype: BType, cutoff: number | [number, number], opts: IirOperatorOptions): OperatorFunction<Chunk, Chunk> {
  return processorOperator(btype, (c) => new SosFilter(butterSos({ order: opts.order ?? 4, cutoff, btype, fs: c.srate }), { init: opts.init }), opts);
}

/** Causal Butterworth band-pass [lo, hi] Hz. */
export const bandpass = (opts: IirOperatorOptions & { lo: number; hi: number }) => butterOp('bandpass', [opts.lo, opts.hi], opts);
/** Causal Butterworth band-stop [lo, hi] Hz. */
export const bandstop = (opts: IirOperatorOptions & { lo: number; hi: number }) => butterOp('bandstop', [opts.lo, opts.hi], opts);
/** Causal Butterworth low-pass at `cutoff` Hz. */
export const lowpass = (opts: IirOperatorOptions & { cutoff: number }) => butterOp('lowpass', opts.cutoff, opts);
/** Causal Butterworth high-pass at `cutoff` Hz. */
export const highpass = (opts: IirOperatorOptions & { cutoff: number }) => butterOp('highpass', opts.cutoff, opts);

export interface NotchOperatorOptions extends CommonOptions {
  /** 50 or 60 (any positive frequency). */
  freq: number;
  Q?: number;
  harmonics?: boolean;
  maxFreq?: number;
  init?: 'zero' | 'steady';
}

/** Causal line-noise notch at `freq` and its harmonics below Nyquist (cascade of iirnotch biquads). */
export function notch(opts: NotchOperatorOptions): OperatorFunction<Chunk, Chunk> {
  return processorOperator('notch', (c) => {
    const sos = notchSos({ freq: opts.freq, Q: opts.Q, harmonics: opts.harmonics, maxFreq: opts.maxFreq, fs: c.srate });
    if (sos.length === 0) throw new Error(`notch ${opts.freq} Hz is above the Nyquist of ${c.stream} (${c.srate} Hz)`);
    return new SosFilter(sos, { init: opts.init });
  }, opts);
}

/**
 * OFFLINE ONLY — zero-phase (forward-backward) filtering. Collects every chunk of each selected
 * stream until the source completes, then emits ONE chunk per stream filtered with
 * `sosfiltfiltOffline`. Never use it in a live pipeline: it emits nothing until the end.
 */
export function zeroPhaseOffline(sos: Sos | ((fs: number) => Sos), opts: CommonOptions & ZeroPhaseOptions = {}): OperatorFunction<Chunk, Chunk> {
  const selected = selector(opts.streams);
  return (source) => new Observable<Chunk>((sub) => {
    const held = new Map<StreamId, SignalChunk[]>();
    return source.subscribe({
      next(c) {
        if (c.kind === 'signal' && selected(c.stream)) {
          if (!held.has(c.stream)) held.set(c.stream, []);
          held.get(c.stream)!.push(c);
        } else sub.next(c);
      },
      error: (e) => sub.error(e),
      complete() {
        try {
          for (const [, list] of held) {
            const first = list[0]!;
            const C = first.channels.length;
            const total = list.reduce((a, c) => a + c.data.length, 0);
            const x = new Float64Array(total);
            const ts = new Float64Array(total / C);
            let o = 0, t = 0;
            for (const c of list) { x.set(c.data, o); o += c.data.length; ts.set(c.timestamps, t); t += c.timestamps.length; }
            const y = sosfiltfiltOffline(typeof sos === 'function' ? sos(first.srate) : sos, x, C, opts);
            sub.next({ ...first, data: Float32Array.from(y), timestamps: ts });
          }
          sub.complete();
        } catch (err) { sub.error(err); }
      },
    });
  });
}

// ---------------------------------------------------------------- montages
export interface MontageOperatorOptions extends CommonOptions {
  /** Labels left out (bad channels), fixed or read on every chunk. */
  exclude?: Exclusion;
  /**
   * Follow bad-channel markers (`${stream}:badchannels`, from `detectBadChannels`) flowing in the
   * same pipeline: bad labels are excluded until they recover. Default true.
   */
  followBadChannels?: boolean;
}

function followMarkers<P extends { extraExclude: Set<string> }>(opts: MontageOperatorOptions) {
  if (opts.followBadChannels === false) return undefined;
  return (m: MarkerChunk, procs: Map<StreamId, P>) => {
    if (!m.stream.endsWith(BAD_CHANNEL_SUFFIX)) return;
    const target = procs.get(m.stream.slice(0, -BAD_CHANNEL_SUFFIX.length));
    for (const s of m.markers) {
      try {
        const ev = JSON.parse(s) as BadChannelEvent;
        if (ev.type !== 'bad-channel') continue;
        const p = target ?? [...procs.values()][0];
        if (!p) continue;
        if (ev.bad) p.extraExclude.add(ev.label); else p.extraExclude.delete(ev.label);
      } catch { /* not ours */ }
    }
  };
}

/** Common average reference, bad channels excluded from the average. `types`: only average channels of these types. */
export function car(opts: MontageOperatorOptions & { types?: string[] } = {}): OperatorFunction<Chunk, Chunk> {
  return processorOperator('car', () => new CommonAverageReference(opts.exclude, opts.types), opts, followMarkers(opts));
}

/** SEEG bipolar montage (adjacent contacts on each shaft; labels `LA1-LA2`, positions at midpoints). */
export function bipolar(opts: MontageOperatorOptions & BipolarOptions = {}): OperatorFunction<Chunk, Chunk> {
  return processorOperator('bipolar', () => new MontageProcessor('bipolar', (ch, ex) => bipolarMontage(ch, ex, opts), opts.exclude), opts, followMarkers(opts));
}

/** Laplacian: channel minus mean of its neighbours (explicit, shaft neighbours, or k nearest by position). */
export function laplacian(opts: MontageOperatorOptions & LaplacianOptions = {}): OperatorFunction<Chunk, Chunk> {
  return processorOperator('laplacian', () => new MontageProcessor('laplacian', (ch, ex) => laplacianMontage(ch, ex, opts), opts.exclude), opts, followMarkers(opts));
}

/** Any user re-reference matrix (rows = outputs). */
export function reref(opts: CommonOptions & MatrixMontageOptions): OperatorFunction<Chunk, Chunk> {
  return processorOperator('reref', () => new MontageProcessor('matrix', (ch) => matrixMontage(ch, opts)), opts);
}

// ---------------------------------------------------------------- resampling
/** Streaming rational polyphase resampling to `fsOut` (see Resampler for delay and design). */
export function resample(opts: CommonOptions & ResamplerOptions): OperatorFunction<Chunk, Chunk> {
  return processorOperator('resample', () => new Resampler(opts), opts);
}

// ---------------------------------------------------------------- features and detection
/**
 * Log band power per frame. Replaces each processed signal chunk by a band-power chunk on
 * stream `${stream}:bandpower` (or emits both with `keepSignal`).
 */
export function bandPower(opts: CommonOptions & BandPowerOptions & { keepSignal?: boolean } = {}): OperatorFunction<Chunk, Chunk> {
  const wrap = (): ChunkProcessor => {
    const bp = new BandPower(opts);
    return {
      reset: () => bp.reset(),
      process: (c) => {
        const out = bp.process(c);
        return out ? { ...out, stream: c.stream + BANDPOWER_SUFFIX } : null;
      },
    };
  };
  if (!opts.keepSignal) return processorOperator('bandpower', wrap, opts);
  return (source) => new Observable<Chunk>((sub) => {
    const procs = new Map<StreamId, ChunkProcessor>();
    const selected = selector(opts.streams);
    return source.subscribe({
      next(c) {
        sub.next(c);
        if (c.kind === 'signal' && selected(c.stream)) {
          let p = procs.get(c.stream);
          if (!p) { p = wrap(); procs.set(c.stream, p); }
          const out = p.process(c);
          if (out) sub.next(out);
        } else if (c.kind === 'gap' && (opts.onGap ?? 'reset') === 'reset') procs.get(c.stream)?.reset();
      },
      error: (e) => sub.error(e),
      complete: () => sub.complete(),
    });
  });
}

function markerOf(stream: string, items: { t?: number; t1?: number }[]): MarkerChunk {
  return {
    kind: 'marker',
    stream,
    markers: items.map((e) => JSON.stringify(e)),
    timestamps: Float64Array.from(items.map((e) => e.t ?? e.t1 ?? 0)),
  };
}

/**
 * Online bad-channel detection. Passes every chunk on, and after a chunk that changed a decision
 * emits a MarkerChunk on `${stream}:badchannels` with one JSON `BadChannelEvent` per change.
 * `onEvent` receives the typed events as well.
 */
export function detectBadChannels(opts: CommonOptions & BadChannelOptions & { onEvent?: (e: BadChannelEvent) => void } = {}): OperatorFunction<Chunk, Chunk> {
  const selected = selector(opts.streams);
  return (source) => new Observable<Chunk>((sub) => {
    const dets = new Map<StreamId, BadChannelDetector>();
    return source.subscribe({
      next(c) {
        sub.next(c);
        if (c.kind === 'signal' && selected(c.stream)) {
          let d = dets.get(c.stream);
          if (!d) { d = new BadChannelDetector(opts); dets.set(c.stream, d); }
          const evs = d.process(c);
          if (evs.length) {
            for (const e of evs) opts.onEvent?.(e);
            sub.next(markerOf(c.stream + BAD_CHANNEL_SUFFIX, evs));
          }
        } else if (c.kind === 'gap' && (opts.onGap ?? 'reset') === 'reset') dets.get(c.stream)?.reset();
      },
      error: (e) => sub.error(e),
      complete: () => sub.complete(),
    });
  });
}

/**
 * Per-frame artifact flags. Passes every chunk on; frames with any flag are emitted as a
 * MarkerChunk on `${stream}:artifacts` (JSON `ArtifactFrame`s); `onFrame` receives every frame.
 */
export function detectArtifacts(opts: CommonOptions & ArtifactOptions & { onFrame?: (f: ArtifactFrame) => void } = {}): OperatorFunction<Chunk, Chunk> {
  const selected = selector(opts.streams);
  return (source) => new Observable<Chunk>((sub) => {
    const dets = new Map<StreamId, ArtifactDetector>();
    return source.subscribe({
      next(c) {
        sub.next(c);
        if (c.kind === 'signal' && selected(c.stream)) {
          let d = dets.get(c.stream);
          if (!d) { d = new ArtifactDetector(opts); dets.set(c.stream, d); }
          const frames = d.process(c);
          for (const f of frames) opts.onFrame?.(f);
          const flagged = frames.filter((f) => f.blink || f.amplitude.length || f.gradient.length);
          if (flagged.length) sub.next(markerOf(c.stream + ARTIFACT_SUFFIX, flagged));
        } else if (c.kind === 'gap' && (opts.onGap ?? 'reset') === 'reset') dets.get(c.stream)?.reset();
      },
      error: (e) => sub.error(e),
      complete: () => sub.complete(),
    });
  });
}
