/**
 * The tokenize stage for DIVER-S: per-frame, per-channel features computed in
 * TypeScript before the model so the ONNX graph stays small and montage/rate
 * independent:
 *
 *  - patch: the channel's samples in the current frame, box-averaged (or
 *    linearly interpolated when the frame has fewer samples) to PATCH_LEN
 *    points, minus the channel's mean over the last 0.96 s (so slow ERPs such
 *    as the P300 survive) and divided by its std;
 *  - log band power (Hann window, real FFT): bands ≤ 30 Hz over the last
 *    CONTEXT_FRAMES frames (box-decimated to ≥ 128 Hz), higher bands over the
 *    last SHORT_FRAMES frames at the full rate, in
 *    fixed bands in Hz up to the stream's Nyquist (bands above it read 0), so
 *    high gamma, ripples and fast ripples survive on iEEG rates; centred on the
 *    frame's mean log power (scale free: µV or V give the same features) and
 *    given relative to a 30 s moving baseline per channel and band;
 *  - position code per channel (POS_DIM): normalised coordinates when given,
 *    otherwise a montage-free code from the label (SEEG: shaft + contact make
 *    pseudo-coordinates along a line, so neighbours stay neighbours).
 *
 * Cost (docs/benchmarks.md, "Tokenize"): per new sample O(1) per channel (ring
 * writes, running sums, decimation); per frame two real FFTs per channel
 * through plans built once in the constructor, and no allocation besides the
 * output.
 */
import type { ChannelInfo } from '../types.ts';
import { mulberry32 } from '../dsp/chunk.ts';
import { RealFftPlan } from '../dsp/fft.ts';

export const PATCH_LEN = 16;
/**
 * Band edges in Hz. The last band runs to Nyquist. Below 30 Hz the bands are
 * 2–5 Hz wide so SSVEP stimulation rates (8.57 / 10 / 12 / 15 Hz) and mu/beta
 * land in different bands.
 */
export const BANDS_HZ: ReadonlyArray<readonly [number, number]> = [
  [1, 3], [3, 5], [5, 7], [7, 9], [9, 11], [11, 13], [13, 16], [16, 20], [20, 25], [25, 30],
  [30, 45], [45, 70], [70, 110], [110, 170], [170, 250], [250, 500], [500, Infinity],
];
/** Bands whose upper edge is ≤ this use the long (decimated) window, the rest the short one. */
export const LONG_BAND_MAX_HZ = 30;
/** Position code length: 32 coarse dims (coordinates, type, Fourier, label hash) + FINE_POS random Fourier dims. */
export const POS_DIM = 48;
/**
 * Fine position code, for intracranial contacts (SEEG, ECoG) only: random
 * Fourier features cos(ω·p + φ) of the normalised coordinates, half with
 * ‖ω‖ on the scale of 8 and half of 32 rad per unit (a unit is 10 cm on the
 * head). The coarse Fourier terms (1–4 cycles per unit) cannot tell SEEG
 * contacts 3.5 mm apart, so a linear read-out could not weight one contact
 * against its neighbour; with these it can (linear probe of SEEG word
 * identity on the channel-mean pos ⊗ high-gamma summary: 0.135 → 0.19–0.24,
 * chance 0.10). Scalp sensors (EEG, MEG) are centimetres apart, where these
 * frequencies only alias into per-electrode noise, so their fine dims are 0.
 */
export const FINE_POS = 16;
const FINE_OMEGA: ReadonlyArray<readonly [number, number, number, number]> = (() => {
  const r = mulberry32(0x5eed);
  const g = () => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  return Array.from({ length: FINE_POS }, (_, i) => {
    const s = i < FINE_POS / 2 ? 8 : 32;
    return [s * g(), s * g(), s * g(), 2 * Math.PI * r()] as const;
  });
})();
/** Long context (frames) for the low bands and the patch baseline: 12 × 80 ms = 0.96 s. */
export const CONTEXT_FRAMES = 12;
/** Short context (frames) for the bands above 30 Hz: 2 × 80 ms = 160 ms at the full rate. */
export const SHORT_FRAMES = 2;
/**
 * Band powers are given relative to a slow per-channel baseline: an
 * exponential moving average of the (centred) log power with this time
 * constant in frames (30 s at 80 ms; a running mean while fewer frames were
 * seen). This is the ERD/ERS convention (change against a reference period)
 * and removes the recording-to-recording offsets that otherwise dominate.
 */
