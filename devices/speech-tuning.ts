/**
 * Word-specific speech high gamma: each 'hg-speech' site is tuned to a few
 * articulatory / phonetic features (speech.ts), so words give different site
 * patterns, decodable above chance but far from perfectly. The model and its
 * sources: docs/devices.md, "Speech high gamma".
 */
import { Rng, hashString } from '../src/util/random.ts';
import { N_ARTIC, WORD_LIST, articulatoryFeatures, wordDuration } from './speech.ts';

/**
 * A site's tuning. A property of the simulated patient: seeded by profile name and
 * contact label only, never by the recording seed, so a decoder trained on one
 * recording transfers to another seed of the same profile.
 */
export interface SpeechTuning {
  /** non-negative weight per articulatory feature, scaled so the site's peak response over the vocabulary is 1 */
  w: Float64Array;
  /** share of the response that is non-specific (any speech), 0..1 */
  common: number;
  /** hash of the label (keys per-site trial variability) */
  key: number;
}

/** Peak amplitude gain added to an 'hg-speech' source during speech (rest gain 0.25). */
export const SPEECH_HG_GAIN = 0.85;

/** Deterministic articulatory tuning of the speech site `label` of profile `profile`. */
export function speechTuning(profile: string, label: string): SpeechTuning {
  const r = new Rng(hashString(`speech-tuning:${profile}/${label}`), 0x5eec);
  const w = new Float64Array(N_ARTIC);
  for (let k = 0; k < N_ARTIC; k++) w[k] = r.range(0, 0.15);
  // one preferred feature and a weaker secondary one
  const a = r.int(N_ARTIC);
  let b = r.int(N_ARTIC - 1);
  if (b >= a) b++;
  w[a] = 1;
  w[b] = r.range(0.25, 0.6);
  const common = r.range(0.2, 0.4);
  // scale: peak of Σ w·f over the vocabulary = 1
  const f = new Float64Array(N_ARTIC);
  let peak = 0;
  for (const word of WORD_LIST) {
    for (let dt = 0; dt < wordDuration(word); dt += 0.005) {
      articulatoryFeatures(word, dt, f);
      let v = 0;
      for (let k = 0; k < N_ARTIC; k++) v += w[k] * f[k];
      peak = Math.max(peak, v);
    }
  }
  for (let k = 0; k < N_ARTIC; k++) w[k] /= peak || 1;
  return { w, common, key: hashString(label) };
}

/** Relative response (0..1) of a tuned speech site to `word` at `dt` s into it. */
export function speechResponse(tune: SpeechTuning, word: string, dt: number, buf = new Float64Array(N_ARTIC)): number {
  articulatoryFeatures(word, dt, buf);
  let v = 0;
  for (let k = 0; k < N_ARTIC; k++) v += tune.w[k] * buf[k];
  return tune.common + (1 - tune.common) * v;
}
