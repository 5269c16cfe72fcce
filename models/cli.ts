/**
 * Model commands, wired by the lead as:
 *   neurox train teacher  → trainCli(argv)
 *   neurox distill        → distillCli(argv)
 *   neurox quantize       → quantizeCli(argv)
 * Each returns a process exit code; errors in options print usage on stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { logger } from '../src/log.ts';
import { parseOptions, UsageError, type OptSpec } from '../src/cli/args.ts';
import { lossSvg } from './util/plot.ts';
import { teacherConfig, studentConfig, paramCount, stepMacs, weightShapes } from './diver/config.ts';
import { initWeights, toTensors, rng } from './diver/tfmodel.ts';
import { quantizeWeights, writeStepOnnx } from './diver/export.ts';
import { saveCheckpoint, loadCheckpoint } from './checkpoint.ts';
import { buildDatasets, type DataOptions } from './pipeline-data.ts';
import { initBackend, inputStats, fitAdapters, fitAdaptersToTeacher, makeVariables, trainPhases, variablesToArrays, evaluate, type TrainPhase } from './train/index.ts';

const log = logger('model-cli');

const common = {
  quick: { type: 'boolean', default: false, help: 'tiny data and steps (< 1 min), checks that the loss decreases' },
  seed: { type: 'number', default: 1, help: 'seed for init, data and batches' },
  out: { type: 'string', default: 'models/out', help: 'output folder (checkpoints, loss plots, eval JSON)' },
  progress: { type: 'boolean', default: true, help: 'progress bar on stderr' },
  tasks: { type: 'string', default: 'mi,p300,ssvep,speech', help: 'simulated paradigms (comma list)' },
} satisfies OptSpec;

function run(fn: () => Promise<void>): Promise<number> {
  return fn().then(
    () => 0,
    (e) => {
      if (e instanceof UsageError) {
        process.stderr.write(`${e.message}\n`);
        return 2;
      }
      process.stderr.write(`error: ${(e as Error).stack ?? e}\n`);
      return 1;
    },
  );
}

function dataOpts(a: Record<string, any>): DataOptions {
  return a.quick
    ? { seed: a.seed, tasks: ['mi'], trainPerTask: 1, seconds: 24, testSeconds: 24, eegmmidbPretrain: false }
    : { seed: a.seed, tasks: String(a.tasks).split(',').filter(Boolean) as DataOptions['tasks'], trainPerTask: a.recordings, seconds: a.seconds, testSeconds: a.seconds, eegmmidbPretrain: true };
}

/** First-step loss vs mean of the last three, per phase: the --quick check. */
function lossDecreased(history: { phase: string; losses: { total: number } }[]): { phase: string; first: number; last: number; ok: boolean }[] {
  const phases = [...new Set(history.map((h) => h.phase))];
  return phases.map((p) => {
    const h = history.filter((x) => x.phase === p).map((x) => x.losses.total);
    const head = h.slice(0, 3);
    const first = head.reduce((a, b) => a + b, 0) / head.length;
    const tail = h.slice(-3);
    const last = tail.reduce((a, b) => a + b, 0) / tail.length;
    return { phase: p, first, last, ok: last < first };
  });
}

function writePlot(path: string, title: string, history: { step: number; losses: Record<string, number> }[]): void {
  const keys = [...new Set(history.flatMap((h) => Object.keys(h.losses)))];
  // smooth with a running mean of 10 for readability
  const series = keys.map((k) => {
    const pts: [number, number][] = [];
    let acc: number[] = [];
    for (const h of history) {
      const v = h.losses[k];
      if (v === undefined) continue;
      acc.push(v);
      if (acc.length > 10) acc = acc.slice(-10);
      pts.push([h.step, acc.reduce((a, b) => a + b, 0) / acc.length]);
    }
    return { name: k, points: pts };
  });
  writeFileSync(path, lossSvg(title, series));
}

/** Replace the adapter heads with closed-form (LDA) fits on the trained trunk's embeddings. */
function assignHeads(vars: Record<string, tf.Variable>, h: { 'head.w': Float32Array; 'head.b': Float32Array }): void {
  vars['head.w'].assign(tf.tensor(h['head.w'], vars['head.w'].shape));
  vars['head.b'].assign(tf.tensor(h['head.b'], vars['head.b'].shape));
}

