/**
 * Seeded, deterministic electrophysiology generator (pure: no I/O, no clocks).
 *
 * Model (per internal block of B ≈ 30 ms of samples, see docs/devices.md):
 *
 *   x[c, t] = pink_c(t)                                   per-channel 1/f background
 *           + Σ_k W[c, k] · s_k(t)                          sources through a sparse spatial matrix
 *           + a_c · line(t) + b_c · lineHarmonics(t)         mains interference
 *           + drift_c(t) + pops_c(t)                         slow drift, electrode pops
 *   then channels in dropout are forced to exactly 0, and COUNTER is appended.
 *
 * Sources s_k: latent 1/f generators, AR(2) resonators (alpha, mu, beta, theta), band-
 * limited high gamma, event-locked templates (P300, visual evoked potentials, blinks),
 * SSVEP sinusoids and ripple wavelets. Task effects are multiplicative gain envelopes
 * driven by the trial schedule (`schedule.ts`), e.g. contralateral mu/beta ERD during
 * motor imagery (Pfurtscheller & Lopes da Silva 1999).
 *
 * Determinism: every random draw happens per internal block, in a fixed order, from
 * seeded xoshiro128** streams, and the block grid is fixed by the sampling rate. So the
 * output for a seed is bit-identical however `next(n)` is chunked.
 */
import type { ChannelInfo } from '../src/types.ts';
import { COUNTER_LABEL, COUNTER_MODULUS, getProfile, type DeviceKind, type DeviceProfile, type Paradigm, PARADIGMS } from './profiles.ts';
import { Rng, hashString, hashUniform } from './prng.ts';
import { Schedule, type ScheduleEvent, type ScheduleOptions } from './schedule.ts';
import { SpeechSynth, N_ARTIC, WORD_LIST, articulatoryFeatures, wordDuration, type Utterance } from './speech.ts';
import { type Vec3, dist2, normalize, cross, add, scale, sub, tenTenPosition, seegContactPosition, SEEG_SHAFTS } from './geometry.ts';

// ---------------------------------------------------------------- public types

export interface ArtifactSwitches {
  /** Mains interference at `lineFreq` and harmonics. */
  line: boolean;
  /** Eye blinks (frontal, large, slow). */
  blinks: boolean;
  /** Electrode pops: step + exponential decay on one channel. */
  pops: boolean;
  /** Slow non-stationary baseline drift. */
  drift: boolean;
}

export interface DropoutOptions {
  /** Dropout onsets per minute, over all channels (default 1). */
  ratePerMin?: number;
  /** Mean flat duration, s (exponential, clamped to [0.5, 20]; default 4). */
  meanSec?: number;
}

export interface GeneratorOptions {
  seed: number;
  /** Default: the profile's default paradigm. */
  paradigm?: Paradigm;
  schedule?: Partial<ScheduleOptions>;
  /** Channels go flat (exactly 0) for a while. Default off. */
  dropout?: boolean | DropoutOptions;
  /** All artifacts on/off (default true), or per kind. */
  artifacts?: boolean | Partial<ArtifactSwitches>;
  /** Mains frequency, 50 (default) or 60 Hz. */
  lineFreq?: 50 | 60;
  /** Append the COUNTER channel (default: profile.counter). */
  counterChannel?: boolean;
  /** Also emit ground-truth `truth:*` events (blinks, pops, dropouts, ripples, speech on/offsets). Default false. */
  annotate?: boolean;
}

/** A marker: `sampleIndex` in the stream, `t` = sampleIndex / srate seconds since start. */
export interface SimEvent {
  sampleIndex: number;
  t: number;
  label: string;
}

// ---------------------------------------------------------------- modality parameters

interface ModalityParams {
  /** per-channel 1/f background rms and spectral exponent */
  noiseRms: number;
  noiseBeta: number;
  /** latent (spatially spread) 1/f sources */
  latentN: number;
  latentRms: number;
  latentBeta: number;
  /** spatial spread (chord distance on the unit sphere, or mm) */
  sigma: number;
  localSigma: number;
  alphaRms: number;
  muRms: number;
  betaRms: number;
  thetaRms: number;
  /** µV-template scale for ERPs (P300, VEP) */
  erpScale: number;
  ssvepAmp: number;
  hgRms: number;
  rippleAmp: number;
  blinkAmp: number;
  blinkPerMin: number;
  popAmp: number;
  popPerMin: number;
  driftRms: number;
  lineRms: number;
  dipolar: boolean;
}

const EEG_PARAMS: ModalityParams = {
  noiseRms: 4, noiseBeta: 1.0, latentN: 12, latentRms: 7, latentBeta: 1.7, sigma: 0.5, localSigma: 0.3,
  alphaRms: 9, muRms: 5, betaRms: 2.5, thetaRms: 0, erpScale: 1, ssvepAmp: 4, hgRms: 0, rippleAmp: 0,
  blinkAmp: 120, blinkPerMin: 12, popAmp: 100, popPerMin: 1.5, driftRms: 15, lineRms: 3, dipolar: false,
};

const PARAMS: Record<'eeg' | 'synthetic' | 'seeg' | 'ecog' | 'meg', ModalityParams> = {
  eeg: EEG_PARAMS,
  synthetic: EEG_PARAMS,
  seeg: {
    noiseRms: 18, noiseBeta: 1.5, latentN: 12, latentRms: 20, latentBeta: 1.8, sigma: 12, localSigma: 2.5,
    alphaRms: 8, muRms: 0, betaRms: 6, thetaRms: 15, erpScale: -2.5, ssvepAmp: 0, hgRms: 7, rippleAmp: 40,
    blinkAmp: 0, blinkPerMin: 0, popAmp: 200, popPerMin: 0.5, driftRms: 10, lineRms: 2, dipolar: false,
  },
  ecog: {
    noiseRms: 15, noiseBeta: 1.4, latentN: 8, latentRms: 25, latentBeta: 1.8, sigma: 15, localSigma: 4,
    alphaRms: 6, muRms: 12, betaRms: 6, thetaRms: 0, erpScale: 0, ssvepAmp: 0, hgRms: 4, rippleAmp: 0,
    blinkAmp: 0, blinkPerMin: 0, popAmp: 150, popPerMin: 0.5, driftRms: 10, lineRms: 3, dipolar: false,
  },
  meg: {
    noiseRms: 12, noiseBeta: 0.4, latentN: 12, latentRms: 120, latentBeta: 1.7, sigma: 0.45, localSigma: 0.3,
    alphaRms: 250, muRms: 120, betaRms: 60, thetaRms: 0, erpScale: 20, ssvepAmp: 60, hgRms: 0, rippleAmp: 0,
    blinkAmp: 400, blinkPerMin: 12, popAmp: 500, popPerMin: 0.3, driftRms: 200, lineRms: 40, dipolar: true,
  },
};

// ---------------------------------------------------------------- filters

