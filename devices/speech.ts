/**
 * Speech material for the `speech` paradigm: a small word vocabulary with phone-like
 * segments, the articulatory feature time courses that the simulated neural speech
 * sites are tuned to (see speech-tuning.ts, speechTuning), and a cheap formant
 * synthesiser (Klatt-style cascade of second-order resonators excited by a glottal
 * pulse train; Klatt 1980) for the `audio16k` profile.
 * Vowel formants are the adult-male averages of Peterson & Barney (1952).
 */
import { Rng } from '../src/util/random.ts';
import { WORD_LIST, type Word } from '../src/paradigm.ts';

export { WORD_LIST };

/** F1, F2, F3 (Hz) of the vowels used (Peterson & Barney 1952, male averages). */
export const VOWELS: Record<string, [number, number, number]> = {
  i: [270, 2290, 3010],
  I: [390, 1990, 2550],
  E: [530, 1840, 2480],
  ae: [660, 1720, 2410],
  a: [730, 1090, 2440],
  o: [570, 840, 2410],
  U: [440, 1020, 2240],
  u: [300, 870, 2240],
  V: [640, 1190, 2390],
  R: [490, 1350, 1690],
};

/** A phone-like segment: a vowel (voiced, formants) or a frication burst (noise). */
export type Segment = { v: string; dur: number } | { noise: number /* centre Hz */; dur: number } | { gap: number };

/** The vocabulary (src/paradigm.ts WORD_LIST): each word as a segment sequence (durations in seconds). */
export const WORDS: Record<string, Segment[]> = {
  yes: [{ v: 'i', dur: 0.06 }, { v: 'E', dur: 0.2 }, { noise: 5500, dur: 0.12 }],
  no: [{ v: 'o', dur: 0.22 }, { v: 'U', dur: 0.12 }],
  help: [{ noise: 1500, dur: 0.06 }, { v: 'E', dur: 0.18 }, { gap: 0.06 }, { noise: 900, dur: 0.03 }],
  water: [{ v: 'u', dur: 0.06 }, { v: 'o', dur: 0.16 }, { gap: 0.04 }, { v: 'R', dur: 0.18 }],
  stop: [{ noise: 5500, dur: 0.1 }, { gap: 0.05 }, { v: 'a', dur: 0.2 }, { gap: 0.05 }, { noise: 900, dur: 0.03 }],
  go: [{ gap: 0.03 }, { v: 'o', dur: 0.2 }, { v: 'U', dur: 0.12 }],
  left: [{ v: 'E', dur: 0.2 }, { noise: 4000, dur: 0.1 }, { gap: 0.04 }, { noise: 3000, dur: 0.03 }],
  right: [{ v: 'R', dur: 0.06 }, { v: 'a', dur: 0.16 }, { v: 'I', dur: 0.1 }, { gap: 0.04 }, { noise: 3000, dur: 0.03 }],
  up: [{ v: 'V', dur: 0.2 }, { gap: 0.06 }, { noise: 900, dur: 0.03 }],
  down: [{ gap: 0.03 }, { v: 'ae', dur: 0.2 }, { v: 'U', dur: 0.14 }, { v: 'u', dur: 0.06 }],
} satisfies Record<Word, Segment[]>;

/** Spoken duration of a word (s). */
export function wordDuration(word: string): number {
  const segs = WORDS[word];
  if (!segs) throw new Error(`unknown word '${word}'; vocabulary: ${WORD_LIST.join(', ')}`);
  return segs.reduce((a, s) => a + ('gap' in s ? s.gap : s.dur), 0);
}

/** Syllabic envelope 0..1 of a word at time `dt` s after its onset (voiced/frication energy). */
export function wordEnvelope(word: string, dt: number): number {
  const segs = WORDS[word];
  if (!segs || dt < 0) return 0;
  let t = 0;
  for (const s of segs) {
    const d = 'gap' in s ? s.gap : s.dur;
    if (dt < t + d) {
      if ('gap' in s) return 0.15;
      const x = (dt - t) / d;
      const edge = Math.min(1, x / 0.15, (1 - x) / 0.15);
      return ('v' in s ? 1 : 0.6) * Math.max(0.2, edge);
    }
    t += d;
  }
  return 0;
}

// ---------------------------------------------------------------- articulatory features