/** Batch shape and data options shared by teacher training and distillation. */
const training = {
  batch: { type: 'number', default: 4, help: 'sequences per batch' },
  seq: { type: 'number', default: 32, help: 'frames per sequence' },
  'max-channels': { type: 'number', default: 32, help: 'random channel subset per batch' },
  recordings: { type: 'number', default: 3, help: 'simulated training recordings per paradigm' },
  seconds: { type: 'number', default: 100, help: 'seconds per simulated recording' },
  lr: { type: 'number', default: 2e-3, help: 'peak learning rate' },
} satisfies OptSpec;

/** Options of `neurox train teacher`. */
export const teacherSpec = {
  ...common,
  'pretrain-steps': { type: 'number', default: 40, help: 'masked-reconstruction pretraining steps' },
  'finetune-steps': { type: 'number', default: 500, help: 'supervised head fine-tuning steps' },
  ...training,
} satisfies OptSpec;

export function trainCli(argv: string[]): Promise<number> {
  return run(async () => {
    const a = parseOptions(argv, teacherSpec, 'train teacher');
    const t0 = performance.now();
    const backend = await initBackend();
    mkdirSync(a.out, { recursive: true });
    const cfg = teacherConfig();
    const data = buildDatasets(cfg, dataOpts(a));
    log.info({ train: data.train.map((d) => d.name), test: data.test.map((d) => d.name) }, 'data');
    const vars = makeVariables(cfg, { ...initWeights(cfg, a.seed), ...inputStats(cfg, data.train) });
    const q = a.quick;
    const phases: TrainPhase[] = [
      { name: 'pretrain', steps: q ? 8 : a['pretrain-steps'], lr: q ? 3e-3 : a.lr, w: { recon: 1, pred: 0.2 }, maskFrac: 0.3 },
      // supervised heads only: the prediction/reconstruction losses stay off here (with them on, the
      // previous run's heads collapsed to the class prior)
      { name: 'finetune', steps: q ? 8 : a['finetune-steps'], lr: q ? 3e-3 : a.lr, w: { ce: 1 } },
    ];
    const ckPath = join(a.out, 'teacher.json');
    let hist: ReturnType<typeof trainPhases> = [];
    const save = async (step: number) => {
      saveCheckpoint(ckPath, { config: cfg, step, extra: { backend, seed: a.seed } , weights: await variablesToArrays(cfg, vars) });
    };
    hist = trainPhases(cfg, vars, data.train, phases.slice(0, 1), {
      seed: a.seed, batch: q ? 4 : a.batch, seqFrames: q ? 8 : a.seq, maxChannels: q ? 16 : a['max-channels'], progress: a.progress,
    });
    await save(hist.length);
    const tasked = data.train.filter((d) => d.task);
    const hist2 = trainPhases(cfg, vars, tasked, phases.slice(1), {
      seed: a.seed + 1, batch: q ? 4 : a.batch, seqFrames: q ? 8 : a.seq, maxChannels: q ? 16 : a['max-channels'], progress: a.progress,
    });
    for (const h of hist2) h.step += hist.length;
    hist = [...hist, ...hist2];
    assignHeads(vars, fitAdapters(cfg, vars, tasked));
    await save(hist.length);
    writePlot(join(a.out, 'teacher-loss.svg'), `DIVER teacher (${backend})`, hist);
    writeFileSync(join(a.out, 'teacher-history.json'), JSON.stringify(hist));
    const evalRes = evaluate(cfg, vars, data.test);
    const check = lossDecreased(hist);
    const summary = {
      model: cfg.name, backend, params: paramCount(cfg), flopsPerStep64: 2 * stepMacs(cfg, 64, 64),
      steps: hist.length, seconds: +((performance.now() - t0) / 1000).toFixed(1), eval: evalRes, lossCheck: check,
      data: { train: data.train.map((d) => d.name), test: data.test.map((d) => d.name) },
    };
    writeFileSync(join(a.out, 'teacher-eval.json'), JSON.stringify(summary, null, 1));
    process.stdout.write(JSON.stringify(summary) + '\n');
    if (q && !check[0].ok) throw new Error(`--quick: pretraining loss did not decrease: ${JSON.stringify(check)}`);
  });
}