export const BASELINE_FRAMES = 375;
/** The long window is box-decimated to at least this rate (Hz) before its FFT. */
export const LONG_MIN_RATE = 128;
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
    if (xyz && (TYPES[ti] === 'SEEG' || TYPES[ti] === 'ECOG')) for (let j = 0; j < FINE_POS; j++) {
      const [a, b, c2, ph] = FINE_OMEGA[j];
      out[o + 32 + j] = Math.cos(a * xyz[0] + b * xyz[1] + c2 * xyz[2] + ph);
    }
  }
  return out;
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
 * One Hann-windowed spectrum over a ring of samples per channel, summarised
 * into bands: window, FFT plan, band→bin ranges and scratch, all built once.
 */
class BandWindow {
  readonly len: number;
  readonly nfft: number;
  readonly win: Float64Array;
  /** One-sided PSD scale (constant factors cancel in the centring). */
  readonly norm: number;
  readonly nBins: number;
  readonly band: Uint8Array;
  readonly lo: Uint16Array;
  readonly hi: Uint16Array;
  readonly plan: RealFftPlan;
  readonly pow: Float64Array;

  constructor(len: number, rate: number, bands: number[], nyquist: number) {
    this.len = len;
    let n = 4;
    while (n < len) n <<= 1;
    this.nfft = n;
    this.win = new Float64Array(len);
    let w2 = 0;
    for (let i = 0; i < len; i++) {
      this.win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / len);
      w2 += this.win[i]! * this.win[i]!;
    }
    this.norm = 1 / (w2 * rate);
    const df = rate / n;
    this.nBins = bands.length;
    this.band = new Uint8Array(bands.length);
    this.lo = new Uint16Array(bands.length);
    this.hi = new Uint16Array(bands.length);
    bands.forEach((b, j) => {
      const [lo, hiRaw] = BANDS_HZ[b]!;
      const hi = Math.min(hiRaw, nyquist + 1e-9);
      let k0 = -1;
      let k1 = -1;
      for (let k = 1; k <= n / 2; k++) {
        const f = k * df;
        if (f >= lo && f < hi) {
          if (k0 < 0) k0 = k;
          k1 = k;
        }
      }
      if (k0 < 0) k0 = k1 = Math.min(n / 2, Math.max(1, Math.round((lo + hi) / 2 / df)));
      this.band[j] = b;
      this.lo[j] = k0;
      this.hi[j] = k1;
    });
    this.plan = new RealFftPlan(n);
    this.pow = new Float64Array(n / 2 + 1);
  }
}

/**
 * One ring of samples per channel ([C, len], circular) with running sums for
 * its mean and variance. The sums are kept relative to a per-channel shift
 * (the ring's mean when last recomputed) so a large DC offset does not cancel
 * the variance away, and are recomputed exactly each time the ring wraps, so
 * rounding cannot drift over hours: O(1) per sample, amortised.
 */
interface RingState {
  readonly len: number;
  /**
   * [C, len]; unwritten slots hold 0. Float32 for the full-rate ring (its
   * samples arrive as float32, so nothing is rounded, and the ring is half
   * the memory a frame streams through), float64 for the decimated one.
   */
  readonly data: Float32Array | Float64Array;
  /** Next write index (shared by all channels). */
  head: number;
  /** Slots written so far (≤ len). */
  filled: number;
  /** [C] shift, Σ(v − shift), Σ(v − shift)² over the written slots. */
  readonly shift: Float64Array;
  readonly s1: Float64Array;
  readonly s2: Float64Array;
}

function ringState(C: number, len: number, f32: boolean): RingState {
  return { len, data: f32 ? new Float32Array(C * len) : new Float64Array(C * len), head: 0, filled: 0, shift: new Float64Array(C), s1: new Float64Array(C), s2: new Float64Array(C) };
}

function clearRing(r: RingState): void {
  r.data.fill(0);
  r.shift.fill(0);
  r.s1.fill(0);
  r.s2.fill(0);
  r.head = r.filled = 0;
}