/**
 * Phonetic / articulatory feature channels that word-specific neural responses are
 * tuned to (speech-tuning.ts, role 'hg-speech'). Intracranial high gamma at single
 * speech sites tracks a few such features rather than the word as a whole: ventral
 * sensorimotor sites are organised by articulator (labial, coronal, dorsal, laryngeal;
 * Bouchard et al. 2013, Nature 495:327) and encode articulatory kinematic trajectories
 * (Chartier et al. 2018, Neuron 98:1042); superior temporal sites respond to
 * phonetic features — manner (plosive, fricative, sonorant) and vowel height /
 * backness (Mesgarani et al. 2014, Science 343:1006). Phonemes are decodable from
 * those signals (Mugler et al. 2014, J Neural Eng 11:035015).
 *
 * Derived from the segments: vowels give voicing, jaw opening (F1), tongue height
 * (inverse F1), tongue fronting (F2) and lip rounding (back × close); noise segments
 * ≥ 50 ms are fricatives (coronal/sibilant weight grows with the noise centre), gaps
 * (stop closures) and short noise bursts (releases) are plosive.
 */
export const ARTIC_FEATURES = ['voicing', 'jaw-open', 'tongue-high', 'tongue-front', 'lip-round', 'fricative', 'plosive'] as const;
export const N_ARTIC = ARTIC_FEATURES.length;

const F1_RANGE: [number, number] = [270, 730];
const F2_RANGE: [number, number] = [840, 2290];
const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Raw (unsmoothed) feature vector of one segment. */
function segmentFeatures(s: Segment, out: Float64Array): void {
  out.fill(0);
  if ('v' in s) {
    const [f1, f2] = VOWELS[s.v] ?? VOWELS.a;
    const open = clamp01((f1 - F1_RANGE[0]) / (F1_RANGE[1] - F1_RANGE[0]));
    const front = clamp01((f2 - F2_RANGE[0]) / (F2_RANGE[1] - F2_RANGE[0]));
    out[0] = 1;
    out[1] = open;
    out[2] = 1 - open;
    out[3] = front;
    out[4] = (1 - front) * (1 - open);
  } else if ('noise' in s) {
    if (s.dur >= 0.05) out[5] = Math.min(1, 0.25 + s.noise / 5500);
    else out[6] = 1; // release burst
  } else out[6] = 1; // stop closure
}

const FEAT_DT = 0.005; // s, table resolution
const FEAT_SMOOTH = 0.025; // s, Gaussian σ: articulator movements and HG responses are smooth
const featTables = new Map<string, Float64Array>();

/** Smoothed feature table of a word: rows of N_ARTIC at FEAT_DT steps from 0 to its duration. */
function featureTable(word: string): Float64Array {
  let tab = featTables.get(word);
  if (tab) return tab;
  const segs = WORDS[word];
  if (!segs) throw new Error(`unknown word '${word}'; vocabulary: ${WORD_LIST.join(', ')}`);
  const n = Math.max(1, Math.ceil(wordDuration(word) / FEAT_DT));
  const raw = new Float64Array(n * N_ARTIC);
  const f = new Float64Array(N_ARTIC);
  let t = 0;
  for (const s of segs) {
    const d = 'gap' in s ? s.gap : s.dur;
    segmentFeatures(s, f);
    for (let i = Math.round(t / FEAT_DT); i < Math.min(n, Math.round((t + d) / FEAT_DT)); i++) raw.set(f, i * N_ARTIC);
    t += d;
  }
  // Gaussian smoothing (edges: renormalised)
  tab = new Float64Array(n * N_ARTIC);
  const h = Math.ceil((3 * FEAT_SMOOTH) / FEAT_DT);
  for (let i = 0; i < n; i++) {
    let ws = 0;
    for (let j = Math.max(0, i - h); j <= Math.min(n - 1, i + h); j++) {
      const z = ((j - i) * FEAT_DT) / FEAT_SMOOTH;
      const w = Math.exp(-0.5 * z * z);
      ws += w;
      for (let k = 0; k < N_ARTIC; k++) tab[i * N_ARTIC + k] += w * raw[j * N_ARTIC + k];
    }
    for (let k = 0; k < N_ARTIC; k++) tab[i * N_ARTIC + k] /= ws;
  }
  featTables.set(word, tab);
  return tab;
}

/**
 * Articulatory feature vector (each 0..1, see ARTIC_FEATURES) of `word` at `dt` s after
 * its onset, written to `out` (length ≥ N_ARTIC); zeros outside the word.
 */
export function articulatoryFeatures(word: string, dt: number, out: Float64Array): Float64Array {
  const tab = featureTable(word);
  const n = tab.length / N_ARTIC;
  const x = dt / FEAT_DT;
  if (!(x >= 0) || x >= n) {
    out.fill(0, 0, N_ARTIC);
    return out;
  }
  const i = Math.min(n - 1, Math.floor(x)), j = Math.min(n - 1, i + 1), a = x - i;
  for (let k = 0; k < N_ARTIC; k++) out[k] = tab[i * N_ARTIC + k] * (1 - a) + tab[j * N_ARTIC + k] * a;
  return out;
}

/** One spoken word placed on the stream's timeline (seconds since stream start). */
export interface Utterance {
  word: string;
  onset: number;
  dur: number;
  /** per-utterance pitch (Hz) */
  f0: number;
}

