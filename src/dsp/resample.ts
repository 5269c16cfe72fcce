/**
 * Streaming rational polyphase resampler (FIR, linear phase, anti-aliased). Its output
 * grid, delay and timestamps follow scipy `resample_poly` exactly (up to a fixed delay),
 * so the two can be compared sample for sample: conventions and filter designs in
 * docs/dsp.md, "Resampling".
 */
import type { SignalChunk } from '../types.ts';
import { firwinKaiser, kaiserord } from './design.ts';
import { channelKey, nSamples, type ChunkProcessor } from './chunk.ts';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Rational factors for fsIn → fsOut (both integers in Hz, or ratios that reduce to small integers). */
export function rationalFactors(fsIn: number, fsOut: number): { up: number; down: number } {
  const scale = 1000; // allows rates like 2048, 1024, 500.5 ... (three decimals)
  const a = Math.round(fsOut * scale);
  const b = Math.round(fsIn * scale);
  const g = gcd(a, b);
  const up = a / g;
  const down = b / g;
  if (up > 4096 || down > 4096) throw new Error(`resample: ratio ${fsOut}/${fsIn} needs factors ${up}/${down} — too large`);
  return { up, down };
}

export interface ResampleDesignOptions {
  /** `'antialias'` (default), `'scipy'`, or an explicit FIR (unit DC gain, odd length recommended). */
  design?: 'antialias' | 'scipy' | Float64Array;
  /** Pass-band edge as a fraction of the new Nyquist frequency (antialias design). Default 0.8. */
  passband?: number;
  /** Stop-band attenuation in dB (antialias design). Default 70. */
  attenuationDb?: number;
}

/** The FIR (unit DC gain, not yet multiplied by `up`) used for up/down with the given design. */
export function resampleFir(up: number, down: number, opts: ResampleDesignOptions = {}): Float64Array {
  const design = opts.design ?? 'antialias';
  if (design instanceof Float64Array) return design;
  const maxRate = Math.max(up, down);
  if (design === 'scipy') return firwinKaiser(2 * 10 * maxRate + 1, 1 / maxRate, 5.0);
  // Frequencies relative to the Nyquist of the upsampled rate.
  const stop = 1 / maxRate;
  const pass = (opts.passband ?? 0.8) * stop;
  const [nt, beta] = kaiserord(opts.attenuationDb ?? 70, stop - pass);
  const numtaps = nt % 2 === 0 ? nt + 1 : nt;
  return firwinKaiser(numtaps, (pass + stop) / 2, beta);
}

export interface ResamplerOptions extends ResampleDesignOptions {
  /** Output rate in Hz. */
  fsOut: number;
  /** Input rate; taken from the first chunk when absent. */
  fsIn?: number;
}

export class Resampler implements ChunkProcessor {
  readonly fsOut: number;
  private opts: ResamplerOptions;
  private fsIn = 0;
  up = 1;
  down = 1;
  private h = new Float64Array(0); // FIR × up
  private L = 0;
  private halfLen = 0;
  private nPrePad = 0;
  private H = 0; // input history rows kept
  private C = -1;
  private key = '';
  private buf = new Float64Array(0); // (H + chunk) × C
  private acc = new Float64Array(0);
  private nIn = 0; // input samples consumed since reset
  private nextP = 0; // upsampled position of the next output

  constructor(opts: ResamplerOptions) {
    this.fsOut = opts.fsOut;
    this.opts = opts;
    if (opts.fsIn) this.configure(opts.fsIn);
  }

  private configure(fsIn: number): void {
    this.fsIn = fsIn;
    const { up, down } = rationalFactors(fsIn, this.fsOut);
    this.up = up;
    this.down = down;
    const fir = resampleFir(up, down, this.opts);
    this.L = fir.length;
    this.halfLen = Math.floor((fir.length - 1) / 2);
    this.h = fir.map((v) => v * up);
    this.nPrePad = down - (this.halfLen % down);
    this.H = Math.ceil(this.L / up) + 1;
    this.C = -1;
    this.key = '';
    this.reset();
  }

  /** Output samples by which the stream lags scipy `resample_poly` (see module doc). */
  get delaySamples(): number { return Math.floor(this.halfLen / this.down); }
  /** Linear-phase group delay of the anti-alias FIR, seconds. */
  get groupDelaySeconds(): number { return this.fsIn ? this.halfLen / (this.up * this.fsIn) : NaN; }
  /** FIR taps in use (multiplied by `up`). */
  get taps(): Float64Array { return this.h; }
  get inputRate(): number { return this.fsIn; }