/** 1/f^β noise as a sum of one-pole low-passes driven by the same white noise (Kellet-style). */
interface Pink {
  p: Float64Array;
  g: Float64Array;
  white: number;
}

/** Design a 1/f^beta filter for sampling rate fs, scaled to total rms `rms`. */
export function designPink(fs: number, beta: number, rms: number, fmax = fs / 3): Pink {
  const fc: number[] = [];
  const top = Math.min(fmax, fs / 3);
  for (let f = 0.2; f < top && fc.length < 8; f *= 5) fc.push(f);
  const gamma = beta / 2;
  const p = new Float64Array(fc.length);
  const g = new Float64Array(fc.length);
  for (let i = 0; i < fc.length; i++) {
    p[i] = Math.exp((-2 * Math.PI * fc[i]) / fs);
    g[i] = Math.pow(fc[i], -gamma) * (1 - p[i]);
  }
  // white floor only for full-band designs; band-limited ones roll off as 1/f² above fmax
  let white = fmax >= fs / 3 ? Math.pow(fc[fc.length - 1] * 5, -gamma) : 0;
  // closed-form variance of Σ x_i + white·e, x_i = p_i x_i + g_i e (shared e)
  let v = white * white;
  for (let i = 0; i < p.length; i++) {
    v += 2 * white * g[i];
    for (let j = 0; j < p.length; j++) v += (g[i] * g[j]) / (1 - p[i] * p[j]);
  }
  const s = rms / Math.sqrt(v);
  for (let i = 0; i < g.length; i++) g[i] *= s;
  white *= s;
  return { p, g, white };
}

/** AR(2) resonator coefficients with unit output variance. */
function resonator(f: number, bw: number, fs: number): { a1: number; a2: number; g: number } {
  const r = Math.exp((-Math.PI * bw) / fs);
  const a1 = 2 * r * Math.cos((2 * Math.PI * f) / fs);
  const a2 = -r * r;
  const v = (1 - a2) / ((1 + a2) * ((1 - a2) * (1 - a2) - a1 * a1));
  return { a1, a2, g: 1 / Math.sqrt(v) };
}

const smooth = (x: number): number => (x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x));
/** 0 before a, smooth rise over [a, a+rin], 1 until b, smooth fall over [b, b+rout]. */
function win(dt: number, a: number, b: number, rin: number, rout: number): number {
  if (dt <= a || dt >= b + rout) return 0;
  if (dt < a + rin) return smooth((dt - a) / rin);
  if (dt <= b) return 1;
  return 1 - smooth((dt - b) / rout);
}

// ---------------------------------------------------------------- sources

type SrcType = 'pink' | 'osc' | 'hg' | 'ssvep' | 'p300' | 'vep' | 'blink' | 'ripple';
type Role =
  | 'const' | 'alpha' | 'mu-L' | 'mu-R' | 'mu-C' | 'beta-L' | 'beta-R' | 'beta-C'
  | 'hg-speech' | 'hg-mi' | 'beta-speech' | 'alpha-speech' | 'none';

interface Src {
  name: string;
  type: SrcType;
  role: Role;
  idx: Int32Array;
  w: Float64Array;
  /** amplitude at the strongest channel (rms for noise-driven, peak for templates) */
  amp: number;
  // resonator
  a1: number; a2: number; g: number; x1: number; x2: number;
  pink?: Pink;
  pinkState?: Float64Array;
  freq: number;
  /** hg-speech: response lead (s, positive = before speech onset) */
  lead: number;
  /** hg-speech: the site's articulatory tuning (see speechTuning) */
  tune?: SpeechTuning;
  /** label of the strongest channel (for annotations) */
  site: string;
  lastGain: number;
  /** pink sources: one-pole low-pass coefficient (applied twice) */
  lpAlpha: number;
  /** event-driven sources: next candidate onset (sample) and active wavelets */
  nextEvent: number;
  wavelets: Wavelet[];
}

interface Wavelet {
  start: number; // sample
  amp: number;
  freq: number;
  dur: number; // s
}

interface Pop { c: number; v: number; decay: number; start: number; floor: number }
interface Drop { c: number; start: number; end: number }

// ---------------------------------------------------------------- speech tuning

/**
 * Word-specific speech high gamma. Each 'hg-speech' site is tuned to a few
 * articulatory / phonetic features (speech.ts, ARTIC_FEATURES): ventral sensorimotor
 * sites by articulator — labial, coronal, dorsal, laryngeal (Bouchard et al. 2013,
 * Nature) — following articulatory kinematic trajectories (Chartier et al. 2018,
 * Neuron); superior temporal sites by phonetic feature — plosive, fricative, vowel
 * height and backness (Mesgarani et al. 2014, Science). Each site also carries a
 * non-specific speech-onset component. The resulting spatio-temporal patterns make
 * small vocabularies decodable well above chance but far from perfectly (phonemes from
 * ECoG: Mugler et al. 2014, J Neural Eng; speech from ECoG: Herff et al. 2019, Front
 * Neurosci; from SEEG: Angrick et al. 2021, Commun Biol).
 *
 * The tuning is a property of the simulated patient: it is seeded by profile name and
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

// ---------------------------------------------------------------- generator

/** X[idx[j], :] += w[j] · S for every non-zero of one source's spatial column (hot loop, kept small for V8). */
function mixAdd(X: Float64Array, S: Float64Array, idx: Int32Array, w: Float64Array, B: number): void {
  for (let j = 0; j < idx.length; j++) {
    const o = idx[j] * B, wj = w[j];
    // B is a power of two ≥ 8: unrolled by 4 (≈2× faster in V8)
    for (let k = 0; k < B; k += 4) {
      X[o + k] += wj * S[k];
      X[o + k + 1] += wj * S[k + 1];
      X[o + k + 2] += wj * S[k + 2];
      X[o + k + 3] += wj * S[k + 3];
    }
  }
}

function internalBlock(fs: number): number {
  const b = 2 ** Math.round(Math.log2(fs / 32));
  return Math.max(8, Math.min(512, b));
}

export class SignalGenerator {
  readonly profile: DeviceProfile;
  readonly paradigm: Paradigm;
  readonly seed: number;
  /** Output channels (profile channels + COUNTER when enabled). */
  readonly channels: ChannelInfo[];
  /** Sampling rate of `next()` (markers profile: a virtual 1000 Hz clock). */
  readonly srate: number;
  readonly schedule: Schedule;
  readonly hasCounter: boolean;

  private readonly fs: number;
  private readonly C: number; // signal channels
  private readonly Cout: number;
  private readonly B: number;
  private readonly kind: DeviceKind;
  private readonly P: ModalityParams | null;
  private readonly art: ArtifactSwitches;
  private readonly dropout: Required<DropoutOptions> | null;
  private readonly annotate: boolean;
  private readonly lineFreq: number;

  private readonly rngChan: Rng;
  private readonly rngSrc: Rng;
  private readonly rngArt: Rng;

