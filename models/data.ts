/**
 * Training / evaluation data for DIVER-S: simulator recordings
 * (devices/signal-model.ts) and EEGMMIDB runs (adapters/edf), turned into
 * per-frame features (src/tokenize/diver-features.ts, the same code the runtime uses)
 * and per-frame labels for each paradigm's adapter.
 */
import { FrameFeaturizer, FEAT_DIM, POS_DIM } from '../src/tokenize/diver-features.ts';
import type { ChannelInfo } from '../src/types.ts';
import { generateRecording } from '../devices/signal-model.ts';
import { tenTenPosition } from '../devices/geometry.ts';
import { readEdf } from '../adapters/edf/index.ts';
import type { DiverConfig } from './diver/config.ts';

export type Task = 'mi' | 'p300' | 'ssvep' | 'speech';

export interface RawRecording {
  name: string;
  data: Float32Array; // samples × channels
  srate: number;
  channels: ChannelInfo[];
  events: { t: number; label: string; dur?: number }[];
  task: Task | null;
}

export interface Trial {
  /** Class index within the task adapter (≥ 1 for cue classes). */
  cls: number;
  start: number;
  end: number; // frame indices [start, end)
}

export interface FrameSet {
  name: string;
  task: Task | null;
  C: number;
  nFrames: number;
  /** [nFrames, C, F] */
  frames: Float32Array;
  /** [C, P] */
  pos: Float32Array;
  /** Class index in the task adapter per frame, −1 = unlabeled. */
  labels: Int16Array;
  /** idle adapter: 0 idle, 1 active, −1 unknown. */
  idle: Int8Array;
  trials: Trial[];
}

export function featurize(rec: RawRecording, hopMs: number): { frames: Float32Array; pos: Float32Array; nFrames: number } {
  const C = rec.channels.length;
  const nSamp = rec.data.length / C;
  const hop = (hopMs / 1000) * rec.srate;
  const nFrames = Math.floor(nSamp / hop);
  const fz = new FrameFeaturizer(rec.channels, rec.srate, hopMs);
  const frames = new Float32Array(nFrames * C * FEAT_DIM);
  for (let k = 0; k < nFrames; k++) {
    const a = Math.round(k * hop);
    const b = Math.round((k + 1) * hop);
    fz.push(rec.data.subarray(a * C, b * C), frames.subarray(k * C * FEAT_DIM, (k + 1) * C * FEAT_DIM));
  }
  return { frames, pos: fz.posCode, nFrames };
}

/** Per-frame labels from cue / rest / flash markers. Frame k ends at (k+1)·hop. */
export function labelFrames(rec: RawRecording, cfg: DiverConfig, nFrames: number): { labels: Int16Array; idle: Int8Array; trials: Trial[] } {
  const hop = cfg.hopMs / 1000;
  const labels = new Int16Array(nFrames).fill(-1);
  const idle = new Int8Array(nFrames).fill(-1);
  const trials: Trial[] = [];
  const task = rec.task;
  if (!task) return { labels, idle, trials };
  const adapter = cfg.adapters.find((a) => a.name === task);
  if (!adapter) throw new Error(`no adapter for task ${task}`);
  const frameOf = (t: number) => Math.max(0, Math.min(nFrames, Math.floor(t / hop)));
  const evs = [...rec.events].sort((a, b) => a.t - b.t);
  if (task === 'p300') {
    for (const e of evs) {
      const i = adapter.labels.indexOf(e.label);
      if (i < 0) continue;
      // the frame whose end lies 350–450 ms after the flash carries the P300 peak
      const k = Math.floor((e.t + 0.4) / hop);
      if (k < nFrames) {
        labels[k] = i;
        trials.push({ cls: i, start: k, end: k + 1 });
      }
    }
    // idle: inside flash sequences active, after rest markers idle
  }
  // cue windows: from a cue marker to the next marker of any kind (or its duration)
  for (let j = 0; j < evs.length; j++) {
    const e = evs[j];
    const isRest = e.label === 'rest' || e.label === 'mi:rest';
    const i = adapter.labels.indexOf(e.label);
    if (!isRest && i < 0) continue;
    if (task === 'p300' && !isRest) continue;
    let tEnd = e.dur !== undefined ? e.t + e.dur : Infinity;
    for (let n = j + 1; n < evs.length; n++) {
      if (evs[n].label === 'calib:end' || evs[n].label === 'online:start' || evs[n].label === 'rest' || adapter.labels.includes(evs[n].label) || evs[n].label.startsWith(`${task}:`)) {
        tEnd = Math.min(tEnd, evs[n].t);
        break;
      }
    }
    if (!Number.isFinite(tEnd)) tEnd = e.t + 4;
    const a = frameOf(e.t + 0.5);
    const b = frameOf(tEnd);
    if (b <= a) continue;
    for (let k = a; k < b; k++) {
      if (task !== 'p300') labels[k] = isRest ? 0 : i;
      idle[k] = isRest ? 0 : 1;
    }
    if (!isRest && task !== 'p300') trials.push({ cls: i, start: a, end: b });
  }
  if (task === 'p300') {
    for (const tr of trials) for (let k = Math.max(0, tr.start - 4); k < Math.min(nFrames, tr.start + 2); k++) if (idle[k] < 0) idle[k] = 1;
  }
  if (task === 'speech') alignSpeech(evs, adapter.labels, frameOf, labels, trials);
  return { labels, idle, trials };
}

