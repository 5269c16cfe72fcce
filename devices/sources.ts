/**
 * The simulator's sources: latent 1/f fields, rhythms (AR(2) resonators for
 * alpha, mu, beta, theta and high gamma), evoked-response and event generators,
 * each with a sparse spatial column over the montage. Where each modality puts
 * them and why: docs/devices.md, "Signal model".
 */
import type { Rng } from '../src/util/random.ts';
import type { DeviceKind, DeviceProfile } from './profiles.ts';
import { type Vec3, dist2, normalize, cross, add, scale, sub, tenTenPosition, seegContactPosition, SEEG_SHAFTS } from './geometry.ts';
import type { ModalityParams } from './modality-params.ts';
import { designPink, resonator, type Pink } from './noise-filters.ts';
import { speechTuning, type SpeechTuning } from './speech-tuning.ts';

export type SrcType = 'pink' | 'osc' | 'hg' | 'ssvep' | 'p300' | 'vep' | 'blink' | 'ripple';
/** Which task envelope drives a source's gain (responses.ts, gainAt). */
export type Role =
  | 'const' | 'alpha' | 'mu-L' | 'mu-R' | 'mu-C' | 'beta-L' | 'beta-R' | 'beta-C'
  | 'hg-speech' | 'hg-mi' | 'beta-speech' | 'alpha-speech' | 'none';