  private readonly sources: Src[] = [];
  private readonly chanPink: Pink | null = null;
  private readonly chanState: Float64Array;
  private readonly pinkP8 = new Float64Array(8);
  private readonly pinkG8 = new Float64Array(8);
  private readonly lineA: Float64Array;
  private readonly lineB: Float64Array;
  private readonly lineHarm: { k: number; a: number; ph: number }[] = [];
  private readonly drift: Float64Array;
  private readonly driftPhase: Float64Array;
  private readonly driftRho: number;
  private readonly driftStep: number;
  private pops: Pop[] = [];
  private drops: Drop[] = [];
  private nextPop = 0;
  private nextDrop = 0;
  private nextBlink = 0;
  private blinks: Wavelet[] = [];

  // buffers
  private readonly X: Float64Array; // C × B, channel-major
  private readonly noise: Float64Array; // C × B
  private readonly S: Float64Array; // B
  private readonly L1: Float64Array; // B
  private readonly LH: Float64Array; // B
  private readonly rowBuf: Float32Array; // B × Cout
  private rowPos: number; // next unread row in rowBuf
  private blockStart = 0; // sample index of rowBuf row 0
  private emitted = 0;
  private evCursor = 0; // next schedule event to turn into a marker
  private evLo = 0; // first schedule event possibly still active
  private pending: SimEvent[] = [];
  private readonly actBuf: ScheduleEvent[] = [];
  private readonly synth: SpeechSynth | null = null;
  private readonly chanLabels: string[];
  private readonly featBuf = new Float64Array(N_ARTIC);

  constructor(profile: DeviceProfile, opts: GeneratorOptions) {
    if (!opts || !Number.isFinite(opts.seed)) throw new Error('SignalGenerator: opts.seed (a finite number) is required');
    const paradigm = opts.paradigm ?? profile.defaultParadigm;
    if (!PARADIGMS.includes(paradigm)) throw new Error(`unknown paradigm '${paradigm}'; valid: ${PARADIGMS.join(', ')}`);
    this.profile = profile;
    this.paradigm = paradigm;
    this.seed = opts.seed;
    this.kind = profile.kind;
    this.fs = profile.srate > 0 ? profile.srate : 1000;
    this.srate = this.fs;
    this.schedule = new Schedule(paradigm, opts.seed, opts.schedule);
    const artAll = opts.artifacts ?? true;
    const a = typeof artAll === 'boolean' ? { line: artAll, blinks: artAll, pops: artAll, drift: artAll } : { line: true, blinks: true, pops: true, drift: true, ...artAll };
    this.art = a;
    this.dropout = opts.dropout ? { ratePerMin: 1, meanSec: 4, ...(typeof opts.dropout === 'object' ? opts.dropout : {}) } : null;
    this.annotate = opts.annotate ?? false;
    this.lineFreq = opts.lineFreq ?? 50;
    if (this.lineFreq !== 50 && this.lineFreq !== 60) throw new Error(`lineFreq must be 50 or 60 (got ${this.lineFreq})`);

    const isMarkers = profile.kind === 'markers';
    this.C = isMarkers ? 0 : profile.channels.length;
    this.hasCounter = !isMarkers && (opts.counterChannel ?? profile.counter ?? false);
    this.channels = isMarkers ? [] : [...profile.channels.map((c) => ({ ...c })), ...(this.hasCounter ? [{ label: COUNTER_LABEL, type: 'MISC', unit: 'samples' }] : [])];
    this.chanLabels = profile.channels.map((c) => c.label);
    this.Cout = this.C + (this.hasCounter ? 1 : 0);
    this.B = internalBlock(this.fs);
    const C = this.C, B = this.B;

    const base = hashString(profile.name);
    this.rngChan = new Rng(opts.seed, base ^ 0x1001);
    this.rngSrc = new Rng(opts.seed, base ^ 0x2002);
    this.rngArt = new Rng(opts.seed, base ^ 0x3003);
    const rngStatic = new Rng(opts.seed, base ^ 0x4004);

    this.X = new Float64Array(C * B);
    this.noise = new Float64Array(C * B);
    this.S = new Float64Array(B);
    this.L1 = new Float64Array(B);
    this.LH = new Float64Array(B);
    this.rowBuf = new Float32Array(B * this.Cout);
    this.rowPos = B; // empty
    this.blockStart = -B;
    this.chanState = new Float64Array(0);
    this.lineA = new Float64Array(C);
    this.lineB = new Float64Array(C);
    this.drift = new Float64Array(C);
    this.driftPhase = new Float64Array(C);
    this.driftRho = 1;
    this.driftStep = 0;

    if (profile.kind === 'audio') {
      this.P = null;
      this.synth = new SpeechSynth(this.fs, opts.seed);
      return;
    }
    if (isMarkers) {
      this.P = null;
      return;
    }
    const P = PARAMS[profile.kind as keyof typeof PARAMS];
    this.P = P;

    // per-channel background
    this.chanPink = designPink(this.fs, P.noiseBeta, P.noiseRms);
    this.chanState = new Float64Array(C * this.chanPink.p.length);
    this.pinkP8.set(this.chanPink.p);
    this.pinkG8.set(this.chanPink.g);

    // mains: per-channel gains (log-normal: electrode impedances differ), shared waveform
    for (let c = 0; c < C; c++) {
      this.lineA[c] = P.lineRms * Math.SQRT2 * Math.exp(0.5 * rngStatic.gauss() - 0.125);
      this.lineB[c] = this.lineA[c] * rngStatic.range(0.4, 1.4);
    }
    const harmAmp = [0, 0, 0.35, 0.2, 0.1, 0.06];
    for (let k = 2; k <= 5; k++) {
      if (k * this.lineFreq < this.fs / 2 - 5) this.lineHarm.push({ k, a: harmAmp[k], ph: rngStatic.range(0, 2 * Math.PI) });
    }

    // drift: AR(1) per block with a 20 s time constant
    const blockSec = B / this.fs;
    this.driftRho = Math.exp(-blockSec / 20);
    this.driftStep = P.driftRms * Math.sqrt(1 - this.driftRho * this.driftRho);
    for (let c = 0; c < C; c++) {
      this.drift[c] = P.driftRms * rngStatic.gauss();
      this.driftPhase[c] = rngStatic.range(0, Math.PI);
    }

    this.buildSources(P, rngStatic);
    for (const s of this.sources) s.lastGain = this.gainAt(s, 0, this.activeEvents(0, 0));

    // first artifact events
    const spm = this.fs * 60;
    this.nextBlink = P.blinkPerMin > 0 ? Math.floor(this.rngArt.exp(spm / P.blinkPerMin)) : Infinity;
    this.nextPop = P.popPerMin > 0 ? Math.floor(this.rngArt.exp(spm / P.popPerMin)) : Infinity;
    this.nextDrop = this.dropout && this.dropout.ratePerMin > 0 ? Math.floor(this.rngArt.exp(spm / this.dropout.ratePerMin)) : Infinity;
  }

