/**
 * Replayed intents against the ones recorded live: the check behind "replay a
 * session offline bit-for-bit".
 */
import type { Intent } from '../../types.ts';

export interface IntentComparison {
  replayed: number;
  recorded: number;
  /** Intents compared (same seq in both). */
  compared: number;
  labelMismatches: number;
  /** Largest |Δp| over all classes of all compared intents. */
  maxProbDiff: number;
  /** seqs present in one list only. */
  missing: number[];
  extra: number[];
  equal: boolean;
}

/**
 * Compare replayed intents with the ones recorded live (neurox-intents): same seqs,
 * same labels, probabilities within `tol` (default 1e-6, float32 rounding).
 */
export function compareIntents(replayed: Intent[], recorded: Intent[], tol = 1e-6): IntentComparison {
  const rec = new Map(recorded.map((i) => [i.seq, i]));
  const rep = new Map(replayed.map((i) => [i.seq, i]));
  let compared = 0;
  let labelMismatches = 0;
  let maxProbDiff = 0;
  const missing: number[] = [];
  const extra: number[] = [];
  for (const [seq, a] of rec) {
    const b = rep.get(seq);
    if (!b) {
      missing.push(seq);
      continue;
    }
    compared++;
    if (a.label !== b.label) labelMismatches++;
    for (const k of new Set([...Object.keys(a.probs), ...Object.keys(b.probs)])) {
      const d = Math.abs((a.probs[k] ?? Number.NaN) - (b.probs[k] ?? Number.NaN));
      if (Number.isNaN(d)) maxProbDiff = Infinity;
      else if (d > maxProbDiff) maxProbDiff = d;
    }
  }
  for (const seq of rep.keys()) if (!rec.has(seq)) extra.push(seq);
  return {
    replayed: replayed.length,
    recorded: recorded.length,
    compared,
    labelMismatches,
    maxProbDiff,
    missing,
    extra,
    equal: labelMismatches === 0 && maxProbDiff <= tol && missing.length === 0,
  };
}
