/**
 * Causal IIR filtering with second-order sections (transposed direct form II,
 * the same recurrence as scipy's `sosfilt`), per channel, float64 state carried
 * across chunks. Output is bit-identical whatever the chunking, because each
 * sample of each channel goes through exactly the same floating-point operations.
 */
import type { SignalChunk } from '../types.ts';
import { butterSos, notchSos, sosfiltZi, type BType, type NotchOptions, type Sos } from './design.ts';
import { channelKey, nSamples, withData, type ChunkProcessor } from './chunk.ts';

export interface SosFilterOptions {
  /**
   * Initial state after construction and after `reset()`:
   * - `'zero'`: zero state (≙ scipy `sosfilt(sos, x)`).
   * - `'steady'` (default): the steady state for a constant input equal to the first sample
   *   (≙ `sosfilt(sos, x, zi=sosfilt_zi(sos) * x[0])`), which removes the start-up transient
   *   of DC offsets through high-pass and band-pass filters.
   */
  init?: 'zero' | 'steady';
  /** Write the output into the input chunk's buffer instead of a new Float32Array. Default false. */
  inPlace?: boolean;
}

/** Channels per cache block in the filter kernel. */
const BLOCK = 64;

export class SosFilter implements ChunkProcessor {
  readonly sos: Sos;
  readonly nSections: number;
  readonly init: 'zero' | 'steady';
  private readonly coef: Float64Array; // per section: b0 b1 b2 a1 a2 (a0 normalised to 1)
  private readonly zi: Float64Array; // per section: zi0 zi1 (unit step steady state)
  private readonly inPlace: boolean;
  private nch = -1;
  private key = '';
  private z1 = new Float64Array(0);
  private z2 = new Float64Array(0);
  private row = new Float64Array(0);
  private fresh = true;

  constructor(sos: Sos, opts: SosFilterOptions = {}) {
    if (sos.length === 0) throw new Error('SosFilter: empty SOS');
    this.sos = sos.map((r) => [...r]);
    this.nSections = sos.length;
    this.init = opts.init ?? 'steady';
    this.inPlace = opts.inPlace ?? false;
    this.coef = new Float64Array(5 * sos.length);
    sos.forEach((r, s) => {
      if (r.length !== 6) throw new Error('SosFilter: each section needs 6 coefficients');
      const a0 = r[3]!;
      this.coef.set([r[0]! / a0, r[1]! / a0, r[2]! / a0, r[4]! / a0, r[5]! / a0], 5 * s);
    });
    this.zi = new Float64Array(sosfiltZi(sos).flat());
  }

  /** Number of channels the state is sized for (−1 before the first chunk). */
  get channels(): number { return this.nch; }

  reset(): void {
    this.z1.fill(0);
    this.z2.fill(0);
    this.fresh = true;
  }

  private ensure(nch: number): void {
    if (nch === this.nch) return;
    this.nch = nch;
    this.z1 = new Float64Array(this.nSections * nch);
    this.z2 = new Float64Array(this.nSections * nch);
    this.row = new Float64Array(nch);
    this.fresh = true;
  }

  private steadyInit(x: ArrayLike<number>, off: number): void {
    const C = this.nch;
    for (let s = 0; s < this.nSections; s++) {
      const a = this.zi[2 * s]!;
      const b = this.zi[2 * s + 1]!;
      for (let c = 0; c < C; c++) {
        const x0 = x[off + c]!;
        this.z1[s * C + c] = a * x0;
        this.z2[s * C + c] = b * x0;
      }
    }
  }

  /**
   * Filter n rows of `x` (samples × C) into `out`: for each sample, all sections over all
   * channels (the row stays in L1 cache; state is float64, section-major).
   */
  private run(x: Float64Array, out: Float64Array, n: number, C: number): void {
    const r = this.row;
    // Channel blocks keep the block's filter state in L1 cache across the chunk's rows.
    for (let cb = 0; cb < C; cb += BLOCK) {
      const ce = Math.min(C, cb + BLOCK);
      for (let i = 0, o = 0; i < n; i++, o += C) {
        for (let c = cb; c < ce; c++) r[c] = x[o + c]!;
        this.sections(r, cb, ce, C);
        for (let c = cb; c < ce; c++) out[o + c] = r[c]!;
      }
    }
  }