  // ------------------------------------------------------------ sources

  /** Channel positions in the frame used for spatial weights. */
  private channelFrame(): Vec3[] {
    return this.profile.channels.map((ch) => {
      const p = (ch.pos ?? [0, 0, 1]) as Vec3;
      if (this.kind === 'meg') return normalize([p[0], p[1], p[2] - 0.04]);
      if (this.kind === 'eeg' || this.kind === 'synthetic') return normalize(p);
      return p;
    });
  }

  private addSource(spec: {
    name: string; type: SrcType; role: Role; pos: Vec3; sigma: number; amp: number;
    freq?: number; bw?: number; beta?: number; lead?: number; tune?: SpeechTuning;
  }): void {
    const P = this.P!;
    const frame = this.channelFrame();
    const s2 = 2 * spec.sigma * spec.sigma;
    const ws: number[] = [];
    let dip: { p: Vec3; m: Vec3 } | null = null;
    if (P.dipolar) {
      const u = normalize(spec.pos);
      let t = cross(u, [0, 0, 1]);
      if (Math.hypot(...t) < 1e-3) t = [1, 0, 0];
      t = normalize(t);
      dip = { p: normalize(add(u, scale(t, 0.3))), m: normalize(sub(u, scale(t, 0.3))) };
    }
    let wmax = 0;
    for (let c = 0; c < frame.length; c++) {
      const w = dip ? Math.exp(-dist2(frame[c], dip.p) / s2) - Math.exp(-dist2(frame[c], dip.m) / s2) : Math.exp(-dist2(frame[c], spec.pos) / s2);
      ws.push(w);
      wmax = Math.max(wmax, Math.abs(w));
    }
    if (wmax < 1e-6) return; // the source is invisible to this montage
    const idx: number[] = [];
    const w: number[] = [];
    let best = 0, site = '';
    for (let c = 0; c < ws.length; c++) {
      const v = ws[c] / wmax;
      if (Math.abs(v) >= 0.02) { idx.push(c); w.push(v); }
      if (Math.abs(v) > best) { best = Math.abs(v); site = this.chanLabels[c]; }
    }
    const src: Src = {
      name: spec.name, type: spec.type, role: spec.role, idx: Int32Array.from(idx), w: Float64Array.from(w), amp: spec.amp,
      a1: 0, a2: 0, g: 0, x1: 0, x2: 0, freq: spec.freq ?? 0, lead: spec.lead ?? 0, site, lastGain: 1, lpAlpha: 1,
      nextEvent: Infinity, wavelets: [], tune: spec.tune,
    };
    if (spec.type === 'osc' || spec.type === 'hg') {
      const r = resonator(spec.freq!, spec.bw!, this.fs);
      src.a1 = r.a1; src.a2 = r.a2; src.g = r.g;
    } else if (spec.type === 'pink') {
      // latent (regional) generators are slow: 1/f^β up to ~40 Hz, then 1/f² roll-off,
      // so broadband / high-gamma power stays local (per-channel noise + local sources)
      src.pink = designPink(this.fs, spec.beta ?? 1.7, 1, 40);
      src.lpAlpha = 1 - Math.exp((-2 * Math.PI * 40) / this.fs);
      src.pinkState = new Float64Array(src.pink.p.length);
    } else if (spec.type === 'ripple') {
      src.nextEvent = Math.floor(this.rngArt.exp(this.fs / 0.3));
    }
    this.sources.push(src);
  }