/** Second-order resonator (Klatt 1980): y = A x + B y1 + C y2, unity gain at DC. */
class Resonator {
  a = 0; b = 0; c = 0; y1 = 0; y2 = 0;
  set(f: number, bw: number, fs: number): void {
    const T = 1 / fs;
    this.c = -Math.exp(-2 * Math.PI * bw * T);
    this.b = 2 * Math.exp(-Math.PI * bw * T) * Math.cos(2 * Math.PI * f * T);
    this.a = 1 - this.b - this.c;
  }
  step(x: number): number {
    const y = this.a * x + this.b * this.y1 + this.c * this.y2;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

/**
 * Streaming formant synthesiser. `render(out, n, t0, utterances)` writes `n` samples
 * starting at stream time `t0` (s). Deterministic for a given seed, independent of how
 * the stream is cut into calls because all state advances per sample.
 */
export class SpeechSynth {
  private readonly fs: number;
  private readonly rng: Rng;
  private readonly r1 = new Resonator();
  private readonly r2 = new Resonator();
  private readonly r3 = new Resonator();
  private readonly rn = new Resonator();
  private phase = 0;
  private lp1 = 0;
  private lp2 = 0;
  private bg = 0;

  constructor(fs: number, seed: number) {
    this.fs = fs;
    this.rng = new Rng(seed, 0xa0d10);
    this.setVowel('a');
    this.rn.set(3000, 1500, fs);
  }

  private setVowel(v: string, next?: string, x = 0): void {
    const a = VOWELS[v] ?? VOWELS.a;
    const b = next ? VOWELS[next] ?? a : a;
    const f = (k: number): number => a[k] + (b[k] - a[k]) * x;
    this.r1.set(f(0), 60, this.fs);
    this.r2.set(f(1), 90, this.fs);
    this.r3.set(Math.min(f(2), this.fs * 0.45), 150, this.fs);
  }

  /** Active segment of an utterance at time t (s), or null. */
  private segmentAt(u: Utterance, t: number): { seg: Segment; x: number; next?: Segment } | null {
    const segs = WORDS[u.word];
    let s0 = u.onset;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      const d = 'gap' in s ? s.gap : s.dur;
      if (t >= s0 && t < s0 + d) return { seg: s, x: (t - s0) / d, next: segs[i + 1] };
      s0 += d;
    }
    return null;
  }

  render(out: Float32Array, off: number, stride: number, n: number, t0: number, utterances: readonly Utterance[]): void {
    const fs = this.fs;
    const rng = this.rng;
    // update formants / source once per 5 ms sub-block (smooth enough for formant motion)
    const sub = Math.max(1, Math.round(fs * 0.005));
    for (let k0 = 0; k0 < n; k0 += sub) {
      const k1 = Math.min(n, k0 + sub);
      const t = t0 + k0 / fs;
      let voiced = 0, fric = 0, f0 = 110;
      for (const u of utterances) {
        if (t < u.onset || t >= u.onset + u.dur) continue;
        const hit = this.segmentAt(u, t);
        if (!hit) continue;
        const env = Math.min(1, hit.x / 0.12, (1 - hit.x) / 0.12);
        f0 = u.f0 * (1.05 - 0.15 * ((t - u.onset) / u.dur)); // declination
        if ('v' in hit.seg) {
          const nx = hit.next && 'v' in hit.next ? hit.next.v : undefined;
          this.setVowel(hit.seg.v, nx, nx ? Math.max(0, (hit.x - 0.6) / 0.4) : 0);
          voiced = Math.max(0.1, env);
        } else if ('noise' in hit.seg) {
          this.rn.set(Math.min(hit.seg.noise, fs * 0.45), hit.seg.noise * 0.5, fs);
          fric = Math.max(0.1, env);
        }
      }
      for (let k = k0; k < k1; k++) {
        // glottal source: one pulse per period (with 1 % jitter), low-passed twice (≈ −12 dB/oct)
        let src = 0;
        if (voiced > 0) {
          this.phase += f0 / fs;
          if (this.phase >= 1) {
            this.phase -= 1 + 0.01 * (rng.uniform() - 0.5);
            src = 1;
          }
        }
        this.lp1 += 0.25 * (src - this.lp1);
        this.lp2 += 0.25 * (this.lp1 - this.lp2);
        const g = voiced * this.lp2 * 40;
        const v = this.r3.step(this.r2.step(this.r1.step(g)));
        const nz = rng.gauss();
        const fr = fric > 0 ? this.rn.step(nz) * fric * 0.03 : (this.rn.step(0), 0);
        // room / microphone background: low-level first-order low-passed noise
        this.bg += 0.2 * (nz * 0.004 - this.bg);
        out[off + k * stride] = 0.035 * v + fr + this.bg;
      }
    }
  }
}
