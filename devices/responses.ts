/**
 * Paradigm responses: how the trial schedule modulates the simulated sources —
 * multiplicative gain envelopes (motor-imagery ERD/ERS, alpha blocking, speech
 * high gamma) and event-locked waveforms (SSVEP, P300, visual evoked N1/P2).
 * Shapes, sizes and sources: docs/devices.md, "Signal model".
 */
import type { Paradigm } from './profiles.ts';
import { hashUniform } from '../src/util/random.ts';
import type { Schedule, ScheduleEvent } from './schedule.ts';
import type { Src } from './sources.ts';
import { SPEECH_HG_GAIN, speechResponse } from './speech-tuning.ts';

const smooth = (x: number): number => (x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x));
/** 0 before a, smooth rise over [a, a+rin], 1 until b, smooth fall over [b, b+rout]. */
export function win(dt: number, a: number, b: number, rin: number, rout: number): number {
  if (dt <= a || dt >= b + rout) return 0;
  if (dt < a + rin) return smooth((dt - a) / rin);
  if (dt <= b) return 1;
  return 1 - smooth((dt - b) / rout);
}

/** What the responses need from the generator: the task, the seed (per-trial variability) and a scratch buffer. */
export interface TaskContext {
  paradigm: Paradigm;
  seed: number;
  /** articulatory features scratch (N_ARTIC) */
  featBuf: Float64Array<ArrayBuffer>;
}

/** Stateless per-trial variability in [0, 1), keyed by (seed, trial, k). */
export function trialRand(seed: number, e: ScheduleEvent, k: number): number {
  return hashUniform(seed, e.trial, k);
}

/** The schedule's cues and flashes that can still shape a time span; spans must advance. */
export class ActiveEvents {
  private lo = 0; // first schedule event possibly still active
  private readonly buf: ScheduleEvent[] = [];
  constructor(private readonly schedule: Schedule) {}

  /** Schedule events that can influence [t0, t1] (s); the returned array is reused. */
  at(t0: number, t1: number): ScheduleEvent[] {
    const ev = this.schedule.events;
    this.schedule.ensure(t1 + 1);
    while (this.lo < ev.length && ev[this.lo].t + ev[this.lo].dur + 3 < t0) this.lo++;
    const out = this.buf;
    out.length = 0;
    for (let i = this.lo; i < ev.length && ev[i].t <= t1 + 0.5; i++) {
      const e = ev[i];
      if (e.t + e.dur + 3 >= t0 && (e.kind === 'cue' || e.kind === 'flash')) out.push(e);
    }
    return out;
  }
}

/** Multiplicative gain of a noise-driven source at time t (s). */
export function gainAt(s: Src, t: number, act: ScheduleEvent[], task: TaskContext): number {
  let g = 1;
  const role = s.role;
  if (role === 'const' || role === 'none') return 1;
  if (role === 'hg-speech' || role === 'hg-mi') g = 0.25;
  for (const e of act) {
    const dt = t - e.t;
    if (task.paradigm === 'mi' && e.kind === 'cue') {
      const w = win(dt, 0.3, e.dur, 0.7, 0.6);
      const cls = e.cls!;
      const D = 0.4 * (0.8 + 0.4 * trialRand(task.seed, e, 1));
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
    } else if (task.paradigm === 'rest' && e.kind === 'cue') {
      if (role === 'alpha' && e.cls === 'eyes-closed') g += 1.5 * win(dt, 0.5, e.dur, 1.0, 1.0);
    } else if ((task.paradigm === 'ssvep' || task.paradigm === 'p300') && role === 'alpha') {
      if (e.kind === 'cue') g -= 0.4 * win(dt, 0.2, e.dur, 0.5, 0.5);
      else g -= 0.25 * win(dt, 0, 0.25, 0.1, 0.3) * 0.8;
    } else if (task.paradigm === 'speech' && e.speech) {
      const sp = e.speech;
      const ds = t - sp.onset;
      if (role === 'hg-speech') {
        // trial-to-trial variability: response latency (±40 ms, shared by all sites),
        // overall amplitude (±20 %) and each site's own amplitude (±25 %)
        const d = ds + s.lead + 0.08 * (trialRand(task.seed, e, 7) - 0.5);
        const w = win(d, 0, sp.dur, 0.06, 0.15);
        if (w > 0) {
          let a = SPEECH_HG_GAIN * (0.8 + 0.4 * trialRand(task.seed, e, 2));
          let r = 1;
          if (s.tune) {
            r = speechResponse(s.tune, sp.word, Math.min(d, sp.dur - 1e-3), task.featBuf);
            a *= 0.75 + 0.5 * hashUniform(task.seed, e.trial, 8, s.tune.key);
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

/** S ← the SSVEP of source `s` over the block at `start` (B samples); false when no stimulus is on. */
export function ssvepWave(s: Src, S: Float64Array, start: number, B: number, fs: number, act: ScheduleEvent[], task: TaskContext): boolean {
  const t0 = start / fs, t1 = (start + B) / fs;
  let any = false;
  S.fill(0);
  for (const e of act) {
    if (task.paradigm !== 'ssvep' || e.kind !== 'cue') continue;
    if (t0 > e.t + e.dur + 0.3 || t1 < e.t) continue;
    any = true;
    const f = Number(e.cls);
    const a = s.amp * (0.8 + 0.4 * trialRand(task.seed, e, 4));
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

/** S ← the P300 (targets only) or visual evoked N1/P2 of source `s` over the block at `start`; false when none. */
export function evokedWave(s: Src, S: Float64Array, start: number, B: number, fs: number, act: ScheduleEvent[], task: TaskContext): boolean {
  const t0 = start / fs, t1 = (start + B) / fs;
  let any = false;
  S.fill(0);
  for (const e of act) {
    if (t1 < e.t || t0 > e.t + 1.2) continue;
    if (s.type === 'p300' && !(e.kind === 'flash' && e.cls === 'target')) continue;
    any = true;
    const r1 = trialRand(task.seed, e, 5), r2 = trialRand(task.seed, e, 6);
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