  private buildSources(P: ModalityParams, rs: Rng): void {
    const fs = this.fs;
    const hgOk = fs >= 350 && P.hgRms > 0;
    const alphaF = rs.range(9.3, 10.7);
    const muF = alphaF + rs.range(0.6, 1.6);
    const betaF = 2 * muF + rs.range(-1.5, 1.5);
    const k = this.kind;
    if (k === 'eeg' || k === 'synthetic' || k === 'meg') {
      const T = (l: string): Vec3 => tenTenPosition(l);
      const mid = (a: string, b: string): Vec3 => normalize(add(T(a), T(b)));
      for (let i = 0; i < P.latentN; i++) {
        let d: Vec3;
        do d = normalize([rs.gauss(), rs.gauss(), rs.gauss()]); while (d[2] < -0.2);
        this.addSource({ name: `latent${i}`, type: 'pink', role: 'const', pos: d, sigma: P.sigma * 1.2, amp: P.latentRms, beta: P.latentBeta });
      }
      this.addSource({ name: 'alpha-L', type: 'osc', role: 'alpha', pos: mid('O1', 'PO3'), sigma: P.sigma, amp: P.alphaRms, freq: alphaF, bw: 1.5 });
      this.addSource({ name: 'alpha-R', type: 'osc', role: 'alpha', pos: mid('O2', 'PO4'), sigma: P.sigma, amp: P.alphaRms, freq: alphaF + 0.1, bw: 1.5 });
      this.addSource({ name: 'mu-L', type: 'osc', role: 'mu-L', pos: mid('C3', 'CP3'), sigma: P.localSigma, amp: P.muRms, freq: muF, bw: 2 });
      this.addSource({ name: 'mu-R', type: 'osc', role: 'mu-R', pos: mid('C4', 'CP4'), sigma: P.localSigma, amp: P.muRms, freq: muF + 0.2, bw: 2 });
      this.addSource({ name: 'mu-C', type: 'osc', role: 'mu-C', pos: mid('Cz', 'FCz'), sigma: P.localSigma, amp: P.muRms * 0.7, freq: muF - 0.3, bw: 2 });
      this.addSource({ name: 'beta-L', type: 'osc', role: 'beta-L', pos: mid('C3', 'FC3'), sigma: P.localSigma, amp: P.betaRms, freq: betaF, bw: 4 });
      this.addSource({ name: 'beta-R', type: 'osc', role: 'beta-R', pos: mid('C4', 'FC4'), sigma: P.localSigma, amp: P.betaRms, freq: betaF + 0.5, bw: 4 });
      this.addSource({ name: 'beta-C', type: 'osc', role: 'beta-C', pos: mid('Cz', 'FCz'), sigma: P.localSigma, amp: P.betaRms * 0.7, freq: betaF - 0.5, bw: 4 });
      this.addSource({ name: 'p300', type: 'p300', role: 'none', pos: mid('Pz', 'CPz'), sigma: P.sigma * 1.1, amp: 7 * P.erpScale });
      this.addSource({ name: 'vep', type: 'vep', role: 'none', pos: mid('Oz', 'POz'), sigma: P.sigma, amp: 1 * P.erpScale });
      this.addSource({ name: 'ssvep', type: 'ssvep', role: 'none', pos: mid('Oz', 'POz'), sigma: P.sigma * 0.9, amp: P.ssvepAmp });
      if (P.blinkAmp > 0) this.addSource({ name: 'blink', type: 'blink', role: 'none', pos: normalize([0, 0.95, -0.35]), sigma: 0.55, amp: P.blinkAmp });
    } else if (k === 'seeg') {
      const roles = this.profile.roles ?? {};
      const posOf = (label: string): Vec3 => {
        const ch = this.profile.channels.find((c) => c.label === label);
        if (!ch?.pos) throw new Error(`seeg: no position for ${label}`);
        return ch.pos as Vec3;
      };
      for (const sh of SEEG_SHAFTS) {
        const midC = Math.ceil(sh.contacts / 2);
        this.addSource({ name: `latent-${sh.name}`, type: 'pink', role: 'const', pos: seegContactPosition(sh, midC), sigma: P.sigma, amp: P.latentRms, beta: P.latentBeta });
      }
      for (const h of ['LH', 'RH']) {
        this.addSource({ name: `theta-${h}`, type: 'osc', role: 'const', pos: posOf(`${h}3`), sigma: 8, amp: P.thetaRms, freq: rs.range(5, 7), bw: 2 });
        this.addSource({ name: `p300-${h}`, type: 'p300', role: 'none', pos: posOf(`${h}2`), sigma: 8, amp: 7 * P.erpScale });
      }
      for (const sh of ['LPI', 'RPI', 'LAI', 'RAI']) {
        this.addSource({ name: `beta-${sh}`, type: 'osc', role: 'beta-speech', pos: posOf(`${sh}${sh.endsWith('AI') ? 9 : 4}`), sigma: 10, amp: P.betaRms, freq: betaF, bw: 4 });
      }
      for (const sh of ['LT', 'RT']) {
        this.addSource({ name: `tau-${sh}`, type: 'osc', role: 'alpha-speech', pos: posOf(`${sh}11`), sigma: 14, amp: P.alphaRms, freq: alphaF - 0.8, bw: 1.5 });
      }
      if (hgOk) {
        for (const label of roles.speechHG ?? []) {
          const lead = label.startsWith('LAI') || label.startsWith('RAI') ? 0.25 : label.includes('PI') ? 0.1 : -0.05;
          const right = label.startsWith('R');
          this.addSource({
            name: `hg-${label}`, type: 'hg', role: 'hg-speech', pos: posOf(label), sigma: P.localSigma, amp: P.hgRms * (right ? 0.6 : 1),
            freq: 110, bw: 70, lead, tune: speechTuning(this.profile.name, label),
          });
        }
      }
      if (fs >= 400 && P.rippleAmp > 0) {
        for (const label of roles.ripple ?? []) {
          if (!label.endsWith('2')) continue; // one ripple generator per hippocampus, centred on contact 2
          this.addSource({ name: `ripple-${label}`, type: 'ripple', role: 'none', pos: posOf(label), sigma: 3.5, amp: P.rippleAmp });
        }
      }
    } else if (k === 'ecog') {
      const roles = this.profile.roles ?? {};
      const posOf = (label: string): Vec3 => this.profile.channels.find((c) => c.label === label)!.pos as Vec3;
      const centroid = (labels: string[]): Vec3 => {
        const ps = labels.map(posOf);
        return ps.reduce((a, p) => add(a, scale(p, 1 / ps.length)), [0, 0, 0] as Vec3);
      };
      for (let i = 0; i < P.latentN; i++) {
        const ch = this.profile.channels[rs.int(this.profile.channels.length)];
        this.addSource({ name: `latent${i}`, type: 'pink', role: 'const', pos: ch.pos as Vec3, sigma: P.sigma, amp: P.latentRms, beta: P.latentBeta });
      }
      const motor = centroid(roles.motor ?? ['G12']);
      this.addSource({ name: 'mu-L', type: 'osc', role: 'mu-L', pos: motor, sigma: 12, amp: P.muRms, freq: muF, bw: 2 });
      this.addSource({ name: 'beta-L', type: 'osc', role: 'beta-L', pos: motor, sigma: 10, amp: P.betaRms, freq: betaF, bw: 4 });
      this.addSource({ name: 'alpha', type: 'osc', role: 'alpha', pos: posOf('G64'), sigma: 20, amp: P.alphaRms, freq: alphaF, bw: 1.5 });
      if (hgOk) {
        for (const label of roles.motorHG ?? []) {
          this.addSource({ name: `hgm-${label}`, type: 'hg', role: 'hg-mi', pos: posOf(label), sigma: P.localSigma, amp: P.hgRms, freq: 110, bw: 70 });
        }
        for (const label of roles.speechHG ?? []) {
          const n = Number(label.slice(1));
          this.addSource({
            name: `hgs-${label}`, type: 'hg', role: 'hg-speech', pos: posOf(label), sigma: P.localSigma, amp: P.hgRms,
            freq: 110, bw: 70, lead: n < 50 ? 0.1 : -0.05, tune: speechTuning(this.profile.name, label),
          });
        }
      }
    }
  }

  // ------------------------------------------------------------ schedule → envelopes

  /** Schedule events that can influence [t0, t1] (s). */
  private activeEvents(t0: number, t1: number): ScheduleEvent[] {
    const ev = this.schedule.events;
    this.schedule.ensure(t1 + 1);
    while (this.evLo < ev.length && ev[this.evLo].t + ev[this.evLo].dur + 3 < t0) this.evLo++;
    const out = this.actBuf;
    out.length = 0;
    for (let i = this.evLo; i < ev.length && ev[i].t <= t1 + 0.5; i++) {
      const e = ev[i];
      if (e.t + e.dur + 3 >= t0 && (e.kind === 'cue' || e.kind === 'flash')) out.push(e);
    }
    return out;
  }

  private trialRand(e: ScheduleEvent, k: number): number {
    return hashUniform(this.seed, e.trial, k);
  }