/** Exact sums of channel c's written slots around a new shift (their mean). */
function recomputeSums(r: RingState, c: number, head: number, f: number): void {
  const L = r.len;
  const o = c * L;
  const d = r.data;
  // written slots are [head − filled, head) mod len; while filling, head = filled
  let sum = 0;
  for (let i = 0; i < f; i++) sum += d[o + ((head - f + i + L) % L)]!;
  const k = f > 0 ? sum / f : 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < f; i++) {
    const v = d[o + ((head - f + i + L) % L)]! - k;
    a += v;
    b += v * v;
  }
  r.shift[c] = k;
  r.s1[c] = a;
  r.s2[c] = b;
}

/** Everything the featurizer remembers between frames; `reset()` clears it. */
export interface FeaturizerState {
  /** Box-decimated ring of the last CONTEXT_FRAMES hops (low bands, patch baseline). */
  readonly long: RingState;
  /** Full-rate ring of the last SHORT_FRAMES hops (bands above 30 Hz). */
  readonly short: RingState;
  /** [C] partial box sums of the decimator and how many samples they hold. */
  readonly acc: Float64Array;
  accN: number;
  /** [C, nBands] slow log-power baseline. */
  readonly base: Float64Array;
  /** Frames featurized since the last reset. */
  nFrames: number;
}

/**
 * The DIVER-S tokenize stage for one stream: `push(frame)` takes the frame's
 * new samples and returns the model inputs of that frame. Ring, decimator and
 * baseline live in `state`; FFT plans, windows and scratch are built in the
 * constructor and never change. One instance per stream.
 */
export class FrameFeaturizer {
  readonly name = 'tokenize';
  readonly nChannels: number;
  readonly srate: number;
  readonly posCode: Float32Array;
  readonly state: FeaturizerState;
  private readonly q: number; // decimation factor of the long ring
  private readonly longWin: BandWindow;
  private readonly shortWin: BandWindow;
  private readonly bandValid: Uint8Array;
  // per-frame scratch, reused
  private readonly patch: Float64Array; // [PATCH_LEN, C]

  constructor(channels: ChannelInfo[], srate: number, hopMs = 80) {
    const C = channels.length;
    this.nChannels = C;
    this.srate = srate;
    this.posCode = positionCodes(channels);
    this.q = Math.max(1, Math.floor(srate / LONG_MIN_RATE));
    const decRate = srate / this.q;
    const longLen = Math.max(8, Math.round((CONTEXT_FRAMES * hopMs * decRate) / 1000));
    const shortLen = Math.max(8, Math.round((SHORT_FRAMES * hopMs * srate) / 1000));
    const nyq = srate / 2;
    this.bandValid = new Uint8Array(BANDS_HZ.length);
    const lowB: number[] = [];
    const highB: number[] = [];
    for (let b = 0; b < BANDS_HZ.length; b++) {
      if (BANDS_HZ[b]![0] >= nyq) continue;
      this.bandValid[b] = 1;
      (BANDS_HZ[b]![1] <= LONG_BAND_MAX_HZ && BANDS_HZ[b]![1] < decRate / 2 ? lowB : highB).push(b);
    }
    this.longWin = new BandWindow(longLen, decRate, lowB, decRate / 2);
    this.shortWin = new BandWindow(shortLen, srate, highB, nyq);
    this.state = {
      long: ringState(C, longLen, false),
      short: ringState(C, shortLen, true),
      acc: new Float64Array(C),
      accN: 0,
      base: new Float64Array(C * BANDS_HZ.length),
      nFrames: 0,
    };
    this.patch = new Float64Array(PATCH_LEN * C);
  }

  /** Forget all context (a new session or a stream restart). */
  reset(): void {
    const s = this.state;
    clearRing(s.long);
    clearRing(s.short);
    s.acc.fill(0);
    s.accN = 0;
    s.base.fill(0);
    s.nFrames = 0;
  }