  /** Float32 twin of `run` (kept separate so each stays monomorphic for the JIT). */
  private run32(x: Float32Array, out: Float32Array, n: number, C: number): void {
    const r = this.row;
    // Channel blocks keep the block's filter state in L1 cache across the chunk's rows.
    for (let cb = 0; cb < C; cb += BLOCK) {
      const ce = Math.min(C, cb + BLOCK);
      for (let i = 0, o = 0; i < n; i++, o += C) {
        for (let c = cb; c < ce; c++) r[c] = x[o + c]!;
        this.sections(r, cb, ce, C);
        for (let c = cb; c < ce; c++) out[o + c] = r[c]!;
      }
    }
  }

  /** All sections over one row `r` (one sample of every channel), in place; two sections per pass. */
  private sections(r: Float64Array, cb: number, ce: number, C: number): void {
    const coef = this.coef;
    const z1 = this.z1;
    const z2 = this.z2;
    const S = this.nSections;
    let s = 0;
    for (; s + 1 < S; s += 2) {
      const k = 5 * s;
      const b0 = coef[k]!, b1 = coef[k + 1]!, b2 = coef[k + 2]!, a1 = coef[k + 3]!, a2 = coef[k + 4]!;
      const d0 = coef[k + 5]!, d1 = coef[k + 6]!, d2 = coef[k + 7]!, e1 = coef[k + 8]!, e2 = coef[k + 9]!;
      const off = s * C;
      const off2 = off + C;
      for (let c = cb; c < ce; c++) {
        const xv = r[c]!;
        const y = b0 * xv + z1[off + c]!;
        z1[off + c] = b1 * xv - a1 * y + z2[off + c]!;
        z2[off + c] = b2 * xv - a2 * y;
        const w = d0 * y + z1[off2 + c]!;
        z1[off2 + c] = d1 * y - e1 * w + z2[off2 + c]!;
        z2[off2 + c] = d2 * y - e2 * w;
        r[c] = w;
      }
    }
    if (s < S) {
      const k = 5 * s;
      const b0 = coef[k]!, b1 = coef[k + 1]!, b2 = coef[k + 2]!, a1 = coef[k + 3]!, a2 = coef[k + 4]!;
      const off = s * C;
      for (let c = cb; c < ce; c++) {
        const xv = r[c]!;
        const y = b0 * xv + z1[off + c]!;
        z1[off + c] = b1 * xv - a1 * y + z2[off + c]!;
        z2[off + c] = b2 * xv - a2 * y;
        r[c] = y;
      }
    }
  }

  /**
   * Float64 path: filter `x` (samples × nch, row-major) into `out` (may be `x` itself).
   * Same state as `process`; used by the known-answer tests against scipy.
   */
  processF64(x: Float64Array, nch: number, out: Float64Array = x): Float64Array {
    this.ensure(nch);
    const n = x.length / nch;
    if (n > 0 && this.fresh) {
      if (this.init === 'steady') this.steadyInit(x, 0);
      this.fresh = false;
    }
    this.run(x, out, n, nch);
    return out;
  }

  /** Float32 chunk path: float64 arithmetic inside, one rounding to float32 per output sample. */
  process(chunk: SignalChunk): SignalChunk {
    const C = chunk.channels.length;
    const key = channelKey(chunk.channels);
    if (key !== this.key) { this.key = key; this.nch = -1; this.ensure(C); }
    const n = nSamples(chunk);
    const x = chunk.data;
    const out = this.inPlace ? x : new Float32Array(x.length);
    if (n > 0 && this.fresh) {
      if (this.init === 'steady') this.steadyInit(x, 0);
      this.fresh = false;
    }
    this.run32(x, out, n, C);
    return this.inPlace ? chunk : withData(chunk, out);
  }
}

