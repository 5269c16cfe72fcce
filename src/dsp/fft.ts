/**
 * FFT for spectral estimation: iterative radix-2 for powers of two, Bluestein
 * (chirp-z through a power-of-two FFT) for every other length. Plans are cached per size.
 */

interface Radix2Plan { n: number; rev: Uint32Array; cos: Float64Array; sin: Float64Array }
const radix2Plans = new Map<number, Radix2Plan>();

function radix2Plan(n: number): Radix2Plan {
  let p = radix2Plans.get(n);
  if (p) return p;
  const rev = new Uint32Array(n);
  const bits = Math.round(Math.log2(n));
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) { cos[i] = Math.cos((2 * Math.PI * i) / n); sin[i] = Math.sin((2 * Math.PI * i) / n); }
  p = { n, rev, cos, sin };
  radix2Plans.set(n, p);
  return p;
}

/** In-place forward complex FFT (e^{−2πi kn/N}) for N a power of two. */
function fftRadix2(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n <= 1) return;
  const { rev, cos, sin } = radix2Plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i]!;
    if (j > i) {
      let t = re[i]!; re[i] = re[j]!; re[j] = t;
      t = im[i]!; im[i] = im[j]!; im[j] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0, t = 0; k < half; k++, t += step) {
        const wr = cos[t]!;
        const wi = -sin[t]!;
        const a = start + k;
        const b = a + half;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr; im[b] = im[a]! - xi;
        re[a]! += xr; im[a]! += xi;
      }
    }
  }
}

interface BluesteinPlan { n: number; m: number; wr: Float64Array; wi: Float64Array; br: Float64Array; bi: Float64Array; ar: Float64Array; ai: Float64Array }
const bluesteinPlans = new Map<number, BluesteinPlan>();

function bluesteinPlan(n: number): BluesteinPlan {
  let p = bluesteinPlans.get(n);
  if (p) return p;
  let m = 1;
  while (m < 2 * n - 1) m <<= 1;
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const ang = (Math.PI * ((k * k) % (2 * n))) / n;
    wr[k] = Math.cos(ang); wi[k] = -Math.sin(ang); // w_k = e^{−iπk²/n}
  }
  const br = new Float64Array(m);
  const bi = new Float64Array(m);
  br[0] = wr[0]!; bi[0] = -wi[0]!;
  for (let k = 1; k < n; k++) { br[k] = br[m - k] = wr[k]!; bi[k] = bi[m - k] = -wi[k]!; }
  fftRadix2(br, bi);
  p = { n, m, wr, wi, br, bi, ar: new Float64Array(m), ai: new Float64Array(m) };
  bluesteinPlans.set(n, p);
  return p;
}

/** In-place forward complex DFT of any length. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if ((n & (n - 1)) === 0) { fftRadix2(re, im); return; }
  const { m, wr, wi, br, bi, ar, ai } = bluesteinPlan(n);
  ar.fill(0); ai.fill(0);
  for (let k = 0; k < n; k++) {
    ar[k] = re[k]! * wr[k]! - im[k]! * wi[k]!;
    ai[k] = re[k]! * wi[k]! + im[k]! * wr[k]!;
  }
  fftRadix2(ar, ai);
  for (let k = 0; k < m; k++) {
    const r = ar[k]! * br[k]! - ai[k]! * bi[k]!;
    const i = ar[k]! * bi[k]! + ai[k]! * br[k]!;
    ar[k] = r; ai[k] = -i; // conjugate for the inverse via forward FFT
  }
  fftRadix2(ar, ai);
  for (let k = 0; k < n; k++) {
    const r = ar[k]! / m;
    const i = -ai[k]! / m;
    re[k] = r * wr[k]! - i * wi[k]!;
    im[k] = r * wi[k]! + i * wr[k]!;
  }
}

/**
 * |rfft(x, nfft)|² for k = 0..nfft/2 written into `out` (length floor(nfft/2)+1).
 * `x` shorter than nfft is zero-padded. Work arrays are reused per size.
 */
const work = new Map<number, { re: Float64Array; im: Float64Array }>();
export function rfftPower(x: ArrayLike<number>, nfft: number, out: Float64Array): Float64Array {
  let w = work.get(nfft);
  if (!w) { w = { re: new Float64Array(nfft), im: new Float64Array(nfft) }; work.set(nfft, w); }
  const { re, im } = w;
  const n = Math.min(x.length, nfft);
  for (let i = 0; i < n; i++) re[i] = x[i]!;
  re.fill(0, n);
  im.fill(0);
  fft(re, im);
  const nb = (nfft >> 1) + 1;
  for (let k = 0; k < nb; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  return out;
}
