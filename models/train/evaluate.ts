/** Trial-level scores of a model on labelled recordings (what the model card reports). */
import { type DiverConfig, adapterSlices, nClasses } from '../diver/config.ts';
import type { WeightTensors } from '../diver/tfmodel.ts';
import type { FrameSet, Task } from '../data.ts';
import { recordingLogits } from './outputs.ts';

/** A score of one task: accuracy, trial count and chance level. */
export interface TaskScore {
  task: Task;
  /** Trial accuracy (mi/ssvep/speech: mean log-prob over the cue, task classes only) or balanced accuracy (p300 flashes). */
  accuracy: number;
  trials: number;
  chance: number;
}

/**
 * Per-trial outcome (1 = correct) and the trial's class: mi/ssvep/speech score
 * a cue by the summed log-probability of its frames over the task classes;
 * p300 scores each flash by target vs nontarget logit at its P300 frame.
 */
export function trialOutcomes(cfg: DiverConfig, fs: FrameSet, logits: Float32Array): { correct: Uint8Array; cls: Int16Array } {
  const task = fs.task as Task;
  const sl = adapterSlices(cfg).find((s) => s.name === task)!;
  const K = nClasses(cfg);
  const k = sl.end - sl.start;
  const correct = new Uint8Array(fs.trials.length);
  const cls = Int16Array.from(fs.trials, (t) => t.cls);
  fs.trials.forEach((tr, ti) => {
    if (task === 'p300') {
      const o = tr.start * K + sl.start;
      correct[ti] = (logits[o + 1] > logits[o] ? 1 : 0) === tr.cls ? 1 : 0;
      return;
    }
    const score = new Float64Array(k);
    for (let f = tr.start; f < tr.end; f++) {
      const o = f * K + sl.start;
      let m = -Infinity;
      for (let i = 1; i < k; i++) m = Math.max(m, logits[o + i]);
      let z = 0;
      for (let i = 1; i < k; i++) z += Math.exp(logits[o + i] - m);
      for (let i = 1; i < k; i++) score[i] += logits[o + i] - m - Math.log(z);
    }
    let best = 1;
    for (let i = 2; i < k; i++) if (score[i] > score[best]) best = i;
    correct[ti] = best === tr.cls ? 1 : 0;
  });
  return { correct, cls };
}

/** Trial accuracy of one recording; p300 uses balanced accuracy over targets and nontargets. */
export function scoreTask(cfg: DiverConfig, fs: FrameSet, logits: Float32Array): TaskScore {
  return scoreOutcomes(fs.task as Task, trialOutcomes(cfg, fs, logits));
}

/** scoreTask from trialOutcomes' per-trial outcomes. */
export function scoreOutcomes(task: Task, { correct, cls }: { correct: Uint8Array; cls: Int16Array }): TaskScore {
  if (task === 'p300') {
    const hit = [0, 0];
    const tot = [0, 0];
    correct.forEach((ok, i) => {
      tot[cls[i]]++;
      hit[cls[i]] += ok;
    });
    const acc = 0.5 * ((tot[0] ? hit[0] / tot[0] : 0) + (tot[1] ? hit[1] / tot[1] : 0));
    return { task, accuracy: acc, trials: correct.length, chance: 0.5 };
  }
  const n = correct.reduce((a, b) => a + b, 0);
  const present = new Set(cls);
  return { task, accuracy: correct.length ? n / correct.length : NaN, trials: correct.length, chance: 1 / Math.max(1, present.size) };
}

/** Trial-weighted accuracy per task over the labelled recordings. */
export function evaluate(cfg: DiverConfig, W: WeightTensors, sets: FrameSet[]): Record<string, TaskScore> {
  const byTask: Record<string, { hit: number; n: number; chance: number }> = {};
  for (const fs of sets) {
    if (!fs.task) continue;
    const s = scoreTask(cfg, fs, recordingLogits(cfg, W, fs));
    const e = (byTask[fs.task] ??= { hit: 0, n: 0, chance: s.chance });
    e.hit += s.accuracy * s.trials;
    e.n += s.trials;
  }
  const out: Record<string, TaskScore> = {};
  for (const [t, e] of Object.entries(byTask)) out[t] = { task: t as Task, accuracy: e.n ? e.hit / e.n : NaN, trials: e.n, chance: e.chance };
  return out;
}