  /**
   * Ingest new samples ([n, C] row-major) channel by channel, so each channel's
   * ring writes and running sums stay in registers and contiguous memory (the
   * strided reads of the chunk stay in L1 across neighbouring channels):
   * full-rate ring, box decimator, long ring.
   */
  private ingest(chunk: Float32Array, n: number): void {
    if (n === 0) return;
    const C = this.nChannels;
    const st = this.state;
    const q = this.q;
    const sr = st.short;
    const lr = st.long;
    const SL = sr.len;
    const LL = lr.len;
    const acc = st.acc;
    const h0 = sr.head, f0 = sr.filled, lh0 = lr.head, lf0 = lr.filled, accN0 = st.accN;
    let h = h0, f = f0, lh = lh0, lf = lf0, accN = accN0;
    for (let c = 0; c < C; c++) {
      // full-rate ring (every channel starts from the same head and fill)
      h = h0;
      f = f0;
      let k = sr.shift[c]!;
      let a1 = sr.s1[c]!;
      let a2 = sr.s2[c]!;
      const d = sr.data;
      const o = c * SL;
      // long ring (decimated; q = 1: every sample)
      lh = lh0;
      lf = lf0;
      accN = accN0;
      let acc0 = acc[c]!;
      let kl = lr.shift[c]!;
      let l1 = lr.s1[c]!;
      let l2 = lr.s2[c]!;
      const dl = lr.data;
      const ol = c * LL;
      for (let i = 0; i < n; i++) {
        const v = chunk[i * C + c]!;
        if (f === 0) k = v; // a shift near the data from the first sample on
        const y = v - k;
        if (f === SL) {
          const z = d[o + h]! - k;
          a1 += y - z;
          a2 += y * y - z * z;
        } else {
          a1 += y;
          a2 += y * y;
          f++;
        }
        d[o + h] = v;
        if (++h === SL) {
          h = 0;
          recomputeSums(sr, c, 0, f);
          k = sr.shift[c]!; a1 = sr.s1[c]!; a2 = sr.s2[c]!;
        }
        let u: number;
        if (q === 1) u = v;
        else {
          acc0 += v;
          if (++accN < q) continue;
          u = acc0 / q;
          acc0 = 0;
          accN = 0;
        }
        if (lf === 0) kl = u;
        const yl = u - kl;
        if (lf === LL) {
          const z = dl[ol + lh]! - kl;
          l1 += yl - z;
          l2 += yl * yl - z * z;
        } else {
          l1 += yl;
          l2 += yl * yl;
          lf++;
        }
        dl[ol + lh] = u;
        if (++lh === LL) {
          lh = 0;
          recomputeSums(lr, c, 0, lf);
          kl = lr.shift[c]!; l1 = lr.s1[c]!; l2 = lr.s2[c]!;
        }
      }
      sr.shift[c] = k; sr.s1[c] = a1; sr.s2[c] = a2;
      lr.shift[c] = kl; lr.s1[c] = l1; lr.s2[c] = l2;
      acc[c] = acc0;
    }
    sr.head = h;
    sr.filled = f;
    lr.head = lh;
    lr.filled = lf;
    st.accN = accN;
  }

  /**
   * Log band powers (uncentred) of channel c's ring into x[o + PATCH_LEN + band]:
   * the `filled` newest slots, oldest first, minus `mean`, Hann-windowed,
   * zero-padded in front while the ring fills.
   */
  private bands(w: BandWindow, r: RingState, c: number, mean: number, x: Float32Array, o: number): void {
    if (w.nBins === 0) return;
    const L = r.len;
    const d = r.data;
    const pow = w.plan.powerOfRing(d, c * L, L, r.head, L - r.filled, mean, w.win, w.pow);
    for (let j = 0; j < w.nBins; j++) {
      const lo = w.lo[j]!;
      const hi = w.hi[j]!;
      let s = 0;
      for (let k = lo; k <= hi; k++) s += pow[k]!;
      x[o + PATCH_LEN + w.band[j]!] = Math.log((s / (hi - lo + 1)) * w.norm + 1e-30);
    }
  }