  /** Multiplicative gain of a noise-driven source at time t (s). */
  private gainAt(s: Src, t: number, act: ScheduleEvent[]): number {
    let g = 1;
    const role = s.role;
    if (role === 'const' || role === 'none') return 1;
    if (role === 'hg-speech' || role === 'hg-mi') g = 0.25;
    for (const e of act) {
      const dt = t - e.t;
      if (this.paradigm === 'mi' && e.kind === 'cue') {
        const w = win(dt, 0.3, e.dur, 0.7, 0.6);
        const cls = e.cls!;
        const D = 0.4 * (0.8 + 0.4 * this.trialRand(e, 1));
        const contra = (side: 'L' | 'R' | 'C'): number =>
          side === 'L' ? (cls === 'right' ? 1 : cls === 'left' ? 0.15 : -0.25) :
          side === 'R' ? (cls === 'left' ? 1 : cls === 'right' ? 0.15 : -0.25) :
          cls === 'feet' ? 1 : 0.25;
        switch (role) {
          case 'mu-L': case 'mu-R': case 'mu-C':
            g -= D * contra(role.slice(3) as 'L') * w;
            break;
          case 'beta-L': case 'beta-R': case 'beta-C': {
            const c = contra(role.slice(5) as 'L');
            const rb = win(dt, e.dur + 0.4, e.dur + 1.2, 0.3, 0.8); // post-imagery beta rebound (ERS)
            g += -0.9 * D * c * w + (c > 0.5 ? 0.35 : 0.12) * rb;
            break;
          }
          case 'alpha':
            g -= 0.2 * w;
            break;
          case 'hg-mi':
            g += (cls === 'right' ? 1 : cls === 'left' ? 0.3 : 0.15) * w;
            break;
        }
      } else if (this.paradigm === 'rest' && e.kind === 'cue') {
        if (role === 'alpha' && e.cls === 'eyes-closed') g += 1.5 * win(dt, 0.5, e.dur, 1.0, 1.0);
      } else if ((this.paradigm === 'ssvep' || this.paradigm === 'p300') && role === 'alpha') {
        if (e.kind === 'cue') g -= 0.4 * win(dt, 0.2, e.dur, 0.5, 0.5);
        else g -= 0.25 * win(dt, 0, 0.25, 0.1, 0.3) * 0.8;
      } else if (this.paradigm === 'speech' && e.speech) {
        const sp = e.speech;
        const ds = t - sp.onset;
        if (role === 'hg-speech') {
          // trial-to-trial variability: response latency (±40 ms, shared by all sites),
          // overall amplitude (±20 %) and each site's own amplitude (±25 %)
          const d = ds + s.lead + 0.08 * (this.trialRand(e, 7) - 0.5);
          const w = win(d, 0, sp.dur, 0.06, 0.15);
          if (w > 0) {
            let a = SPEECH_HG_GAIN * (0.8 + 0.4 * this.trialRand(e, 2));
            let r = 1;
            if (s.tune) {
              r = speechResponse(s.tune, sp.word, Math.min(d, sp.dur - 1e-3), this.featBuf);
              a *= 0.75 + 0.5 * hashUniform(this.seed, e.trial, 8, s.tune.key);
            }
            g += a * w * r;
          }
        } else if (role === 'beta-speech') {
          g -= 0.4 * win(ds, -0.3, sp.dur, 0.3, 0.5);
        } else if (role === 'alpha-speech') {
          g -= 0.3 * win(ds, -0.1, sp.dur, 0.2, 0.5);
        }
      }
    }
    return Math.max(0.05, g);
  }

  // ------------------------------------------------------------ block synthesis

  private genBlock(): void {
    const B = this.B, C = this.C, fs = this.fs;
    const start = this.blockStart + B;
    this.blockStart = start;
    this.rowPos = 0;
    const t0 = start / fs, t1 = (start + B) / fs;
    const rows = this.rowBuf, Cout = this.Cout;

    // schedule markers for this block
    this.schedule.ensure(t1 + 1);
    const ev = this.schedule.events;
    while (this.evCursor < ev.length) {
      const e = ev[this.evCursor];
      const si = Math.round(e.t * fs);
      if (si >= start + B) break;
      this.pending.push({ sampleIndex: si, t: si / fs, label: e.label });
      if (this.annotate && e.speech) {
        const on = Math.round(e.speech.onset * fs), off = Math.round((e.speech.onset + e.speech.dur) * fs);
        this.pending.push({ sampleIndex: on, t: on / fs, label: `truth:speech-onset/${e.speech.word}` });
        this.pending.push({ sampleIndex: off, t: off / fs, label: `truth:speech-offset/${e.speech.word}` });
      }
      this.evCursor++;
    }

    if (this.kind === 'markers') return;
    if (this.kind === 'audio') {
      const utt: Utterance[] = [];
      for (const e of this.activeEvents(t0, t1)) {
        if (e.speech) utt.push({ word: e.speech.word, onset: e.speech.onset, dur: e.speech.dur, f0: 100 + 40 * this.trialRand(e, 3) });
      }
      this.synth!.render(rows, 0, Cout, B, t0, utt);
      if (this.hasCounter) for (let k = 0; k < B; k++) rows[k * Cout + C] = (start + k) % COUNTER_MODULUS;
      return;
    }

    const P = this.P!;
    const X = this.X, noise = this.noise, S = this.S;

    // 1. mains waveforms shared by all channels (exact functions of the sample index)
    const line = this.art.line;
    if (line) {
      const om = (2 * Math.PI * this.lineFreq) / fs;
      const per = fs * 100; // 100 s: an integer number of mains cycles, keeps the phase argument small
      const mod0 = 1 + 0.2 * Math.sin((2 * Math.PI * t0) / 37);
      const mod1 = 1 + 0.2 * Math.sin((2 * Math.PI * t1) / 37);
      for (let k = 0; k < B; k++) {
        const ph = om * ((start + k) % per);
        const m = mod0 + ((mod1 - mod0) * k) / B;
        this.L1[k] = m * Math.sin(ph);
        let h = 0;
        for (const H of this.lineHarm) h += H.a * Math.sin(H.k * ph + H.ph);
        this.LH[k] = m * h;
      }
    }
    const L1 = this.L1, LH = this.LH;

    // 2. per channel, fused: 1/f background (≤ 8 one-pole stages, shared white drive)
    //    + mains (per-channel gains) + drift (per-block AR(1), linearly interpolated,
    //    with slowly varying volatility)
    this.rngChan.fillGauss(noise, 0, C * B);
    const pk = this.chanPink!;
    const np = pk.p.length;
    const st = this.chanState;
    const pp = this.pinkP8, gg = this.pinkG8;
    const p0 = pp[0], p1 = pp[1], p2 = pp[2], p3 = pp[3], p4 = pp[4], p5 = pp[5], p6 = pp[6], p7 = pp[7];
    const g0 = gg[0], g1 = gg[1], g2 = gg[2], g3 = gg[3], g4 = gg[4], g5 = gg[5], g6 = gg[6], g7 = gg[7];
    const wh = pk.white;
    const drift = this.art.drift, rho = this.driftRho;
    for (let c = 0; c < C; c++) {
      const o = c * B, so = c * np;
      let s0 = np > 0 ? st[so] : 0, s1 = np > 1 ? st[so + 1] : 0, s2 = np > 2 ? st[so + 2] : 0, s3 = np > 3 ? st[so + 3] : 0;
      let s4 = np > 4 ? st[so + 4] : 0, s5 = np > 5 ? st[so + 5] : 0, s6 = np > 6 ? st[so + 6] : 0, s7 = np > 7 ? st[so + 7] : 0;
      const la = line ? this.lineA[c] : 0, lb = line ? this.lineB[c] : 0;
      let d0 = 0, dd = 0;
      if (drift) {
        const vol = 0.4 + 1.2 * Math.sin((2 * Math.PI * t0) / 97 + this.driftPhase[c]) ** 2;
        d0 = this.drift[c];
        const d1 = rho * d0 + this.driftStep * vol * this.rngArt.gauss();
        this.drift[c] = d1;
        dd = (d1 - d0) / B;
      }
      for (let k = 0; k < B; k++) {
        const e = noise[o + k];
        s0 = p0 * s0 + g0 * e; s1 = p1 * s1 + g1 * e; s2 = p2 * s2 + g2 * e; s3 = p3 * s3 + g3 * e;
        s4 = p4 * s4 + g4 * e; s5 = p5 * s5 + g5 * e; s6 = p6 * s6 + g6 * e; s7 = p7 * s7 + g7 * e;
        X[o + k] = wh * e + s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + la * L1[k] + lb * LH[k] + d0 + dd * k;
      }
      if (np > 0) st[so] = s0;
      if (np > 1) st[so + 1] = s1;
      if (np > 2) st[so + 2] = s2;
      if (np > 3) st[so + 3] = s3;
      if (np > 4) st[so + 4] = s4;
      if (np > 5) st[so + 5] = s5;
      if (np > 6) st[so + 6] = s6;
      if (np > 7) st[so + 7] = s7;
    }

    // 3. sources through the sparse spatial matrix
    const act = this.activeEvents(t0, t1);
    for (const s of this.sources) {
      if (this.sourceWave(s, start, act, P)) mixAdd(X, S, s.idx, s.w, B);
    }

    // 5. electrode pops
    if (this.art.pops && P.popPerMin > 0) {
      while (this.nextPop < start + B) {
        const c = this.rngArt.int(C);
        const amp = (this.rngArt.uniform() < 0.5 ? -1 : 1) * P.popAmp * this.rngArt.range(0.5, 1.5);
        const tau = this.rngArt.range(0.15, 0.8);
        this.pops.push({ c, v: amp, decay: Math.exp(-1 / (tau * fs)), start: this.nextPop, floor: Math.abs(amp) * 0.003 });
        if (this.annotate) this.pending.push({ sampleIndex: this.nextPop, t: this.nextPop / fs, label: `truth:pop/${this.chanLabels[c]}` });
        this.nextPop += Math.max(1, Math.floor(this.rngArt.exp((fs * 60) / P.popPerMin)));
      }
      for (const p of this.pops) {
        const o = p.c * B;
        for (let k = Math.max(0, p.start - start); k < B; k++) {
          X[o + k] += p.v;
          p.v *= p.decay;
        }
      }
      if (this.pops.length) this.pops = this.pops.filter((p) => Math.abs(p.v) > p.floor);
    }

    // 6. dropouts: channel forced to exactly 0
    if (this.dropout) {
      const d = this.dropout;
      while (this.nextDrop < start + B) {
        const c = this.rngArt.int(C);
        const len = Math.round(Math.min(20, Math.max(0.5, this.rngArt.exp(d.meanSec))) * fs);
        this.drops.push({ c, start: this.nextDrop, end: this.nextDrop + len });
        if (this.annotate) {
          this.pending.push({ sampleIndex: this.nextDrop, t: this.nextDrop / fs, label: `truth:dropout/${this.chanLabels[c]}` });
          this.pending.push({ sampleIndex: this.nextDrop + len, t: (this.nextDrop + len) / fs, label: `truth:reconnect/${this.chanLabels[c]}` });
        }
        this.nextDrop += Math.max(1, Math.floor(this.rngArt.exp((fs * 60) / d.ratePerMin)));
      }
      for (const dr of this.drops) {
        const o = dr.c * B;
        const k0 = Math.max(0, dr.start - start), k1 = Math.min(B, dr.end - start);
        for (let k = k0; k < k1; k++) X[o + k] = 0;
      }
      if (this.drops.length) this.drops = this.drops.filter((dr) => dr.end > start + B);
    }

    // 7. transpose to row-major float32 (+ COUNTER)
    for (let c = 0; c < C; c++) {
      const o = c * B;
      for (let k = 0; k < B; k++) rows[k * Cout + c] = X[o + k];
    }
    if (this.hasCounter) for (let k = 0; k < B; k++) rows[k * Cout + C] = (start + k) % COUNTER_MODULUS;
  }

