/**
 * Offline evaluation: train a decoder on labelled recordings and score it on others,
 * or K-fold cross-validation by trial.
 *
 * - mi:    frames cut by `recordingFrames` exactly as live; features of the baseline
 *          decoder (log band power, BaselineDecoder); the frames whose end lies in
 *          [onset + from, onset + to] (default 0.5–4 s) belong to the trial, as in
 *          CalibrationCollector; trial prediction = accumulated log-odds of its frames.
 * - ssvep: the same frames and trial rule; features = log power at the stimulus
 *          frequencies and harmonics (decode/ssvep.ts) + shrinkage LDA.
 * - p300:  one trial per flash (`p300:target` / `p300:nontarget`), epoch 0–0.8 s,
 *          band-passed, binned time-domain features (decode/erp-features.ts) + shrinkage LDA.
 */
import { BaselineDecoder } from '../decode/baseline.ts';
import { erpEpochFeatures, erpPicks, erpPrepare } from '../decode/erp-features.ts';
import { neuralChannels } from '../decode/features.ts';
import { fitLda, predictLda } from '../decode/lda.ts';
import { ssvepFeatures, ssvepPicks } from '../decode/ssvep.ts';
import { logger } from '../log.ts';
import type { FrameDecoder } from '../decode/frame-decoder.ts';
import type { Decoded } from '../emit/intents.ts';
import { recordingFrames } from '../session/offline.ts';
import { EvalInputError, loadLabelled, type LabelledRecording, type LoadOptions } from './data.ts';
import type { DspOptions } from '../dsp/chain.ts';
import { computeMetrics, type Metrics, type TrialOutcome } from './metrics.ts';

const log = logger('eval');

export type EvalParadigm = 'mi' | 'p300' | 'ssvep';

export interface EvalOptions {
  paradigm: EvalParadigm;
  train: string[];
  /** Test files; without them, K-fold cross-validation over the train files' trials. */
  test?: string[];
  /** Folds for cross-validation (default 5). */
  cv?: number;
  /** Classes to use (default: every labelled class except `rest`). */
  classes?: string[];
  labelMap?: Record<string, string>;
  hop?: number;
  window?: number;
  /** Trial window after the cue (s) for mi/ssvep (default 0.5, 4). */
  from?: number;
  to?: number;
  /** Seconds per trial for the ITR (default: `to` for mi/ssvep, the median stimulus spacing for p300). */
  trialSeconds?: number;
  lenient?: boolean;
  /** Rewrites each recording's channel metadata after loading (e.g. electrode positions from a BIDS electrodes.tsv). */
  mapChannels?: LoadOptions['mapChannels'];
  /** The dsp stage the frames go through (as live `--notch`, `--montage`, `--bad-channels`); none by default. */
  dsp?: DspOptions;
  /**
   * A decoder that reads frames itself (DIVER-S): every frame of each recording
   * goes through it in order, exactly as live, and its class probabilities (log)
   * are the features a shrinkage-LDA head is fitted on per split (mi, ssvep).
   */
  frameDecoder?: FrameDecoder;
}

export interface EvalResult {
  paradigm: EvalParadigm;
  setting: string;
  train: string[];
  test: string[];
  folds?: number;
  metrics: Metrics;
  trials: TrialOutcome[];
  /** Feature rows (frames or epochs) used for training, per fold or in total. */
  trainRows: number;
}

interface Unit {
  file: string;
  onset: number;
  label: string;
  X: Float64Array[];
}

interface Model {
  predict(x: Float64Array): Record<string, number>;
}

function train(paradigm: EvalParadigm, units: Unit[], channels: string[], srate: number, ownFeatures = false): Model {
  const X: Float64Array[] = [];
  const y: string[] = [];
  for (const u of units) for (const x of u.X) (X.push(x), y.push(u.label));
  if (new Set(y).size < 2) throw new EvalInputError(`training data holds ${new Set(y).size} class(es); need at least 2 (labels: ${[...new Set(y)].join(', ') || 'none'})`);
  if (paradigm === 'mi' && !ownFeatures) {
    const dec = new BaselineDecoder();
    dec.calibrate(X, y, channels, srate);
    return { predict: (x) => dec.decodeFeatures(x).probs };
  }
  const lda = fitLda(X, y);
  return {
    predict: (x) => {
      const p = predictLda(lda, x);
      const out: Record<string, number> = {};
      lda.classes.forEach((c, i) => (out[c] = p[i]!));
      return out;
    },
  };
}