  /**
   * Features of one frame. `chunk` holds the frame's samples × channels,
   * row-major (as SignalChunk.data); frames may differ in length. Writes into
   * `out` ([C, FEAT_DIM]) when given, else into a new array.
   */
  push(chunk: Float32Array, out?: Float32Array): ModelInputs {
    const C = this.nChannels;
    if (chunk.length % C !== 0) throw new Error(`frame length ${chunk.length} is not a multiple of ${C} channels`);
    const n = chunk.length / C;
    const x = out ?? new Float32Array(C * FEAT_DIM);
    if (x.length !== C * FEAT_DIM) throw new Error(`output has ${x.length} values, expected ${C * FEAT_DIM}`);
    this.ingest(chunk, n);
    const st = this.state;
    const long = st.long;
    const short = st.short;
    // patch sums, sample-major (the chunk's own order): pat[p·C + c]
    const pat = this.patch;
    if (n >= PATCH_LEN) {
      for (let p = 0; p < PATCH_LEN; p++) {
        const a = Math.floor((p * n) / PATCH_LEN);
        const b = Math.floor(((p + 1) * n) / PATCH_LEN);
        const po = p * C;
        for (let c = 0; c < C; c++) pat[po + c] = 0;
        for (let i = a; i < b; i++) {
          const row = i * C;
          for (let c = 0; c < C; c++) pat[po + c]! += chunk[row + c]!;
        }
        const inv = b - a;
        for (let c = 0; c < C; c++) pat[po + c]! /= inv;
      }
    } else if (n > 1) {
      for (let p = 0; p < PATCH_LEN; p++) {
        const pos = (p * (n - 1)) / (PATCH_LEN - 1);
        const i0 = Math.floor(pos);
        const i1 = Math.min(n - 1, i0 + 1);
        const w = pos - i0;
        const po = p * C;
        for (let c = 0; c < C; c++) pat[po + c] = chunk[i0 * C + c]! * (1 - w) + chunk[i1 * C + c]! * w;
      }
    } else if (n === 1) {
      for (let p = 0; p < PATCH_LEN; p++) for (let c = 0; c < C; c++) pat[p * C + c] = chunk[c]!;
    }
    const nb = BANDS_HZ.length;
    const valid = this.bandValid;
    const lf = long.filled;
    const sf = short.filled;
    let sumLp = 0;
    let cntLp = 0;
    for (let c = 0; c < C; c++) {
      const o = c * FEAT_DIM;
      // baseline: mean of the long (0.96 s) context; scale: its variance plus the short ring's
      const dl = lf > 0 ? long.s1[c]! / lf : 0;
      const ds = sf > 0 ? short.s1[c]! / sf : 0;
      const vl = lf > 0 ? Math.max(0, long.s2[c]! / lf - dl * dl) : 0;
      const vs = sf > 0 ? Math.max(0, short.s2[c]! / sf - ds * ds) : 0;
      const ms = sf > 0 ? short.shift[c]! + ds : 0;
      const mean = lf > 0 ? long.shift[c]! + dl : ms;
      const sd = Math.sqrt(vl + vs) + 1e-12;
      for (let p = 0; p < PATCH_LEN; p++) {
        const val = n > 0 ? pat[p * C + c]! : mean;
        const z = (val - mean) / sd;
        x[o + p] = z > 6 ? 6 : z < -6 ? -6 : z;
      }
      this.bands(this.longWin, long, c, mean, x, o);
      this.bands(this.shortWin, short, c, ms, x, o);
      for (let b = 0; b < nb; b++) {
        if (!valid[b]) {
          x[o + PATCH_LEN + b] = 0;
          continue;
        }
        sumLp += x[o + PATCH_LEN + b]!;
        cntLp++;
      }
    }
    // centre on the frame's mean log power (scale free), then relative to the slow baseline
    const centre = cntLp ? sumLp / cntLp : 0;
    const first = st.nFrames === 0;
    const a = Math.max(1 / (st.nFrames + 1), 1 / BASELINE_FRAMES);
    const base = st.base;
    for (let c = 0; c < C; c++) {
      const o = c * FEAT_DIM + PATCH_LEN;
      const ob = c * nb;
      for (let b = 0; b < nb; b++) {
        if (!valid[b]) continue;
        const lp = x[o + b]! - centre;
        const prev = first ? lp : base[ob + b]!;
        base[ob + b] = prev + a * (lp - prev);
        const z = (lp - prev) * 0.5;
        x[o + b] = z > 8 ? 8 : z < -8 ? -8 : z;
      }
    }
    st.nFrames++;
    return { x, posCode: this.posCode, nChannels: C, featDim: FEAT_DIM, posDim: POS_DIM };
  }
}
