/**
 * Frame features for DIVER-S, computed in TypeScript before the model so the
 * ONNX graph stays small and montage/rate independent:
 *
 *  - patch: the channel's samples in the current frame, box-averaged (or
 *    linearly interpolated when the frame has fewer samples) to PATCH_LEN
 *    points, mean-removed and divided by the channel's std over the context;
 *  - log band power over the last CONTEXT_FRAMES frames (Hann window, FFT) in
 *    fixed bands in Hz up to the stream's Nyquist (bands above it read 0), so
 *    high gamma, ripples and fast ripples survive on iEEG rates; centred on the
 *    frame's mean log power (scale free: µV or V give the same features);
 *  - position code per channel (POS_DIM): normalised coordinates when given,
 *    otherwise a montage-free code from the label (SEEG: shaft + contact make
 *    pseudo-coordinates along a line, so neighbours stay neighbours).
 */
import type { ChannelInfo } from '../types.ts';

export const PATCH_LEN = 16;
/** Band edges in Hz. The last band runs to Nyquist. */
export const BANDS_HZ: ReadonlyArray<readonly [number, number]> = [
  [1, 4], [4, 8], [8, 13], [13, 20], [20, 30], [30, 45], [45, 70], [70, 110],
  [110, 170], [170, 250], [250, 500], [500, Infinity],
];
export const POS_DIM = 32;
export const CONTEXT_FRAMES = 4;
export const FEAT_DIM = PATCH_LEN + BANDS_HZ.length;

const TYPES = ['EEG', 'SEEG', 'ECOG', 'MEG'];

function hash32(s: string, seed: number): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  h ^= h >>> 15;
  h = Math.imul(h, 2246822507) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
/** Deterministic value in [-1, 1) from a string. */
function hashUnit(s: string, seed: number): number {
  return hash32(s, seed) / 2147483648 - 1;
}

/**
 * Coordinates scaled so a head spans about [-1, 1]: metres (head radius
 * ≈ 0.09) are divided by 0.1, millimetres by 100, and unit-sphere montages
 * (median radius between 0.3 and 3) are kept as they are.
 */
function normaliseCoords(channels: ChannelInfo[]): ([number, number, number] | null)[] {
  const mags: number[] = [];
  for (const c of channels) if (c.pos) mags.push(Math.hypot(c.pos[0], c.pos[1], c.pos[2]));
  mags.sort((a, b) => a - b);
  const med = mags.length ? mags[mags.length >> 1] : 0;
  const k = med <= 0.3 ? 10 : med <= 3 ? 1 : 0.01;
  return channels.map((c) => (c.pos ? [c.pos[0] * k, c.pos[1] * k, c.pos[2] * k] : null));
}

/**
 * Per-channel position codes [C, POS_DIM], row-major. Depends only on each
 * channel's own identity (label, type, position, shaft/contact), never on its
 * index, so permuting channels permutes the rows.
 */
export function positionCodes(channels: ChannelInfo[]): Float32Array {
  const C = channels.length;
  const out = new Float32Array(C * POS_DIM);
  const coords = normaliseCoords(channels);
  for (let c = 0; c < C; c++) {
    const ch = channels[c];
    const o = c * POS_DIM;
    let xyz = coords[c];
    let has = xyz ? 1 : 0;
    if (!xyz && ch.shaft !== undefined) {
      // montage-free line per shaft: entry point on a sphere, contacts ~3.5 mm apart toward the centre
      const u = [hashUnit(ch.shaft, 1), hashUnit(ch.shaft, 2), hashUnit(ch.shaft, 3)];
      const n = Math.hypot(u[0], u[1], u[2]) || 1;
      const k = ch.contact ?? 1;
      const r = Math.max(0.1, 0.8 - 0.035 * (k - 1));
      xyz = [(u[0] / n) * r, (u[1] / n) * r, (u[2] / n) * r];
      has = 0.5;
    }
    if (xyz) {
      out[o] = xyz[0];
      out[o + 1] = xyz[1];
      out[o + 2] = xyz[2];
    }
    out[o + 3] = has;
    const ti = TYPES.indexOf((ch.type ?? '').toUpperCase());
    out[o + 4 + (ti < 0 ? 4 : ti)] = 1;
    if (xyz) {
      let j = o + 9;
      for (const f of [1, 2, 4]) {
        for (let d = 0; d < 3; d++) {
          out[j++] = Math.sin(Math.PI * f * xyz[d]);
          out[j++] = Math.cos(Math.PI * f * xyz[d]);
        }
      }
    }
    if (has < 1) {
      const key = ch.shaft !== undefined ? `${ch.shaft}` : ch.label;
      for (let d = 0; d < 5; d++) out[o + 27 + d] = hashUnit(key.toUpperCase(), 10 + d);
    }
  }
  return out;
}