/** One source: its spatial column (channel indices and weights) and its filter or event state. */
export interface Src {
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

/** One transient (blink, ripple) in progress. */
export interface Wavelet {
  start: number; // sample
  amp: number;
  freq: number;
  dur: number; // s
}

/** Records a ground-truth `truth:*` event at a sample (only when annotating). */
export type Note = (sampleIndex: number, t: number, label: string) => void;

/** What source placement needs from the generator. */
export interface SourceLayout {
  profile: DeviceProfile;
  kind: DeviceKind;
  fs: number;
  P: ModalityParams;
  chanLabels: string[];
  /** ripple sources draw their first onset from the artifact stream */
  rngArt: Rng;
}

/** Channel positions in the frame used for spatial weights. */
function channelFrame(profile: DeviceProfile, kind: DeviceKind): Vec3[] {
  return profile.channels.map((ch) => {
    const p = (ch.pos ?? [0, 0, 1]) as Vec3;
    if (kind === 'meg') return normalize([p[0], p[1], p[2] - 0.04]);
    if (kind === 'eeg' || kind === 'synthetic') return normalize(p);
    return p;
  });
}

interface SourceSpec {
  name: string; type: SrcType; role: Role; pos: Vec3; sigma: number; amp: number;
  freq?: number; bw?: number; beta?: number; lead?: number; tune?: SpeechTuning;
}

/** A source at `spec.pos` with Gaussian (or, for MEG, dipolar) spatial weights; undefined when no channel sees it. */
function placeSource(L: SourceLayout, frame: Vec3[], spec: SourceSpec): Src | undefined {
  const P = L.P;
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
  if (wmax < 1e-6) return undefined; // the source is invisible to this montage
  const idx: number[] = [];
  const w: number[] = [];
  let best = 0, site = '';
  for (let c = 0; c < ws.length; c++) {
    const v = ws[c] / wmax;
    if (Math.abs(v) >= 0.02) { idx.push(c); w.push(v); }
    if (Math.abs(v) > best) { best = Math.abs(v); site = L.chanLabels[c]; }
  }
  const src: Src = {
    name: spec.name, type: spec.type, role: spec.role, idx: Int32Array.from(idx), w: Float64Array.from(w), amp: spec.amp,
    a1: 0, a2: 0, g: 0, x1: 0, x2: 0, freq: spec.freq ?? 0, lead: spec.lead ?? 0, site, lastGain: 1, lpAlpha: 1,
    nextEvent: Infinity, wavelets: [], tune: spec.tune,
  };
  if (spec.type === 'osc' || spec.type === 'hg') {
    const r = resonator(spec.freq!, spec.bw!, L.fs);
    src.a1 = r.a1; src.a2 = r.a2; src.g = r.g;
  } else if (spec.type === 'pink') {
    // latent (regional) generators are slow: 1/f^β up to ~40 Hz, then 1/f² roll-off,
    // so broadband / high-gamma power stays local (per-channel noise + local sources)
    src.pink = designPink(L.fs, spec.beta ?? 1.7, 1, 40);
    src.lpAlpha = 1 - Math.exp((-2 * Math.PI * 40) / L.fs);
    src.pinkState = new Float64Array(src.pink.p.length);
  } else if (spec.type === 'ripple') {
    src.nextEvent = Math.floor(L.rngArt.exp(L.fs / 0.3));
  }
  return src;
}

/** The sources of one montage, in a fixed order (their noise is drawn in this order), from the static stream `rs`. */
export function buildSources(L: SourceLayout, rs: Rng): Src[] {
  const sources: Src[] = [];
  const frame = channelFrame(L.profile, L.kind);
  const addSource = (spec: SourceSpec): void => {
    const src = placeSource(L, frame, spec);
    if (src) sources.push(src);
  };
  const P = L.P;
  const profile = L.profile;
  const fs = L.fs;
  const hgOk = fs >= 350 && P.hgRms > 0;
  const alphaF = rs.range(9.3, 10.7);
  const muF = alphaF + rs.range(0.6, 1.6);
  const betaF = 2 * muF + rs.range(-1.5, 1.5);
  const k = L.kind;
  if (k === 'eeg' || k === 'synthetic' || k === 'meg') {
    const T = (l: string): Vec3 => tenTenPosition(l);
    const mid = (a: string, b: string): Vec3 => normalize(add(T(a), T(b)));
    for (let i = 0; i < P.latentN; i++) {
      let d: Vec3;
      do d = normalize([rs.gauss(), rs.gauss(), rs.gauss()]); while (d[2] < -0.2);
      addSource({ name: `latent${i}`, type: 'pink', role: 'const', pos: d, sigma: P.sigma * 1.2, amp: P.latentRms, beta: P.latentBeta });
    }
    addSource({ name: 'alpha-L', type: 'osc', role: 'alpha', pos: mid('O1', 'PO3'), sigma: P.sigma, amp: P.alphaRms, freq: alphaF, bw: 1.5 });
    addSource({ name: 'alpha-R', type: 'osc', role: 'alpha', pos: mid('O2', 'PO4'), sigma: P.sigma, amp: P.alphaRms, freq: alphaF + 0.1, bw: 1.5 });
    addSource({ name: 'mu-L', type: 'osc', role: 'mu-L', pos: mid('C3', 'CP3'), sigma: P.localSigma, amp: P.muRms, freq: muF, bw: 2 });
    addSource({ name: 'mu-R', type: 'osc', role: 'mu-R', pos: mid('C4', 'CP4'), sigma: P.localSigma, amp: P.muRms, freq: muF + 0.2, bw: 2 });
    addSource({ name: 'mu-C', type: 'osc', role: 'mu-C', pos: mid('Cz', 'FCz'), sigma: P.localSigma, amp: P.muRms * 0.7, freq: muF - 0.3, bw: 2 });
    addSource({ name: 'beta-L', type: 'osc', role: 'beta-L', pos: mid('C3', 'FC3'), sigma: P.localSigma, amp: P.betaRms, freq: betaF, bw: 4 });
    addSource({ name: 'beta-R', type: 'osc', role: 'beta-R', pos: mid('C4', 'FC4'), sigma: P.localSigma, amp: P.betaRms, freq: betaF + 0.5, bw: 4 });
    addSource({ name: 'beta-C', type: 'osc', role: 'beta-C', pos: mid('Cz', 'FCz'), sigma: P.localSigma, amp: P.betaRms * 0.7, freq: betaF - 0.5, bw: 4 });
    addSource({ name: 'p300', type: 'p300', role: 'none', pos: mid('Pz', 'CPz'), sigma: P.sigma * 1.1, amp: 7 * P.erpScale });
    addSource({ name: 'vep', type: 'vep', role: 'none', pos: mid('Oz', 'POz'), sigma: P.sigma, amp: 1 * P.erpScale });
    addSource({ name: 'ssvep', type: 'ssvep', role: 'none', pos: mid('Oz', 'POz'), sigma: P.sigma * 0.9, amp: P.ssvepAmp });
    if (P.blinkAmp > 0) addSource({ name: 'blink', type: 'blink', role: 'none', pos: normalize([0, 0.95, -0.35]), sigma: 0.55, amp: P.blinkAmp });
  } else if (k === 'seeg') {
    const roles = profile.roles ?? {};
    const posOf = (label: string): Vec3 => {
      const ch = profile.channels.find((c) => c.label === label);
      if (!ch?.pos) throw new Error(`seeg: no position for ${label}`);
      return ch.pos as Vec3;
    };
    for (const sh of SEEG_SHAFTS) {
      const midC = Math.ceil(sh.contacts / 2);
      addSource({ name: `latent-${sh.name}`, type: 'pink', role: 'const', pos: seegContactPosition(sh, midC), sigma: P.sigma, amp: P.latentRms, beta: P.latentBeta });
    }
    for (const h of ['LH', 'RH']) {
      addSource({ name: `theta-${h}`, type: 'osc', role: 'const', pos: posOf(`${h}3`), sigma: 8, amp: P.thetaRms, freq: rs.range(5, 7), bw: 2 });
      addSource({ name: `p300-${h}`, type: 'p300', role: 'none', pos: posOf(`${h}2`), sigma: 8, amp: 7 * P.erpScale });
    }
    for (const sh of ['LPI', 'RPI', 'LAI', 'RAI']) {
      addSource({ name: `beta-${sh}`, type: 'osc', role: 'beta-speech', pos: posOf(`${sh}${sh.endsWith('AI') ? 9 : 4}`), sigma: 10, amp: P.betaRms, freq: betaF, bw: 4 });
    }
    for (const sh of ['LT', 'RT']) {
      addSource({ name: `tau-${sh}`, type: 'osc', role: 'alpha-speech', pos: posOf(`${sh}11`), sigma: 14, amp: P.alphaRms, freq: alphaF - 0.8, bw: 1.5 });
    }
    if (hgOk) {
      for (const label of roles.speechHG ?? []) {
        const lead = label.startsWith('LAI') || label.startsWith('RAI') ? 0.25 : label.includes('PI') ? 0.1 : -0.05;
        const right = label.startsWith('R');
        addSource({
          name: `hg-${label}`, type: 'hg', role: 'hg-speech', pos: posOf(label), sigma: P.localSigma, amp: P.hgRms * (right ? 0.6 : 1),
          freq: 110, bw: 70, lead, tune: speechTuning(profile.name, label),
        });
      }
    }
    if (fs >= 400 && P.rippleAmp > 0) {
      for (const label of roles.ripple ?? []) {
        if (!label.endsWith('2')) continue; // one ripple generator per hippocampus, centred on contact 2
        addSource({ name: `ripple-${label}`, type: 'ripple', role: 'none', pos: posOf(label), sigma: 3.5, amp: P.rippleAmp });
      }
    }
  } else if (k === 'ecog') {
    const roles = profile.roles ?? {};
    const posOf = (label: string): Vec3 => profile.channels.find((c) => c.label === label)!.pos as Vec3;
    const centroid = (labels: string[]): Vec3 => {
      const ps = labels.map(posOf);
      return ps.reduce((a, p) => add(a, scale(p, 1 / ps.length)), [0, 0, 0] as Vec3);
    };
    for (let i = 0; i < P.latentN; i++) {
      const ch = profile.channels[rs.int(profile.channels.length)];
      addSource({ name: `latent${i}`, type: 'pink', role: 'const', pos: ch.pos as Vec3, sigma: P.sigma, amp: P.latentRms, beta: P.latentBeta });
    }
    const motor = centroid(roles.motor ?? ['G12']);
    addSource({ name: 'mu-L', type: 'osc', role: 'mu-L', pos: motor, sigma: 12, amp: P.muRms, freq: muF, bw: 2 });
    addSource({ name: 'beta-L', type: 'osc', role: 'beta-L', pos: motor, sigma: 10, amp: P.betaRms, freq: betaF, bw: 4 });
    addSource({ name: 'alpha', type: 'osc', role: 'alpha', pos: posOf('G64'), sigma: 20, amp: P.alphaRms, freq: alphaF, bw: 1.5 });
    if (hgOk) {
      for (const label of roles.motorHG ?? []) {
        addSource({ name: `hgm-${label}`, type: 'hg', role: 'hg-mi', pos: posOf(label), sigma: P.localSigma, amp: P.hgRms, freq: 110, bw: 70 });
      }
      for (const label of roles.speechHG ?? []) {
        const n = Number(label.slice(1));
        addSource({
          name: `hgs-${label}`, type: 'hg', role: 'hg-speech', pos: posOf(label), sigma: P.localSigma, amp: P.hgRms,
          freq: 110, bw: 70, lead: n < 50 ? 0.1 : -0.05, tune: speechTuning(profile.name, label),
        });
      }
    }
  }
  return sources;
}

/** S ← a latent 1/f source over one block of B samples (noise from `rng`). */
export function pinkWave(s: Src, S: Float64Array, B: number, rng: Rng): void {
  const pk = s.pink!, st = s.pinkState!;
  rng.fillGauss(S, 0, B);
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
}

/** S ← a rhythm (AR(2) resonator) over one block, its gain ramped linearly from the last block's to `g1`. */
export function resonatorWave(s: Src, S: Float64Array, B: number, rng: Rng, g1: number): void {
  rng.fillGauss(S, 0, B);
  const g0 = s.lastGain;
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
}

/** S ← hippocampal ripples (Poisson onsets, Gaussian-windowed 100–180 Hz) over the block at `start`; false when none is active. */
export function rippleWave(s: Src, S: Float64Array, start: number, B: number, fs: number, rng: Rng, note: Note | undefined): boolean {
  while (s.nextEvent < start + B) {
    const f = Math.min(fs * 0.4, rng.range(100, 180));
    const dur = rng.range(0.03, 0.1);
    const amp = s.amp * rng.range(0.6, 1.2);
    s.wavelets.push({ start: s.nextEvent, amp, freq: f, dur });
    note?.(s.nextEvent, s.nextEvent / fs, `truth:ripple/${s.site}`);
    s.nextEvent += Math.round(0.2 * fs) + Math.floor(rng.exp(fs / 0.3));
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