// ---------------------------------------------------------------- convenience designs
export interface ButterFilterOptions extends SosFilterOptions {
  order?: number;
  fs: number;
}

/** Causal Butterworth filter of any order and type (default order 4). */
export function butterFilter(btype: BType, cutoff: number | [number, number], opts: ButterFilterOptions): SosFilter {
  return new SosFilter(butterSos({ order: opts.order ?? 4, cutoff, btype, fs: opts.fs }), opts);
}

/** Causal notch at the line frequency and its harmonics (cascade of `iirnotch` biquads). */
export function notchFilter(opts: NotchOptions & SosFilterOptions): SosFilter {
  const sos = notchSos(opts);
  if (sos.length === 0) throw new Error(`notch: no notch frequency below Nyquist (freq=${opts.freq}, fs=${opts.fs})`);
  return new SosFilter(sos, opts);
}

// ---------------------------------------------------------------- offline zero-phase
export interface ZeroPhaseOptions {
  /** Padding type at both ends (scipy default 'odd'). */
  padtype?: 'odd' | 'even' | 'constant' | 'none';
  /** Padding length; default as scipy: 3·(2·nSections + 1 − min(#b2==0, #a2==0)). */
  padlen?: number;
}

/**
 * OFFLINE ONLY — forward-backward (zero-phase) SOS filtering of a whole recording,
 * ≙ scipy `sosfiltfilt(sos, x, axis=0, padtype, padlen)`. It needs the future of the
 * signal, so it can never run live; the streaming operators never use it.
 * `x` is samples × nch row-major float64; returns a new array.
 */
export function sosfiltfiltOffline(sos: Sos, x: Float64Array, nch: number, opts: ZeroPhaseOptions = {}): Float64Array {
  const n = x.length / nch;
  const nSec = sos.length;
  let ntaps = 2 * nSec + 1;
  ntaps -= Math.min(sos.filter((r) => r[2] === 0).length, sos.filter((r) => r[5] === 0).length);
  const padtype = opts.padtype ?? 'odd';
  const edge = padtype === 'none' ? 0 : (opts.padlen ?? 3 * ntaps);
  if (edge > 0 && n <= edge) throw new Error(`sosfiltfiltOffline: input length must exceed padlen (${edge})`);
  const zi = sosfiltZi(sos);
  const out = new Float64Array(x.length);
  const m = n + 2 * edge;
  const ext = new Float64Array(m);
  const coef = sos.map((r) => [r[0]! / r[3]!, r[1]! / r[3]!, r[2]! / r[3]!, r[4]! / r[3]!, r[5]! / r[3]!]);
  const run = (v: Float64Array, x0: number): void => {
    for (let s = 0; s < nSec; s++) {
      const [b0, b1, b2, a1, a2] = coef[s] as [number, number, number, number, number];
      let z0 = zi[s]![0]! * x0;
      let z1 = zi[s]![1]! * x0;
      for (let i = 0; i < v.length; i++) {
        const xi = v[i]!;
        const y = b0 * xi + z0;
        z0 = b1 * xi - a1 * y + z1;
        z1 = b2 * xi - a2 * y;
        v[i] = y;
      }
    }
  };
  for (let c = 0; c < nch; c++) {
    const at = (i: number): number => x[i * nch + c]!;
    for (let i = 0; i < n; i++) ext[edge + i] = at(i);
    for (let j = 1; j <= edge; j++) {
      if (padtype === 'odd') { ext[edge - j] = 2 * at(0) - at(j); ext[edge + n - 1 + j] = 2 * at(n - 1) - at(n - 1 - j); }
      else if (padtype === 'even') { ext[edge - j] = at(j); ext[edge + n - 1 + j] = at(n - 1 - j); }
      else { ext[edge - j] = at(0); ext[edge + n - 1 + j] = at(n - 1); }
    }
    run(ext, ext[0]!);
    ext.reverse();
    run(ext, ext[0]!);
    ext.reverse();
    for (let i = 0; i < n; i++) out[i * nch + c] = ext[edge + i]!;
  }
  return out;
}