/** Options of `neurox distill`. */
export const distillSpec = {
  ...common,
  teacher: { type: 'string', default: '', help: 'teacher checkpoint (default OUT/teacher.json)' },
  steps: { type: 'number', default: 1000, help: 'distillation steps' },
  layers: { type: 'number', default: studentConfig().layers, help: 'temporal layers of the student' },
  transfer: { type: 'number', default: 0, help: 'unlabelled transfer recordings per paradigm (teacher outputs only)' },
  head: { type: 'string', default: 'teacher', help: "adapter fit: 'teacher' (ridge on the teacher's logits) or 'lda' (on the labelled trials)" },
  'head-recordings': { type: 'number', default: 3, help: 'unlabelled recordings per paradigm added for --head teacher (the --transfer ones count)' },
  'head-only': { type: 'boolean', default: false, help: 'refit the adapters of OUT/student.json and rewrite it, without distilling' },
  ...training,
} satisfies OptSpec;

export function distillCli(argv: string[]): Promise<number> {
  return run(async () => {
    const a = parseOptions(argv, distillSpec, 'distill');
    if (a.head !== 'teacher' && a.head !== 'lda') throw new UsageError(`distill: --head must be 'teacher' or 'lda', got '${a.head}'`);
    const t0 = performance.now();
    const backend = await initBackend();
    mkdirSync(a.out, { recursive: true });
    const tck = loadCheckpoint(a.teacher || join(a.out, 'teacher.json'));
    const tcfg = tck.config;
    const tW = toTensors(tcfg, tck.weights);
    const q = a.quick;
    const studentPath = join(a.out, 'student.json');
    const prior = a['head-only'] ? loadCheckpoint(studentPath) : null;
    const cfg = prior?.config ?? { ...studentConfig(tcfg.adapters), layers: a.layers };
    const transfer = q ? 0 : a.transfer;
    const headPerTask = q ? 0 : a['head-recordings'];
    const data = buildDatasets(cfg, { ...dataOpts(a), transferPerTask: transfer, headPerTask });
    const tasked = data.train.filter((d) => d.task);
    let vars: Record<string, tf.Variable>;
    let proj: Float32Array;
    let hist: ReturnType<typeof trainPhases> = [];
    if (prior) {
      vars = makeVariables(cfg, prior.weights);
      proj = prior.extraWeights['distill.proj'];
    } else {
      // same input standardisation as the teacher (same features)
      const norm = Object.fromEntries(['norm.mu', 'norm.isd', 'skip.mu', 'skip.isd'].map((k) => [k, tck.weights[k]]));
      vars = makeVariables(cfg, { ...initWeights(cfg, a.seed + 100), ...norm });
      const g = rng(a.seed + 7);
      const projInit = new Float32Array(cfg.dModel * tcfg.dModel).map(() => (g() - 0.5) * 2 / Math.sqrt(cfg.dModel));
      const projVar = { 'distill.proj': tf.variable(tf.tensor2d(projInit, [cfg.dModel, tcfg.dModel])) };
      hist = trainPhases(
        cfg, vars, tasked,
        [{ name: 'distill', steps: q ? 10 : a.steps, lr: q ? 3e-3 : a.lr, w: { ce: 1, kl: 1, hidden: 0.5, pred: 0.05 } }],
        { seed: a.seed + 2, batch: q ? 4 : a.batch, seqFrames: q ? 8 : a.seq, maxChannels: q ? 16 : a['max-channels'], progress: a.progress, teacher: { cfg: tcfg, W: tW } },
        projVar,
      );
      proj = (await projVar['distill.proj'].data()) as Float32Array;
    }
    // the teacher's adapters were fit on the labelled recordings; --head lda refits the student's the same way
    assignHeads(
      vars,
      a.head === 'lda'
        ? fitAdapters(cfg, vars, tasked.filter((d) => d.trials.length > 0))
        : fitAdaptersToTeacher(cfg, vars, { cfg: tcfg, W: tW }, [...tasked, ...data.head], { progress: a.progress }),
    );
    const weights = await variablesToArrays(cfg, vars);
    const headInfo = { head: a.head, headRecordings: a.head === 'teacher' ? Math.max(transfer, headPerTask) : 0 };
    const extra = prior ? { ...prior.extra, ...headInfo } : { backend, seed: a.seed, teacher: tcfg.name, seqFrames: q ? 8 : a.seq, transfer, ...headInfo };
    saveCheckpoint(studentPath, { config: cfg, step: prior?.step ?? hist.length, extra, weights }, { 'distill.proj': proj });
    if (!prior) {
      writePlot(join(a.out, 'student-loss.svg'), `DIVER-S distillation (${backend})`, hist);
      writeFileSync(join(a.out, 'student-history.json'), JSON.stringify(hist));
    }
    const check = prior ? null : lossDecreased(hist);
    const summary = {
      model: cfg.name, teacher: tcfg.name, backend, params: paramCount(cfg), teacherParams: paramCount(tcfg),
      flopsPerStep64: 2 * stepMacs(cfg, 64, 64), teacherFlopsPerStep64: 2 * stepMacs(tcfg, 64, 64),
      steps: prior?.step ?? hist.length, headOnly: !!prior, ...headInfo, seconds: +((performance.now() - t0) / 1000).toFixed(1),
      eval: evaluate(cfg, vars, data.test), teacherEval: evaluate(tcfg, tW, data.test), lossCheck: check,
    };
    writeFileSync(join(a.out, 'student-eval.json'), JSON.stringify(summary, null, 1));
    process.stdout.write(JSON.stringify(summary) + '\n');
    if (q && check && !check.every((c) => c.ok)) throw new Error(`--quick: loss did not decrease: ${JSON.stringify(check)}`);
  });
}

