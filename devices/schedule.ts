/**
 * Deterministic trial schedules and the marker vocabulary (see docs/devices.md).
 *
 * A schedule depends only on (paradigm, seed, options) — never on the device profile —
 * so an SEEG simulator and an audio simulator started with the same seed and paradigm
 * produce the same words at the same stream times.
 *
 * Timeline: `startDelaySec` of baseline, `calib:start`, a balanced shuffled calibration
 * block (`calibTrials` per class), `calib:end`, a pause, `online:start`, then online
 * trials (balanced shuffled blocks of one trial per class) until `onlineTrials` or
 * forever. Each trial is a cue of `cueSec` (marker at cue onset) followed by a `rest`
 * of `restSec` + U(0, `restJitterSec`).
 */
import type { Paradigm } from '../src/paradigm.ts';
import { Rng, hashString } from '../src/util/random.ts';
import { wordDuration } from './speech.ts';
import { MI_CLASSES, SSVEP_FREQS, WORD_LIST } from '../src/paradigm.ts';

export { MI_CLASSES, SSVEP_FREQS };

export interface ScheduleOptions {
  /** Run a calibration block first (default true). */
  calibration: boolean;
  /** Calibration trials per class. */
  calibTrials: number;
  /** Online trials in total (default Infinity: the online block never ends). */
  onlineTrials: number;
  /** Cue (task) duration, s. For p300 this is derived from the flash sequence. */
  cueSec: number;
  /** Rest after each cue, s (0: no `rest` marker). */
  restSec: number;
  /** Extra uniform random rest, s. */
  restJitterSec: number;
  /** Baseline before `calib:start` (or `online:start`), s. */
  startDelaySec: number;
  /** Classes (mi: left/right/feet; ssvep: frequencies in Hz as strings; speech: words; rest: eyes-open/eyes-closed). */
  classes: string[];
  /** p300: items in the oddball set, each flashed `p300Reps` times per selection. */
  p300Items: number;
  p300Reps: number;
  /** p300: stimulus onset asynchrony, s. */
  p300SoaSec: number;
}

export function defaultScheduleOptions(paradigm: Paradigm): ScheduleOptions {
  const base = {
    calibration: true,
    onlineTrials: Infinity,
    restJitterSec: 0.5,
    startDelaySec: 2,
    p300Items: 6,
    p300Reps: 2,
    p300SoaSec: 0.25,
  };
  switch (paradigm) {
    case 'mi':
      return { ...base, calibTrials: 20, cueSec: 4, restSec: 2, classes: ['left', 'right'] };
    case 'p300':
      return { ...base, calibTrials: 20, cueSec: 3, restSec: 2, classes: ['target', 'nontarget'] };
    case 'ssvep':
      return { ...base, calibTrials: 10, cueSec: 4, restSec: 2, classes: [...SSVEP_FREQS] };
    case 'speech':
      return { ...base, calibTrials: 3, cueSec: 3, restSec: 1.5, classes: [...WORD_LIST] };
    case 'rest':
      return { ...base, calibTrials: 2, cueSec: 20, restSec: 0, restJitterSec: 0, classes: ['eyes-open', 'eyes-closed'] };
  }
}

export type ScheduleEventKind = 'block' | 'cue' | 'flash' | 'rest';

/** One scheduled event. `label` is the marker string published at `t`. */
export interface ScheduleEvent {
  kind: ScheduleEventKind;
  /** Onset, seconds since stream start. */
  t: number;
  /** Duration, s (0 for block markers). */
  dur: number;
  label: string;
  /** Class of a cue/flash: 'left', 'target', '12', 'yes', 'eyes-closed' … */
  cls?: string;
  /** Trial number (0-based, counts cues and flashes) — seeds per-trial variability. */
  trial: number;
  block: 'calib' | 'online';
  /** speech: the spoken word's onset (s since stream start) and duration. */
  speech?: { word: string; onset: number; dur: number };
}

/** Marker label of a cue of class `cls` in `paradigm`. */
export function cueLabel(paradigm: Paradigm, cls: string): string {
  return paradigm === 'speech' ? `speech:word/${cls}` : `${paradigm}:${cls}`;
}

function validate(paradigm: Paradigm, o: ScheduleOptions): void {
  if (!(o.cueSec > 0)) throw new Error(`schedule: cueSec must be > 0`);
  if (!(o.calibTrials >= 0)) throw new Error(`schedule: calibTrials must be ≥ 0`);
  if (o.classes.length === 0) throw new Error(`schedule: at least one class is needed`);
  if (paradigm === 'mi') {
    for (const c of o.classes) if (!MI_CLASSES.includes(c)) throw new Error(`mi class '${c}' not supported; use ${MI_CLASSES.join(', ')}`);
  }
  if (paradigm === 'ssvep') {
    for (const c of o.classes) if (!(Number(c) > 0)) throw new Error(`ssvep class '${c}' must be a frequency in Hz`);
  }
  if (paradigm === 'speech') for (const c of o.classes) wordDuration(c);
  if (paradigm === 'p300' && !(o.p300Items >= 2 && o.p300Reps >= 1 && o.p300SoaSec > 0)) throw new Error('schedule: bad p300 settings');
}

