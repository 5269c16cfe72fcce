/** Deterministic train / held-out sets for the model commands. */
import type { DiverConfig } from './diver/config.ts';
import { simRecording, eegmmidbRecording, toFrameSet, SECONDS_FACTOR, type FrameSet, type Task } from './data.ts';
import { Progress } from './util/progress.ts';

export interface DataOptions {
  seed: number;
  tasks: Task[];
  /** Simulated training recordings per task (held-out: one more, other seeds). */
  trainPerTask: number;
  seconds: number;
  testSeconds: number;
  /**
   * Unlabelled transfer recordings per task for distillation (seeds seed·1000 + 100 + i):
   * the student learns the teacher's outputs on them; their labels are dropped, so
   * neither the supervised loss nor the adapter fits see more labelled data than the teacher's.
   */
  transferPerTask?: number;
  /**
   * Unlabelled recordings per task for fitting the student's adapters to the
   * teacher's logits: the transfer recordings plus seeds seed·1000 + 100 + i for
   * transferPerTask ≤ i < headPerTask, returned as `head` (not trained on).
   */
  headPerTask?: number;
  /** Add EEGMMIDB R03/R05/R06 (not R04: it is the held-out real-data benchmark) as unlabelled pretraining data. */
  eegmmidbPretrain: boolean;
}

const cache = new Map<string, { train: FrameSet[]; test: FrameSet[]; head: FrameSet[] }>();

/** The same frames with every label, idle flag and trial removed. */
function unlabelled(fs: FrameSet): FrameSet {
  return { ...fs, name: `${fs.name}:transfer`, labels: new Int16Array(fs.nFrames).fill(-1), idle: new Int8Array(fs.nFrames).fill(-1), trials: [] };
}

export function buildDatasets(cfg: DiverConfig, o: DataOptions): { train: FrameSet[]; test: FrameSet[]; head: FrameSet[] } {
  const key = JSON.stringify(o) + cfg.hopMs;
  const hit = cache.get(key);
  if (hit) return hit;
  const jobs: (() => FrameSet)[] = [];
  const testJobs: (() => FrameSet)[] = [];
  const headJobs: (() => FrameSet)[] = [];
  for (const task of o.tasks) {
    const secs = Math.round(o.seconds * SECONDS_FACTOR[task]);
    const tsecs = Math.round(o.testSeconds * SECONDS_FACTOR[task]);
    for (let i = 0; i < o.trainPerTask; i++) jobs.push(() => toFrameSet(simRecording(task, o.seed * 1000 + i, secs), cfg));
    const transfer = o.transferPerTask ?? 0;
    for (let i = 0; i < Math.max(transfer, o.headPerTask ?? 0); i++) {
      (i < transfer ? jobs : headJobs).push(() => unlabelled(toFrameSet(simRecording(task, o.seed * 1000 + 100 + i, secs), cfg)));
    }
    testJobs.push(() => toFrameSet(simRecording(task, o.seed * 1000 + 500, tsecs), cfg));
  }
  if (o.eegmmidbPretrain) for (const run of ['R03', 'R05', 'R06']) jobs.push(() => toFrameSet(eegmmidbRecording(run, null), cfg));
  const bar = new Progress('data', jobs.length + testJobs.length + headJobs.length);
  let n = 0;
  const runAll = (js: (() => FrameSet)[]) =>
    js.map((j) => {
      const fs = j();
      bar.tick(++n);
      return fs;
    });
  const res = { train: runAll(jobs), test: runAll(testJobs), head: runAll(headJobs) };
  bar.done();
  cache.set(key, res);
  return res;
}
