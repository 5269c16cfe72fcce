/**
 * Pipeline parity against the reference predictions in the fixtures: each evaluation
 * (a train → test split, or every fold of one CV pooled) is rerun with our decoder
 * on the same trials, in the same order.
 */
import type { ClassicalDecoder } from '../../src/decode/classical.ts';
import { selectEpochs, type Epochs } from '../../src/decode/epochs.ts';

export interface Split { name: string; evaluation: string; train: number[]; test: number[]; train_run?: number; test_run?: number }
export interface RefRow { evaluation: string; predictions: string[]; balanced_accuracy: number }

/** Balanced accuracy (mean recall over the true classes), as sklearn's balanced_accuracy_score. */
export function balancedAccuracy(truth: string[], pred: string[]): number {
  const classes = [...new Set(truth)];
  return classes.reduce((a, c) => {
    const idx = truth.map((t, i) => (t === c ? i : -1)).filter((i) => i >= 0);
    return a + idx.filter((i) => pred[i] === c).length / idx.length;
  }, 0) / classes.length;
}

export interface ParityRow { evaluation: string; trials: number; agreement: number; ours: number; reference: number }

/** Rerun every evaluation; `data(run)` gives the epochs and labels a split refers to. */
export function parity(make: () => ClassicalDecoder, splits: Split[], reference: RefRow[], data: (run?: number) => { epochs: Epochs; labels: string[] }): ParityRow[] {
  return reference.map((ref) => {
    const pred: string[] = [];
    const truth: string[] = [];
    for (const s of splits.filter((x) => x.evaluation === ref.evaluation)) {
      const tr = data(s.train_run);
      const te = data(s.test_run);
      const dec = make().fit(selectEpochs(tr.epochs, s.train), s.train.map((i) => tr.labels[i]!));
      pred.push(...dec.predictEpochs(selectEpochs(te.epochs, s.test)).map((d) => d.label));
      truth.push(...s.test.map((i) => te.labels[i]!));
    }
    const agree = pred.filter((p, i) => p === ref.predictions[i]).length / pred.length;
    return { evaluation: ref.evaluation, trials: pred.length, agreement: agree, ours: balancedAccuracy(truth, pred), reference: ref.balanced_accuracy };
  });
}