function decide(model: Model, u: Unit, classes: string[]): Omit<TrialOutcome, 'fold'> {
  const acc = classes.map(() => 0);
  for (const x of u.X) {
    const p = model.predict(x);
    classes.forEach((c, i) => (acc[i]! += Math.log(Math.max(p[c] ?? 0, 1e-300))));
  }
  const mx = Math.max(...acc);
  const e = acc.map((v) => Math.exp(v - mx));
  const s = e.reduce((a, b) => a + b, 0);
  const probs = e.map((v) => v / s);
  const best = probs.indexOf(Math.max(...probs));
  return { file: u.file, onset: u.onset, label: u.label, pred: classes[best]!, probs, frames: u.X.length };
}

/**
 * Trials of one recording, featurised by a frame decoder: every frame is decoded
 * (the model's context stays contiguous), the frames inside a trial window keep
 * the decoder's log-probabilities as their feature row.
 */
async function extractUnitsWith(dec: FrameDecoder, lr: LabelledRecording, o: EvalOptions, classes: Set<string>): Promise<Unit[]> {
  if (o.paradigm === 'p300') throw new EvalInputError('evaluate --decoder diver-s: p300 epochs are not decoded frame by frame yet; use mi or ssvep');
  const { rec } = lr;
  const cues = lr.cues.filter((c) => classes.has(c.label)).sort((a, b) => a.t - b.t);
  const from = o.from ?? 0.5;
  const to = o.to ?? 4;
  const units: Unit[] = cues.map((c) => ({ file: lr.file, onset: c.t, label: c.label, X: [] }));
  const t0 = rec.t0 ?? 0;
  const pending: [Unit, Promise<Decoded | undefined> | Decoded | undefined][] = [];
  const labels = dec.labels;
  for (const f of recordingFrames({ ...rec, events: [] }, { hop: o.hop, window: o.window, dsp: o.dsp })) {
    const r = dec.decode(f);
    const t = f.tEnd - t0;
    const u = [...units].reverse().find((x) => t >= x.onset + from && t <= x.onset + to);
    if (u) pending.push([u, r]);
  }
  for (const [u, r] of pending) {
    const d = await r;
    if (d) u.X.push(Float64Array.from(labels, (l) => Math.log(Math.max(d.probs[l] ?? 0, 1e-6))));
  }
  return units.filter((u) => u.X.length > 0);
}