/** Lazily generated, deterministic schedule. */
export class Schedule {
  readonly paradigm: Paradigm;
  readonly opts: ScheduleOptions;
  /** Events generated so far, sorted by `t`. */
  readonly events: ScheduleEvent[] = [];
  private readonly rng: Rng;
  private tNext: number;
  private trial = 0;
  private phase: 'calib' | 'online' | 'done';
  private queue: string[] = [];
  private calibLeft: number;
  private onlineLeft: number;

  constructor(paradigm: Paradigm, seed: number, opts: Partial<ScheduleOptions> = {}) {
    this.paradigm = paradigm;
    this.opts = { ...defaultScheduleOptions(paradigm), ...opts };
    validate(paradigm, this.opts);
    this.rng = new Rng(seed, hashString(`schedule:${paradigm}`));
    const o = this.opts;
    // p300: a calibration 'trial' is one selection (a flash sequence with its own targets)
    this.calibLeft = o.calibration ? o.calibTrials * (paradigm === 'p300' ? 1 : o.classes.length) : 0;
    this.onlineLeft = o.onlineTrials;
    if (this.calibLeft > 0) {
      this.push({ kind: 'block', t: o.startDelaySec, dur: 0, label: 'calib:start', trial: -1, block: 'calib' });
      this.phase = 'calib';
      this.tNext = o.startDelaySec + 2;
      if (paradigm === 'rest') {
        for (let i = 0; i < o.calibTrials; i++) this.queue.push(...o.classes);
      } else {
        const q: string[] = [];
        for (const c of o.classes) for (let i = 0; i < o.calibTrials; i++) q.push(c);
        this.queue = this.rng.shuffle(q);
      }
    } else {
      this.push({ kind: 'block', t: o.startDelaySec, dur: 0, label: 'online:start', trial: -1, block: 'online' });
      this.phase = this.onlineLeft > 0 ? 'online' : 'done';
      this.tNext = o.startDelaySec + 2;
    }
  }

  private push(e: ScheduleEvent): void {
    this.events.push(e);
  }

  private nextClass(): string {
    if (this.queue.length === 0) {
      const o = this.opts;
      this.queue = this.paradigm === 'rest' ? [...o.classes] : this.rng.shuffle([...o.classes]);
    }
    return this.queue.shift()!;
  }

  /** Generate one trial (cue/flashes + rest) starting at tNext. */
  private addTrial(block: 'calib' | 'online'): void {
    const o = this.opts;
    const p = this.paradigm;
    const cls = this.nextClass();
    let t = this.tNext;
    let cueDur = o.cueSec;
    if (p === 'p300') {
      // a selection: every item flashed p300Reps times in shuffled order, item 0 is the target
      const order: number[] = [];
      for (let r = 0; r < o.p300Reps; r++) {
        const perm = this.rng.shuffle(Array.from({ length: o.p300Items }, (_, i) => i));
        // avoid back-to-back targets across repetition boundaries
        if (order.length && order[order.length - 1] === 0 && perm[0] === 0) [perm[0], perm[1]] = [perm[1], perm[0]];
        order.push(...perm);
      }
      for (let i = 0; i < order.length; i++) {
        const c = order[i] === 0 ? 'target' : 'nontarget';
        this.push({ kind: 'flash', t: round6(t + i * o.p300SoaSec), dur: Math.min(0.1, o.p300SoaSec), label: `p300:${c}`, cls: c, trial: this.trial++, block });
      }
      cueDur = order.length * o.p300SoaSec;
    } else {
      const e: ScheduleEvent = { kind: 'cue', t: round6(t), dur: cueDur, label: cueLabel(p, cls), cls, trial: this.trial++, block };
      if (p === 'speech') {
        const rt = 0.45 + 0.3 * this.rng.uniform(); // reaction time after the cue
        const dur = wordDuration(cls);
        e.speech = { word: cls, onset: round6(t + rt), dur };
      }
      this.push(e);
    }
    t += cueDur;
    if (o.restSec > 0) {
      const rest = o.restSec + o.restJitterSec * this.rng.uniform();
      this.push({ kind: 'rest', t: round6(t), dur: rest, label: 'rest', trial: -1, block });
      t += rest;
    }
    this.tNext = t;
  }

  /** Make sure every event with onset ≤ tSec exists. */
  ensure(tSec: number): void {
    while (this.phase !== 'done' && this.tNext <= tSec) {
      if (this.phase === 'calib') {
        this.addTrial('calib');
        if (--this.calibLeft === 0) {
          this.push({ kind: 'block', t: round6(this.tNext), dur: 0, label: 'calib:end', trial: -1, block: 'calib' });
          const tOn = this.tNext + 3;
          this.queue = [];
          if (this.onlineLeft > 0) {
            this.push({ kind: 'block', t: round6(tOn), dur: 0, label: 'online:start', trial: -1, block: 'online' });
            this.phase = 'online';
          } else this.phase = 'done';
          this.tNext = tOn + 2;
        }
      } else {
        this.addTrial('online');
        if (--this.onlineLeft <= 0) this.phase = 'done';
      }
    }
  }

  /** Calibration-block end time (s), generating the block if needed; undefined without calibration. */
  calibrationEnd(): number | undefined {
    if (!this.opts.calibration || this.opts.calibTrials === 0) return undefined;
    while (this.phase === 'calib') this.ensure(this.tNext);
    return this.events.find((e) => e.label === 'calib:end')?.t;
  }
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