// ---------------------------------------------------------------- FFT

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();
function plan(n: number) {
  let p = twiddleCache.get(n);
  if (p) return p;
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / n);
    sin[i] = -Math.sin((2 * Math.PI * i) / n);
  }
  const rev = new Uint32Array(n);
  const bits = Math.log2(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  p = { cos, sin, rev };
  twiddleCache.set(n, p);
  return p;
}

/** In-place iterative radix-2 complex FFT (n a power of two). */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  const { cos, sin, rev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let s = 0; s < n; s += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sin[k * step];
        const a = s + k;
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

// ---------------------------------------------------------------- featurizer

export interface ModelInputs {
  /** [C, FEAT_DIM] row-major. */
  x: Float32Array;
  /** [C, POS_DIM] row-major. */
  posCode: Float32Array;
  nChannels: number;
  featDim: number;
  posDim: number;
}

/**
 * Stateful per-stream featurizer: keeps the last CONTEXT_FRAMES hops of
 * samples for the band powers. One instance per stream (state lives in the
 * stage object, never in globals).
 */
export class FrameFeaturizer {
  readonly nChannels: number;
  readonly srate: number;
  readonly posCode: Float32Array;
  private readonly ctxLen: number;
  private readonly nfft: number;
  private readonly ring: Float32Array; // [C, ctxLen], oldest first
  private filled = 0;
  private readonly hann: Float64Array;
  private readonly binBand: Int16Array; // bin → band index or -1
  private readonly bandValid: Uint8Array;
  private readonly bandFallbackBin: Int32Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(channels: ChannelInfo[], srate: number, hopMs = 80) {
    this.nChannels = channels.length;
    this.srate = srate;
    this.posCode = positionCodes(channels);
    this.ctxLen = Math.max(8, Math.round((CONTEXT_FRAMES * hopMs * srate) / 1000));
    let n = 1;
    while (n < this.ctxLen) n <<= 1;
    this.nfft = n;
    this.ring = new Float32Array(this.nChannels * this.ctxLen);
    this.hann = new Float64Array(this.ctxLen);
    for (let i = 0; i < this.ctxLen; i++) this.hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / this.ctxLen);
    const nyq = srate / 2;
    this.binBand = new Int16Array(n / 2 + 1).fill(-1);
    this.bandValid = new Uint8Array(BANDS_HZ.length);
    this.bandFallbackBin = new Int32Array(BANDS_HZ.length).fill(-1);
    const df = srate / n;
    for (let b = 0; b < BANDS_HZ.length; b++) {
      const [lo, hiRaw] = BANDS_HZ[b];
      const hi = Math.min(hiRaw, nyq + 1e-9);
      if (lo >= nyq) continue;
      this.bandValid[b] = 1;
      let any = false;
      for (let k = 1; k <= n / 2; k++) {
        const f = k * df;
        if (f >= lo && f < hi) {
          this.binBand[k] = b;
          any = true;
        }
      }
      if (!any) this.bandFallbackBin[b] = Math.min(n / 2, Math.max(1, Math.round((lo + Math.min(hi, nyq)) / 2 / df)));
    }
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
  }

  reset(): void {
    this.ring.fill(0);
    this.filled = 0;
  }

  /**
   * Features of one frame. `chunk` holds the frame's samples × channels,
   * row-major (as SignalChunk.data). Writes into `out` ([C, FEAT_DIM]) when given.
   */
  push(chunk: Float32Array, out?: Float32Array): ModelInputs {
    const C = this.nChannels;
    if (chunk.length % C !== 0) throw new Error(`frame length ${chunk.length} is not a multiple of ${C} channels`);
    const n = chunk.length / C;
    const L = this.ctxLen;
    const x = out ?? new Float32Array(C * FEAT_DIM);
    // shift ring left by n and append
    const keep = Math.max(0, L - n);
    for (let c = 0; c < C; c++) {
      const r = c * L;
      if (keep > 0) this.ring.copyWithin(r, r + (L - keep), r + L);
      const start = Math.max(0, n - L);
      for (let i = start; i < n; i++) this.ring[r + keep + (i - start)] = chunk[i * C + c];
    }
    this.filled = Math.min(L, this.filled + n);
    const nb = BANDS_HZ.length;
    const bandPow = new Float64Array(nb);
    const bandCnt = new Int32Array(nb);
    let sumLp = 0;
    let cntLp = 0;
    for (let c = 0; c < C; c++) {
      const r = c * L;
      const o = c * FEAT_DIM;
      // context mean/std (only the filled part)
      let mean = 0;
      for (let i = L - this.filled; i < L; i++) mean += this.ring[r + i];
      mean /= this.filled || 1;
      let v = 0;
      for (let i = L - this.filled; i < L; i++) {
        const d = this.ring[r + i] - mean;
        v += d * d;
      }
      const sd = Math.sqrt(v / (this.filled || 1)) + 1e-12;
      // patch
      let fm = 0;
      for (let i = 0; i < n; i++) fm += chunk[i * C + c];
      fm /= n || 1;
      for (let p = 0; p < PATCH_LEN; p++) {
        let val: number;
        if (n >= PATCH_LEN) {
          const a = Math.floor((p * n) / PATCH_LEN);
          const b = Math.floor(((p + 1) * n) / PATCH_LEN);
          let s = 0;
          for (let i = a; i < b; i++) s += chunk[i * C + c];
          val = s / (b - a);
        } else if (n > 1) {
          const pos = (p * (n - 1)) / (PATCH_LEN - 1);
          const i0 = Math.floor(pos);
          const i1 = Math.min(n - 1, i0 + 1);
          const w = pos - i0;
          val = chunk[i0 * C + c] * (1 - w) + chunk[i1 * C + c] * w;
        } else {
          val = n === 1 ? chunk[c] : fm;
        }
        const z = (val - fm) / sd;
        x[o + p] = z > 6 ? 6 : z < -6 ? -6 : z;
      }
      // spectrum of the Hann-windowed context
      this.re.fill(0);
      this.im.fill(0);
      for (let i = 0; i < L; i++) this.re[i] = (this.ring[r + i] - mean) * this.hann[i];
      fft(this.re, this.im);
      bandPow.fill(0);
      bandCnt.fill(0);
      for (let k = 1; k <= this.nfft / 2; k++) {
        const b = this.binBand[k];
        if (b < 0) continue;
        bandPow[b] += this.re[k] * this.re[k] + this.im[k] * this.im[k];
        bandCnt[b]++;
      }
      for (let b = 0; b < nb; b++) {
        if (!this.bandValid[b]) {
          x[o + PATCH_LEN + b] = 0;
          continue;
        }
        let pw: number;
        if (bandCnt[b] > 0) pw = bandPow[b] / bandCnt[b];
        else {
          const k = this.bandFallbackBin[b];
          pw = this.re[k] * this.re[k] + this.im[k] * this.im[k];
        }
        const lp = Math.log(pw + 1e-30);
        x[o + PATCH_LEN + b] = lp;
        sumLp += lp;
        cntLp++;
      }
    }
    const centre = cntLp ? sumLp / cntLp : 0;
    for (let c = 0; c < C; c++) {
      const o = c * FEAT_DIM + PATCH_LEN;
      for (let b = 0; b < nb; b++) {
        if (!this.bandValid[b]) continue;
        const z = (x[o + b] - centre) * 0.25;
        x[o + b] = z > 8 ? 8 : z < -8 ? -8 : z;
      }
    }
    return { x, posCode: this.posCode, nChannels: C, featDim: FEAT_DIM, posDim: POS_DIM };
  }
}

const featurizers = new WeakMap<ChannelInfo[], FrameFeaturizer>();

/**
 * Model inputs for one frame of one stream. The featurizer state (context for
 * the band powers) is kept per `channels` array; pass `state` to control it
 * explicitly (one FrameFeaturizer per stream).
 */
export function frameFeatures(
  chunkOfOneFrame: Float32Array,
  nChannels: number,
  srate: number,
  channels: ChannelInfo[],
  state?: FrameFeaturizer,
): ModelInputs {
  if (channels.length !== nChannels) throw new Error(`channels has ${channels.length} entries, expected ${nChannels}`);
  let f = state ?? featurizers.get(channels);
  if (!f || f.srate !== srate || f.nChannels !== nChannels) {
    f = new FrameFeaturizer(channels, srate);
    if (!state) featurizers.set(channels, f);
  }
  return f.push(chunkOfOneFrame);
}
