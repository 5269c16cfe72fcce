/**
 * FROZEN reference: the DIVER-S frame featurizer as it was before the tokenize
 * stage was rewritten for speed (formerly src/model/features.ts): its FFT, rings
 * and featurizer loop; the unchanged constants and position codes are imported.
 * Do not edit:
 * it is the oracle for the equality test (test/tokenize/equality.test.ts) and
 * the baseline of bench/tokenize.ts. It lives under bench/ because bench/ may
 * not import from test/, while tests may import it from here.
 *
 * Frame features for DIVER-S, computed in TypeScript before the model so the
 * ONNX graph stays small and montage/rate independent:
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
 */
import type { ChannelInfo } from '../../src/types.ts';
// The constants and position codes did not change in the rewrite; they are shared
// with the tokenize stage so this file freezes only what was rewritten (FFT, rings).
import {
  BANDS_HZ, BASELINE_FRAMES, CONTEXT_FRAMES, FEAT_DIM, LONG_BAND_MAX_HZ, LONG_MIN_RATE, PATCH_LEN, POS_DIM, SHORT_FRAMES, positionCodes,
  type ModelInputs,
} from '../../src/tokenize/diver-features.ts';

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


/** Twiddles e^{-2πik/n}, k < n/2, for the real-input FFT. */
const realTwiddles = new Map<number, { c: Float64Array; s: Float64Array }>();
function realPlan(n: number) {
  let p = realTwiddles.get(n);
  if (!p) {
    const c = new Float64Array(n / 2 + 1);
    const s = new Float64Array(n / 2 + 1);
    for (let k = 0; k <= n / 2; k++) {
      c[k] = Math.cos((2 * Math.PI * k) / n);
      s[k] = Math.sin((2 * Math.PI * k) / n);
    }
    p = { c, s };
    realTwiddles.set(n, p);
  }
  return p;
}

/**
 * |X[k]|², k = 0..n/2, of a real signal x (length n, a power of two ≥ 4),
 * with one complex FFT of n/2 points (even samples → real part, odd →
 * imaginary part, then the usual split). `re`/`im` are scratch of n/2.
 */
export function rfftPower(x: Float64Array, out: Float64Array, re = new Float64Array(x.length / 2), im = new Float64Array(x.length / 2)): void {
  const n = x.length;
  const N = n >> 1;
  for (let m = 0; m < N; m++) {
    re[m] = x[2 * m];
    im[m] = x[2 * m + 1];
  }
  fft(re, im);
  const { c, s } = realPlan(n);
  for (let k = 0; k <= N; k++) {
    const a = k % N;
    const b = (N - k) % N;
    const er = 0.5 * (re[a] + re[b]);
    const ei = 0.5 * (im[a] - im[b]);
    const or = 0.5 * (im[a] + im[b]);
    const oi = -0.5 * (re[a] - re[b]);
    const xr = er + c[k] * or + s[k] * oi;
    const xi = ei + c[k] * oi - s[k] * or;
    out[k] = xr * xr + xi * xi;
  }
}

/** One Hann-windowed spectrum over a ring of samples per channel, summarised into bands. */
class BandWindow {
  readonly len: number;
  readonly nfft: number;
  readonly win: Float64Array;
  readonly norm: number;
  readonly bins: { band: number; lo: number; hi: number }[] = [];
  readonly buf: Float64Array<ArrayBuffer>;
  readonly pow: Float64Array<ArrayBuffer>;
  readonly re: Float64Array<ArrayBuffer>;
  readonly im: Float64Array<ArrayBuffer>;
  constructor(len: number, rate: number, bands: number[], nyquist: number) {
    this.len = len;
    let n = 4;
    while (n < len) n <<= 1;
    this.nfft = n;
    this.win = new Float64Array(len);
    let w2 = 0;
    for (let i = 0; i < len; i++) {
      this.win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / len);
      w2 += this.win[i] * this.win[i];
    }
    this.norm = 1 / (w2 * rate); // one-sided PSD scale (constant factors cancel in the centring)
    const df = rate / n;
    for (const b of bands) {
      const [lo, hiRaw] = BANDS_HZ[b];
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
      this.bins.push({ band: b, lo: k0, hi: k1 });
    }
    this.buf = new Float64Array(n);
    this.pow = new Float64Array(n / 2 + 1);
    this.re = new Float64Array(n / 2);
    this.im = new Float64Array(n / 2);
  }
}

