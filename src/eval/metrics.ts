/**
 * Classification metrics for offline evaluation: accuracy, balanced accuracy,
 * ROC-AUC (Mann–Whitney, ties count ½; multi-class: one-vs-rest macro average,
 * Hand & Till's OvR variant as in scikit-learn `roc_auc_score(multi_class='ovr',
 * average='macro')`), confusion matrix, and the Wolpaw information-transfer rate
 * (Wolpaw et al. 2002, "Brain–computer interfaces for communication and control").
 */

/** Rows = true class, columns = predicted class, in `classes` order. */
export function confusionMatrix(yTrue: string[], yPred: string[], classes: string[]): number[][] {
  const idx = new Map(classes.map((c, i) => [c, i]));
  const m = classes.map(() => classes.map(() => 0));
  yTrue.forEach((t, k) => {
    const i = idx.get(t);
    const j = idx.get(yPred[k]!);
    if (i !== undefined && j !== undefined) m[i]![j]!++;
  });
  return m;
}

export function accuracy(cm: number[][]): number {
  let ok = 0;
  let n = 0;
  cm.forEach((row, i) => row.forEach((v, j) => ((n += v), i === j && (ok += v))));
  return n ? ok / n : Number.NaN;
}

/** Mean per-class recall over the classes that have trials. */
export function balancedAccuracy(cm: number[][]): number {
  const recalls = cm.map((row, i) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? row[i]! / n : Number.NaN;
  }).filter((r) => !Number.isNaN(r));
  return recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : Number.NaN;
}

/**
 * Area under the ROC curve of `scores` for the positives (`positive[i]` true):
 * the probability that a random positive scores above a random negative (ties ½).
 * NaN when either class is empty.
 */
export function rocAuc(scores: number[], positive: boolean[]): number {
  const order = scores.map((s, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // Mid-ranks for ties.
  const rank = new Float64Array(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) rank[order[k]!] = r;
    i = j + 1;
  }
  let nPos = 0;
  let sumPos = 0;
  positive.forEach((p, i) => p && (nPos++, (sumPos += rank[i]!)));
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (sumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** One-vs-rest macro ROC-AUC from per-class probabilities (`probs[i][c]`). */
export function macroOvrAuc(probs: number[][], yTrue: string[], classes: string[]): number {
  const aucs = classes.map((c, ci) => rocAuc(probs.map((p) => p[ci]!), yTrue.map((y) => y === c))).filter((a) => !Number.isNaN(a));
  return aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : Number.NaN;
}

/**
 * Wolpaw ITR in bits per trial for N classes at accuracy P:
 * B = log2 N + P log2 P + (1 − P) log2((1 − P)/(N − 1)); 0 at or below chance.
 */
export function wolpawBits(P: number, N: number): number {
  if (!(N >= 2) || !(P > 1 / N)) return 0;
  if (P >= 1) return Math.log2(N);
  return Math.log2(N) + P * Math.log2(P) + (1 - P) * Math.log2((1 - P) / (N - 1));
}

/** Bits per minute for `bitsPerTrial` at one trial every `trialSeconds`. */
export function bitsPerMinute(bitsPerTrial: number, trialSeconds: number): number {
  return trialSeconds > 0 ? (bitsPerTrial * 60) / trialSeconds : Number.NaN;
}

/**
 * Two-sided exact McNemar p-value for two classifiers scored on the same
 * trials, from the discordant counts (b: only the first right, c: only the
 * second): the binomial(b + c, ½) tail at min(b, c), doubled, capped at 1.
 */
export function mcnemarP(b: number, c: number): number {
  const n = b + c;
  if (!n) return 1;
  const k = Math.min(b, c);
  let logC = 0; // log C(n, i), built up from i = 0
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

export interface TrialOutcome {
  /** File and onset (s from the recording start) of the trial. */
  file: string;
  onset: number;
  label: string;
  pred: string;
  /** Posterior per class (in `classes` order), from the accumulated log-odds. */
  probs: number[];
  /** Frames (or epochs) that went into the decision. */
  frames: number;
  fold?: number;
}

export interface Metrics {
  classes: string[];
  trials: number;
  accuracy: number;
  balancedAccuracy: number;
  /** 2 classes: AUC of P(classes[1]); more: one-vs-rest macro. */
  rocAuc: number;
  confusion: number[][];
  chance: number;
  itrBitsPerTrial: number;
  itrBitsPerMin: number;
  trialSeconds: number;
}

export function computeMetrics(trials: TrialOutcome[], classes: string[], trialSeconds: number): Metrics {
  const yTrue = trials.map((t) => t.label);
  const cm = confusionMatrix(yTrue, trials.map((t) => t.pred), classes);
  const acc = accuracy(cm);
  const auc = classes.length === 2 ? rocAuc(trials.map((t) => t.probs[1]!), yTrue.map((y) => y === classes[1])) : macroOvrAuc(trials.map((t) => t.probs), yTrue, classes);
  const bits = wolpawBits(acc, classes.length);
  return {
    classes,
    trials: trials.length,
    accuracy: acc,
    balancedAccuracy: balancedAccuracy(cm),
    rocAuc: auc,
    confusion: cm,
    chance: 1 / classes.length,
    itrBitsPerTrial: bits,
    itrBitsPerMin: bitsPerMinute(bits, trialSeconds),
    trialSeconds,
  };
}