/** Trials of one recording with their feature rows. */
export function extractUnits(lr: LabelledRecording, o: EvalOptions, classes: Set<string>): Unit[] {
  const { rec } = lr;
  const cues = lr.cues.filter((c) => classes.has(c.label)).sort((a, b) => a.t - b.t);
  const C = rec.channels.length;
  if (o.paradigm === 'p300') {
    const picks = erpPicks(rec.channels);
    const x = erpPrepare(rec.data, C, rec.srate, picks);
    const out: Unit[] = [];
    for (const c of cues) {
      const f = erpEpochFeatures(x, picks.length, rec.srate, Math.round(c.t * rec.srate));
      if (f) out.push({ file: lr.file, onset: c.t, label: c.label, X: [f] });
    }
    return out;
  }
  const from = o.from ?? 0.5;
  const to = o.to ?? 4;
  const units: Unit[] = cues.map((c) => ({ file: lr.file, onset: c.t, label: c.label, X: [] }));
  const t0 = rec.t0 ?? 0;
  let feat: (f: import('../align/framer.ts').Frame) => Float64Array | undefined;
  if (o.paradigm === 'mi') {
    const dec = new BaselineDecoder();
    feat = (f) => dec.features(f);
  } else {
    const freqs = [...classes].map(Number);
    if (freqs.some((f) => !(f > 0))) throw new EvalInputError(`ssvep classes must be stimulus frequencies in Hz, got ${[...classes].join(', ')}`);
    freqs.sort((a, b) => a - b);
    const picks = ssvepPicks(rec.channels);
    feat = (f) => {
      const s = [...f.streams.values()].find((x) => x.channels.length > 0);
      if (!s || !s.present) return undefined;
      return ssvepFeatures(s.window, s.windowSamples, s.channels.length, s.srate, picks, freqs);
    };
  }
  let k = 0;
  for (const f of recordingFrames({ ...rec, events: [] }, { hop: o.hop, window: o.window, dsp: o.dsp })) {
    const t = f.tEnd - t0;
    while (k < units.length && t > units[k]!.onset + to) k++;
    if (k >= units.length) break;
    // The latest cue whose window holds this frame (as CalibrationCollector).
    for (let j = Math.min(units.length - 1, k + 2); j >= k; j--) {
      const u = units[j]!;
      if (t >= u.onset + from && t <= u.onset + to) {
        const x = feat(f);
        if (x) u.X.push(x);
        break;
      }
    }
  }
  return units.filter((u) => u.X.length > 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : Number.NaN;
}

/** Run one evaluation (train/test or K-fold CV). */
export async function evaluate(o: EvalOptions): Promise<EvalResult> {
  if (o.train.length === 0) throw new EvalInputError('evaluate: no training file');
  const load = (f: string) => loadLabelled(f, { paradigm: o.paradigm, labelMap: o.labelMap, lenient: o.lenient, mapChannels: o.mapChannels });
  const trainRecs = [];
  for (const f of o.train) trainRecs.push(await load(f));
  const testRecs = [];
  for (const f of o.test ?? []) testRecs.push(await load(f));
  const all = [...trainRecs, ...testRecs];
  for (const r of all)
    if (r.cues.length === 0)
      throw new EvalInputError(`${r.file}: no labelled cue (markers seen: ${r.markerTexts.slice(0, 12).join(', ') || 'none'}); use --label-map or --paradigm`);
  const seen = [...new Set(trainRecs.flatMap((r) => r.cues.map((c) => c.label)))].sort();
  const classes = o.classes ?? seen.filter((c) => c !== 'rest');
  if (classes.length < 2) throw new EvalInputError(`need at least 2 classes, found ${classes.join(', ') || 'none'} (labels in the training files: ${seen.join(', ')})`);
  const cset = new Set(classes);
  const ref = trainRecs[0]!.rec;
  const chanLabels = neuralChannels(ref.channels).map((i) => ref.channels[i]!.label);
  for (const r of all) {
    if (r.rec.srate !== ref.srate) throw new EvalInputError(`${r.file}: sampling rate ${r.rec.srate} Hz differs from ${ref.srate} Hz of ${trainRecs[0]!.file}`);
    if (r.rec.channels.length !== ref.channels.length) throw new EvalInputError(`${r.file}: ${r.rec.channels.length} channels, ${trainRecs[0]!.file} has ${ref.channels.length}`);
  }
  const t0 = performance.now();
  const units = async (recs: LabelledRecording[]) => {
    const dec = o.frameDecoder;
    if (!dec) return recs.flatMap((r) => extractUnits(r, o, cset));
    const out: Unit[] = [];
    for (const r of recs) out.push(...(await extractUnitsWith(dec, r, o, cset)));
    return out;
  };
  const trainUnits = await units(trainRecs);
  const testUnits = await units(testRecs);
  const trialSeconds =
    o.trialSeconds ?? (o.paradigm === 'p300' ? median(trainUnits.slice(1).map((u, i) => u.onset - trainUnits[i]!.onset).filter((d) => d > 0)) : (o.to ?? 4));
  const trials: TrialOutcome[] = [];
  let trainRows = 0;
  let setting: string;
  let folds: number | undefined;
  if (testRecs.length) {
    setting = `train ${o.train.length} file(s) → test ${testRecs.length} file(s)`;
    const m = train(o.paradigm, trainUnits, chanLabels, ref.srate, !!o.frameDecoder);
    trainRows = trainUnits.reduce((n, u) => n + u.X.length, 0);
    for (const u of testUnits) trials.push(decide(m, u, classes));
  } else {
    const K = o.cv ?? 5;
    if (!(Number.isInteger(K) && K >= 2)) throw new EvalInputError(`--cv must be an integer ≥ 2, got ${K}`);
    folds = K;
    setting = `${K}-fold cross-validation by trial over ${o.train.length} file(s)`;
    // Stratified: the i-th trial of each class (in time order) goes to fold i mod K.
    const fold = new Map<Unit, number>();
    const perClass = new Map<string, number>();
    for (const u of trainUnits) {
      const i = perClass.get(u.label) ?? 0;
      perClass.set(u.label, i + 1);
      fold.set(u, i % K);
    }
    for (let k = 0; k < K; k++) {
      const tr = trainUnits.filter((u) => fold.get(u) !== k);
      const te = trainUnits.filter((u) => fold.get(u) === k);
      if (!te.length) continue;
      const m = train(o.paradigm, tr, chanLabels, ref.srate, !!o.frameDecoder);
      trainRows += tr.reduce((n, u) => n + u.X.length, 0);
      for (const u of te) trials.push({ ...decide(m, u, classes), fold: k });
    }
    trials.sort((a, b) => (a.file === b.file ? a.onset - b.onset : a.file < b.file ? -1 : 1));
  }
  if (!trials.length) throw new EvalInputError('no test trial with features (are the cues inside the recordings?)');
  const metrics = computeMetrics(trials, classes, trialSeconds);
  log.info({ paradigm: o.paradigm, setting, trials: trials.length, accuracy: metrics.accuracy, ms: Math.round(performance.now() - t0) }, 'evaluation done');
  return { paradigm: o.paradigm, setting, train: o.train, test: o.test ?? [], folds, metrics, trials, trainRows };
}