/**
 * Mean and variance of the `filled` most recent slots of one channel's ring
 * (slots [off, off+len), next write at `head`). Unwritten slots hold 0, so the
 * sum runs over all slots; the variance skips them while the ring fills.
 */
function ringStats(ring: Float64Array, off: number, len: number, filled: number, head: number): { mean: number; variance: number } {
  let mean = 0;
  for (let i = 0; i < len; i++) mean += ring[off + i];
  mean = filled > 0 ? mean / filled : 0;
  let variance = 0;
  if (filled > 0) {
    for (let i = 0; i < len; i++) {
      // only slots written so far: [head − filled, head)
      if (filled < len && (head - 1 - i + len) % len >= filled) continue;
      const d = ring[off + i] - mean;
      variance += d * d;
    }
    variance /= filled;
  }
  return { mean, variance };
}

/**
 * Stateful per-stream featurizer. State per channel: a box-decimated ring of
 * the last CONTEXT_FRAMES hops (≥ LONG_MIN_RATE Hz, for the low bands and the
 * patch baseline) and a full-rate ring of the last SHORT_FRAMES hops (for the
 * bands above 30 Hz). Both are circular, so a frame costs O(samples) plus two
 * small real FFTs per channel. One instance per stream.
 */
export class FrameFeaturizer {
  readonly nChannels: number;
  readonly srate: number;
  readonly posCode: Float32Array;
  private readonly q: number; // decimation factor of the long ring
  private readonly longLen: number;
  private readonly shortLen: number;
  private readonly longRing: Float64Array; // [C, longLen]
  private readonly shortRing: Float64Array; // [C, shortLen]
  private longHead = 0; // next write index
  private shortHead = 0;
  private longFilled = 0;
  private shortFilled = 0;
  private readonly acc: Float64Array; // [C] partial box sums
  private accN = 0;
  private readonly long: BandWindow;
  private readonly short: BandWindow;
  private readonly bandValid: Uint8Array;
  private readonly base: Float64Array; // [C, nBands] slow log-power baseline
  private nFrames = 0;

  constructor(channels: ChannelInfo[], srate: number, hopMs = 80) {
    const C = channels.length;
    this.base = new Float64Array(C * BANDS_HZ.length);
    this.nChannels = C;
    this.srate = srate;
    this.posCode = positionCodes(channels);
    this.q = Math.max(1, Math.floor(srate / LONG_MIN_RATE));
    const decRate = srate / this.q;
    this.longLen = Math.max(8, Math.round((CONTEXT_FRAMES * hopMs * decRate) / 1000));
    this.shortLen = Math.max(8, Math.round((SHORT_FRAMES * hopMs * srate) / 1000));
    this.longRing = new Float64Array(C * this.longLen);
    this.shortRing = new Float64Array(C * this.shortLen);
    this.acc = new Float64Array(C);
    const nyq = srate / 2;
    this.bandValid = new Uint8Array(BANDS_HZ.length);
    const lowB: number[] = [];
    const highB: number[] = [];
    for (let b = 0; b < BANDS_HZ.length; b++) {
      if (BANDS_HZ[b][0] >= nyq) continue;
      this.bandValid[b] = 1;
      (BANDS_HZ[b][1] <= LONG_BAND_MAX_HZ && BANDS_HZ[b][1] < decRate / 2 ? lowB : highB).push(b);
    }
    this.long = new BandWindow(this.longLen, decRate, lowB, decRate / 2);
    this.short = new BandWindow(this.shortLen, srate, highB, nyq);
  }

  reset(): void {
    this.longRing.fill(0);
    this.shortRing.fill(0);
    this.acc.fill(0);
    this.accN = 0;
    this.longHead = this.shortHead = this.longFilled = this.shortFilled = 0;
    this.base.fill(0);
    this.nFrames = 0;
  }

  /** Band powers of one channel's ring into x[o + PATCH_LEN + band] (log, uncentred). */
  private bands(w: BandWindow, ring: Float64Array, r: number, len: number, head: number, filled: number, mean: number, x: Float32Array, o: number): void {
    const buf = w.buf;
    buf.fill(0);
    // oldest → newest; unfilled slots stay at the mean (0 after removal)
    for (let i = len - filled; i < len; i++) {
      const j = head + i < len ? head + i : head + i - len;
      buf[i] = (ring[r + j] - mean) * w.win[i];
    }
    rfftPower(buf, w.pow, w.re, w.im);
    for (const bb of w.bins) {
      let s = 0;
      for (let k = bb.lo; k <= bb.hi; k++) s += w.pow[k];
      x[o + PATCH_LEN + bb.band] = Math.log((s / (bb.hi - bb.lo + 1)) * w.norm + 1e-30);
    }
  }