/**
 * Overt speech is aligned to the acoustic word onset and offset (from the
 * audio stream in a real session; here the simulator's `truth:speech-onset/
 * offset` markers), as intracranial speech studies do (e.g. Herff et al. 2019,
 * Angrick et al. 2019): the cue window also holds the reaction time and
 * seconds of silence after the word, which carry no word identity. Word
 * frames span [onset − SPEECH_PRE, offset + SPEECH_POST) (neural responses
 * lead and trail the sound); the rest of the cue window is left unlabelled.
 * Recordings without the markers keep the cue windows.
 */
export const SPEECH_PRE = 0.2;
export const SPEECH_POST = 0.2;

function alignSpeech(evs: RawRecording['events'], classLabels: string[], frameOf: (t: number) => number, labels: Int16Array, trials: Trial[]): void {
  const on = evs.filter((e) => e.label.startsWith('truth:speech-onset/'));
  if (!on.length) return;
  const off = evs.filter((e) => e.label.startsWith('truth:speech-offset/'));
  const cueTrials = trials.splice(0, trials.length);
  for (const tr of cueTrials) for (let k = tr.start; k < tr.end; k++) labels[k] = -1;
  for (const e of on) {
    const word = e.label.slice('truth:speech-onset/'.length);
    const cls = classLabels.indexOf(`speech:word/${word}`);
    const end = off.find((o) => o.t > e.t && o.label.endsWith(`/${word}`));
    if (cls < 0 || !end) continue;
    const a = frameOf(e.t - SPEECH_PRE);
    const b = frameOf(end.t + SPEECH_POST);
    if (b <= a) continue;
    for (let k = a; k < b; k++) labels[k] = cls;
    trials.push({ cls, start: a, end: b });
  }
}

export function toFrameSet(rec: RawRecording, cfg: DiverConfig): FrameSet {
  const { frames, pos, nFrames } = featurize(rec, cfg.hopMs);
  const { labels, idle, trials } = labelFrames(rec, cfg, nFrames);
  return { name: rec.name, task: rec.task, C: rec.channels.length, nFrames, frames, pos, labels, idle, trials };
}

/**
 * Recording length per paradigm relative to the `--seconds` option. SEEG speech
 * has ten word classes at ≈ 0.2 trials/s, so it needs longer recordings than
 * the 2–4-class paradigms to give each word enough trials.
 */
export const SECONDS_FACTOR: Record<Task, number> = { mi: 1, p300: 1, ssvep: 1, speech: 3 };

export const SIM_PROFILE: Record<Task, string> = { mi: 'eeg64-160', p300: 'eeg64-160', ssvep: 'eeg64-160', speech: 'seeg' };

/** A simulator recording without COUNTER (training wants neural channels only). */
export function simRecording(task: Task, seed: number, seconds: number, profile = SIM_PROFILE[task]): RawRecording {
  const r = generateRecording(profile, task, seed, seconds, {
    artifacts: false,
    counterChannel: false,
    annotate: task === 'speech', // word onsets/offsets (what the audio stream gives a real session)
    schedule: { calibTrials: 1000, restJitterSec: 0.5 },
  });
  return { name: `sim:${profile}:${task}:${seed}`, data: r.data, srate: r.srate, channels: r.channels, events: r.events, task };
}

/** The EEGMMIDB runs committed with the repository (test/data/eegmmidb). */
export const EEGMMIDB_DIR = new URL('../test/data/eegmmidb/', import.meta.url);

/**
 * An EEGMMIDB run (S001R03–R06) as a recording in µV with 10-10 positions.
 * R03/R04: T1 = left fist, T2 = right fist (real / imagined); R05/R06: T1 both
 * fists, T2 both feet. T0 = rest. `task` 'mi' maps T1/T2 to mi:left/mi:right
 * (only meaningful for R03/R04).
 */
export function eegmmidbRecording(run: string, task: Task | null = 'mi'): RawRecording {
  const path = new URL(`S001${run}.edf`, EEGMMIDB_DIR);
  const r = readEdf(path.pathname);
  const sigs = r.signals.filter((s) => !/annotation/i.test(s.label));
  const C = sigs.length;
  const n = sigs[0].samples.length;
  const data = new Float32Array(n * C);
  for (let c = 0; c < C; c++) {
    const s = sigs[c].samples;
    for (let i = 0; i < n; i++) data[i * C + c] = s[i];
  }
  const channels: ChannelInfo[] = sigs.map((s) => ({ label: s.label.replace(/\.+$/, ''), type: 'EEG', unit: 'uV', pos: tenTenPosition(s.label) }));
  const map: Record<string, string> = { T0: 'rest', T1: 'mi:left', T2: 'mi:right' };
  const events = r.annotations.filter((a) => map[a.text]).map((a) => ({ t: a.onset, dur: a.duration, label: map[a.text] }));
  return { name: `eegmmidb:S001${run}`, data, srate: sigs[0].srate, channels, events, task };
}

export { FEAT_DIM, POS_DIM };