  /** Fill this.S with source s over the block; false if the source is silent in this block. */
  private sourceWave(s: Src, start: number, act: ScheduleEvent[], P: ModalityParams): boolean {
    const B = this.B, fs = this.fs, S = this.S;
    const t0 = start / fs, t1 = (start + B) / fs;
    switch (s.type) {
      case 'pink': {
        const pk = s.pink!, st = s.pinkState!;
        this.rngSrc.fillGauss(S, 0, B);
        const amp = s.amp, al = s.lpAlpha;
        let y1 = s.x1, y2 = s.x2;
        for (let k = 0; k < B; k++) {
          const e = S[k];
          let y = pk.white * e;
          for (let i = 0; i < st.length; i++) {
            st[i] = pk.p[i] * st[i] + pk.g[i] * e;
            y += st[i];
          }
          // two cascaded one-pole low-passes (regional fields carry little high-frequency power)
          y1 += al * (y - y1);
          y2 += al * (y1 - y2);
          S[k] = amp * y2;
        }
        s.x1 = y1; s.x2 = y2;
        return true;
      }
      case 'osc':
      case 'hg': {
        this.rngSrc.fillGauss(S, 0, B);
        const g0 = s.lastGain, g1 = this.gainAt(s, t1, act);
        s.lastGain = g1;
        const a1 = s.a1, a2 = s.a2, gn = s.g;
        let x1 = s.x1, x2 = s.x2;
        const amp = s.amp, dg = (g1 - g0) / B;
        for (let k = 0; k < B; k++) {
          const x = a1 * x1 + a2 * x2 + S[k];
          x2 = x1; x1 = x;
          S[k] = amp * (g0 + dg * k) * gn * x;
        }
        s.x1 = x1; s.x2 = x2;
        return true;
      }
      case 'ssvep': {
        let any = false;
        S.fill(0);
        for (const e of act) {
          if (this.paradigm !== 'ssvep' || e.kind !== 'cue') continue;
          if (t0 > e.t + e.dur + 0.3 || t1 < e.t) continue;
          any = true;
          const f = Number(e.cls);
          const a = s.amp * (0.8 + 0.4 * this.trialRand(e, 4));
          const ph = -2 * Math.PI * f * 0.09; // ~90 ms visual latency
          for (let k = 0; k < B; k++) {
            const dt = (start + k) / fs - e.t;
            const wv = win(dt, 0.1, e.dur, 0.3, 0.15);
            if (wv === 0) continue;
            const x = 2 * Math.PI * f * dt + ph;
            let v = Math.sin(x);
            if (2 * f < fs / 2) v += 0.45 * Math.sin(2 * x + 0.7);
            if (3 * f < fs / 2) v += 0.2 * Math.sin(3 * x + 1.9);
            S[k] += a * wv * Math.SQRT2 * v;
          }
        }
        return any;
      }
      case 'p300':
      case 'vep': {
        let any = false;
        S.fill(0);
        for (const e of act) {
          if (t1 < e.t || t0 > e.t + 1.2) continue;
          if (s.type === 'p300' && !(e.kind === 'flash' && e.cls === 'target')) continue;
          any = true;
          const r1 = this.trialRand(e, 5), r2 = this.trialRand(e, 6);
          for (let k = 0; k < B; k++) {
            const dt = (start + k) / fs - e.t;
            if (dt < 0 || dt > 1.2) continue;
            let v: number;
            if (s.type === 'p300') {
              const lat = 0.3 + 0.06 * (r1 - 0.5);
              const a = s.amp * (0.7 + 0.6 * r2);
              const z = (dt - lat) / 0.075;
              v = a * Math.exp(-0.5 * z * z);
            } else {
              // visual evoked N1 (~170 ms, −3 µV) and P2 (~240 ms, +2.5 µV)
              const z1 = (dt - 0.17) / 0.025, z2 = (dt - 0.24) / 0.035;
              v = s.amp * (0.85 + 0.3 * r1) * (-3 * Math.exp(-0.5 * z1 * z1) + 2.5 * Math.exp(-0.5 * z2 * z2));
            }
            S[k] += v;
          }
        }
        return any;
      }
      case 'blink': {
        if (!this.art.blinks) return false;
        // candidate onsets at the base rate, thinned while the eyes are closed
        while (this.nextBlink < start + B) {
          const tb = this.nextBlink / fs;
          let keep = 1;
          for (const e of act) if (e.cls === 'eyes-closed' && tb >= e.t && tb < e.t + e.dur) keep = 0;
          const amp = this.rngArt.range(0.65, 1.35);
          if (this.rngArt.uniform() < keep) {
            s.wavelets.push({ start: this.nextBlink, amp: amp * s.amp, freq: 0, dur: 0.6 });
            if (this.annotate) this.pending.push({ sampleIndex: this.nextBlink, t: tb, label: 'truth:blink' });
          }
          this.nextBlink += Math.max(Math.round(0.6 * fs), Math.floor(this.rngArt.exp((fs * 60) / P.blinkPerMin)));
        }
        if (s.wavelets.length === 0) return false;
        S.fill(0);
        const tau = 0.1;
        for (const b of s.wavelets) {
          for (let k = Math.max(0, b.start - start); k < B; k++) {
            const x = (start + k - b.start) / fs / tau;
            S[k] += b.amp * x * x * Math.exp(2 - 2 * x);
          }
        }
        s.wavelets = s.wavelets.filter((b) => (start + B - b.start) / fs < b.dur);
        return true;
      }
      case 'ripple': {
        while (s.nextEvent < start + B) {
          const f = Math.min(fs * 0.4, this.rngArt.range(100, 180));
          const dur = this.rngArt.range(0.03, 0.1);
          const amp = s.amp * this.rngArt.range(0.6, 1.2);
          s.wavelets.push({ start: s.nextEvent, amp, freq: f, dur });
          if (this.annotate) this.pending.push({ sampleIndex: s.nextEvent, t: s.nextEvent / fs, label: `truth:ripple/${s.site}` });
          s.nextEvent += Math.round(0.2 * fs) + Math.floor(this.rngArt.exp(fs / 0.3));
        }
        if (s.wavelets.length === 0) return false;
        S.fill(0);
        for (const r of s.wavelets) {
          const sd = r.dur / 5, c = r.dur / 2;
          for (let k = Math.max(0, r.start - start); k < B; k++) {
            const dt = (start + k - r.start) / fs;
            if (dt > r.dur) break;
            const z = (dt - c) / sd;
            S[k] += r.amp * Math.exp(-0.5 * z * z) * Math.sin(2 * Math.PI * r.freq * dt);
          }
        }
        s.wavelets = s.wavelets.filter((r) => (start + B - r.start) / fs < r.dur);
        return true;
      }
    }
  }