  /**
   * Features of one frame. `chunk` holds the frame's samples × channels,
   * row-major (as SignalChunk.data). Writes into `out` ([C, FEAT_DIM]) when given.
   */
  push(chunk: Float32Array, out?: Float32Array): ModelInputs {
    const C = this.nChannels;
    if (chunk.length % C !== 0) throw new Error(`frame length ${chunk.length} is not a multiple of ${C} channels`);
    const n = chunk.length / C;
    const x = out ?? new Float32Array(C * FEAT_DIM);
    const LL = this.longLen;
    const SL = this.shortLen;
    const q = this.q;
    // update the rings (sample-major over the chunk, channel-minor)
    for (let i = 0; i < n; i++) {
      const row = i * C;
      const sh = this.shortHead;
      for (let c = 0; c < C; c++) this.shortRing[c * SL + sh] = chunk[row + c];
      this.shortHead = sh + 1 === SL ? 0 : sh + 1;
      if (q === 1) {
        const lh = this.longHead;
        for (let c = 0; c < C; c++) this.longRing[c * LL + lh] = chunk[row + c];
        this.longHead = lh + 1 === LL ? 0 : lh + 1;
        this.longFilled = Math.min(LL, this.longFilled + 1);
      } else {
        for (let c = 0; c < C; c++) this.acc[c] += chunk[row + c];
        if (++this.accN === q) {
          const lh = this.longHead;
          for (let c = 0; c < C; c++) {
            this.longRing[c * LL + lh] = this.acc[c] / q;
            this.acc[c] = 0;
          }
          this.accN = 0;
          this.longHead = lh + 1 === LL ? 0 : lh + 1;
          this.longFilled = Math.min(LL, this.longFilled + 1);
        }
      }
    }
    this.shortFilled = Math.min(SL, this.shortFilled + n);
    const nb = BANDS_HZ.length;
    let sumLp = 0;
    let cntLp = 0;
    for (let c = 0; c < C; c++) {
      const o = c * FEAT_DIM;
      const rl = c * LL;
      const rs = c * SL;
      // baseline: mean of the long (0.96 s) context; scale: its variance plus the short ring's
      const lf = this.longFilled;
      const sf = this.shortFilled;
      const long = ringStats(this.longRing, rl, LL, lf, this.longHead);
      const short = ringStats(this.shortRing, rs, SL, sf, this.shortHead);
      let mean = long.mean;
      const vl = long.variance;
      const ms = short.mean;
      const vs = short.variance;
      if (lf === 0) mean = ms;
      const sd = Math.sqrt(vl + vs) + 1e-12;
      // patch: box-averaged (or interpolated) frame, relative to the 0.96 s baseline
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
          val = n === 1 ? chunk[c] : mean;
        }
        const z = (val - mean) / sd;
        x[o + p] = z > 6 ? 6 : z < -6 ? -6 : z;
      }
      this.bands(this.long, this.longRing, rl, LL, this.longHead, lf, mean, x, o);
      this.bands(this.short, this.shortRing, rs, SL, this.shortHead, Math.min(sf, SL), ms, x, o);
      for (let b = 0; b < nb; b++) {
        if (!this.bandValid[b]) {
          x[o + PATCH_LEN + b] = 0;
          continue;
        }
        sumLp += x[o + PATCH_LEN + b];
        cntLp++;
      }
    }
    // centre on the frame's mean log power (scale free), then relative to the slow baseline
    const centre = cntLp ? sumLp / cntLp : 0;
    const a = Math.max(1 / (this.nFrames + 1), 1 / BASELINE_FRAMES);
    for (let c = 0; c < C; c++) {
      const o = c * FEAT_DIM + PATCH_LEN;
      const ob = c * nb;
      for (let b = 0; b < nb; b++) {
        if (!this.bandValid[b]) continue;
        const lp = x[o + b] - centre;
        const prev = this.nFrames === 0 ? lp : this.base[ob + b];
        this.base[ob + b] = prev + a * (lp - prev);
        const z = (lp - prev) * 0.5;
        x[o + b] = z > 8 ? 8 : z < -8 ? -8 : z;
      }
    }
    this.nFrames++;
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