/** Options of `neurox quantize`. */
export const quantSpec = {
  ...common,
  student: { type: 'string', default: '', help: 'student checkpoint (default OUT/student.json)' },
  onnx: { type: 'string', default: '', help: 'int8 ONNX output (default OUT/diver-s.int8.onnx)' },
  'float-onnx': { type: 'string', default: '', help: 'also write the float32 ONNX here' },
  recordings: { type: 'number', default: 3, help: '(data options, for the evaluation set)' },
  seconds: { type: 'number', default: 100, help: 'seconds per simulated recording' },
  eval: { type: 'boolean', default: true, help: 'evaluate float vs int8 twin on held-out data' },
} satisfies OptSpec;

export function quantizeCli(argv: string[]): Promise<number> {
  return run(async () => {
    const a = parseOptions(argv, quantSpec, 'quantize');
    const backend = await initBackend();
    mkdirSync(a.out, { recursive: true });
    const ck = loadCheckpoint(a.student || join(a.out, 'student.json'));
    const cfg = ck.config;
    const { quant, dequant } = quantizeWeights(cfg, ck.weights);
    const onnxPath = a.onnx || join(a.out, 'diver-s.int8.onnx');
    const summary: Record<string, unknown> = { model: cfg.name, backend, params: paramCount(cfg), flopsPerStep64: 2 * stepMacs(cfg, 64, 64) };
    if (a.eval) {
      const data = buildDatasets(cfg, dataOpts(a));
      summary.evalFloat = evaluate(cfg, toTensors(cfg, ck.weights), data.test);
      summary.evalInt8 = evaluate(cfg, toTensors(cfg, dequant), data.test);
    }
    // serve with the context the model was trained on (longer caches put attention at untrained distances)
    const cacheFrames = Number(ck.extra?.seqFrames) || 32;
    const bytes = writeStepOnnx(onnxPath, cfg, ck.weights, { quant, metadata: { trainedSteps: ck.step, eval: summary.evalInt8 ?? null, cacheFrames } });
    saveCheckpoint(join(a.out, 'student-int8-twin.json'), { config: cfg, step: ck.step, extra: { ...ck.extra, dequantisedTwinOf: onnxPath } , weights: dequant });
    if (a['float-onnx']) writeStepOnnx(a['float-onnx'], cfg, ck.weights);
    summary.onnx = onnxPath;
    summary.onnxBytes = bytes;
    summary.int8Tensors = Object.keys(quant).length;
    summary.floatTensors = Object.keys(weightShapes(cfg)).length - Object.keys(quant).length;
    writeFileSync(join(a.out, 'quantize-eval.json'), JSON.stringify(summary, null, 1));
    process.stdout.write(JSON.stringify(summary) + '\n');
  });
}
