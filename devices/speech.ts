/**
 * Speech material for the `speech` paradigm: a small word vocabulary with phone-like
 * segments, and a cheap formant synthesiser (Klatt-style cascade of second-order
 * resonators excited by a glottal pulse train; Klatt 1980) for the `audio16k` profile.
 * Vowel formants are the adult-male averages of Peterson & Barney (1952).
 */
import { Rng } from './prng.ts';

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

/** The vocabulary: each word as a segment sequence (durations in seconds). */
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
};

export const WORD_LIST: readonly string[] = Object.keys(WORDS);

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