  reset(): void {
    this.nIn = 0;
    this.nextP = this.down - this.nPrePad;
    this.buf.fill(0);
  }

  private ensure(C: number, n: number): void {
    if (C !== this.C) {
      this.C = C;
      this.buf = new Float64Array((this.H + Math.max(n, 64)) * C);
      this.acc = new Float64Array(C);
      this.reset();
    } else if (this.buf.length < (this.H + n) * C) {
      const nb = new Float64Array((this.H + n) * C);
      nb.set(this.buf.subarray(0, this.H * C));
      this.buf = nb;
    }
  }

  private prepare(srate: number, C: number, key: string, n: number): void {
    if (!this.fsIn || (srate && srate !== this.fsIn && !this.opts.fsIn)) {
      if (!srate) throw new Error('resample: input rate unknown (srate 0 and no fsIn)');
      this.configure(srate);
    }
    if (key !== this.key) { this.key = key; this.C = -1; }
    this.ensure(C, n);
  }

  /** Core: consume n rows of x (C channels); write outputs via `emit(e, nHi, phase)` after filling `acc`. */
  private run(n: number, C: number, out: Float64Array, emit: (e: number, nHi: number, phase: number) => void): number {
    const { up, down, H, h, L } = this;
    const buf = this.buf;
    const base = this.nIn - H; // input index held by row 0
    const nEnd = this.nIn + n;
    let P = this.nextP;
    let e = 0;
    for (; Math.floor(P / up) < nEnd; e++, P += down) {
      const nHi = Math.floor(P / up);
      const phase = P - nHi * up;
      // four channels at a time with register accumulators (one load per multiply-add)
      const o0 = e * C;
      let c = 0;
      for (; c + 3 < C; c += 4) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let j = 0, k = phase; k < L; j++, k += up) {
          const nIdx = nHi - j;
          if (nIdx < 0) break;
          const coef = h[k]!;
          const row = (nIdx - base) * C + c;
          s0 += coef * buf[row]!; s1 += coef * buf[row + 1]!; s2 += coef * buf[row + 2]!; s3 += coef * buf[row + 3]!;
        }
        out[o0 + c] = s0; out[o0 + c + 1] = s1; out[o0 + c + 2] = s2; out[o0 + c + 3] = s3;
      }
      for (; c < C; c++) {
        let s0 = 0;
        for (let j = 0, k = phase; k < L; j++, k += up) {
          const nIdx = nHi - j;
          if (nIdx < 0) break;
          s0 += h[k]! * buf[(nIdx - base) * C + c]!;
        }
        out[o0 + c] = s0;
      }
      emit(e, nHi, phase);
    }
    this.nextP = P;
    this.nIn = nEnd;
    buf.copyWithin(0, n * C, (n + H) * C);
    return e;
  }

  /** Number of outputs the next `n` input samples will produce. */
  outputsFor(n: number): number {
    let count = 0;
    for (let P = this.nextP; Math.floor(P / this.up) < this.nIn + n; P += this.down) count++;
    return count;
  }

  /** Float64 path (known-answer tests): x is samples × nch; returns the outputs (samples × nch). */
  processF64(x: Float64Array, nch: number, fsIn?: number): Float64Array {
    const n = x.length / nch;
    this.prepare(fsIn ?? this.fsIn, nch, `f64:${nch}`, n);
    const out = new Float64Array(this.outputsFor(n) * nch);
    this.buf.set(x, this.H * nch);
    this.run(n, nch, out, () => {});
    return out;
  }

  process(chunk: SignalChunk): SignalChunk | null {
    const C = chunk.channels.length;
    const n = nSamples(chunk);
    this.prepare(chunk.srate, C, channelKey(chunk.channels), n);
    const count = this.outputsFor(n);
    const out = new Float64Array(count * C);
    const ts = new Float64Array(count);
    this.buf.set(chunk.data, this.H * C);
    const tIn = chunk.timestamps;
    const nIn0 = this.nIn;
    const upFs = this.up * this.fsIn;
    // Causal timestamp: time of the newest input used, plus the sub-sample phase.
    this.run(n, C, out, (e, nHi, phase) => { ts[e] = tIn[nHi - nIn0]! + phase / upFs; });
    if (count === 0) return null;
    return { kind: 'signal', stream: chunk.stream, data: Float32Array.from(out), timestamps: ts, channels: chunk.channels, srate: this.fsOut };
  }
}