  // ------------------------------------------------------------ public API

  /** Number of samples returned so far. */
  get samplesEmitted(): number {
    return this.emitted;
  }

  /** Next `n` samples, row-major n × channels.length. */
  next(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new Error(`next(n): n must be a non-negative integer (got ${n})`);
    const out = new Float32Array(n * this.Cout);
    this.nextInto(out, n);
    return out;
  }

  /** Write the next `n` samples into `out` (length ≥ n × channels.length). */
  nextInto(out: Float32Array, n: number): void {
    const Cout = this.Cout, B = this.B;
    let done = 0;
    while (done < n) {
      if (this.rowPos >= B) this.genBlock();
      const take = Math.min(n - done, B - this.rowPos);
      const src = this.rowBuf, a = this.rowPos * Cout, len = take * Cout, o = done * Cout;
      if (len > 256) out.set(src.subarray(a, a + len), o);
      else for (let i = 0; i < len; i++) out[o + i] = src[a + i];
      this.rowPos += take;
      done += take;
    }
    this.emitted += n;
  }

  /** Drain the markers whose sample has been returned by `next()`, in order. */
  events(): SimEvent[] {
    if (this.pending.length === 0) return [];
    // make sure markers up to the emitted sample exist even if no block was generated yet
    const limit = this.emitted;
    const ready: SimEvent[] = [];
    const keep: SimEvent[] = [];
    for (const e of this.pending) (e.sampleIndex < limit ? ready : keep).push(e);
    this.pending = keep;
    ready.sort((a, b) => a.sampleIndex - b.sampleIndex);
    return ready;
  }

  /**
   * Advance the marker stream without producing samples (markers profile): returns the
   * markers with sampleIndex < `sampleIndex` (on the virtual clock of `srate`).
   */
  advanceTo(sampleIndex: number): SimEvent[] {
    const n = sampleIndex - this.emitted;
    if (n > 0) {
      if (this.Cout === 0) {
        while (this.blockStart + this.B < sampleIndex) this.genBlock();
        this.emitted = sampleIndex;
      } else this.next(n);
    }
    return this.events();
  }
}

// ---------------------------------------------------------------- offline recordings

export interface Recording {
  /** samples × channels, row-major */
  data: Float32Array;
  srate: number;
  channels: ChannelInfo[];
  events: SimEvent[];
  profile: string;
  paradigm: Paradigm;
  seed: number;
}

/**
 * A finite recording for offline training / tests. `opts` are passed to the generator
 * (e.g. `{ artifacts: false, schedule: { calibTrials: 5 } }`).
 */
export function generateRecording(
  profileName: string | DeviceProfile,
  paradigm: Paradigm,
  seed: number,
  seconds: number,
  opts: Omit<GeneratorOptions, 'seed' | 'paradigm'> = {},
): Recording {
  const profile = typeof profileName === 'string' ? getProfile(profileName) : profileName;
  if (profile.kind === 'markers') throw new Error('generateRecording: the markers profile has no samples; use SignalGenerator.advanceTo()');
  const gen = new SignalGenerator(profile, { ...opts, seed, paradigm });
  const n = Math.round(seconds * gen.srate);
  const data = gen.next(n);
  return { data, srate: gen.srate, channels: gen.channels, events: gen.events(), profile: profile.name, paradigm, seed };
}
