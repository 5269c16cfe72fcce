/**
 * Epochs for the classical decoders: trials × channels × samples in one Float64Array
 * (row-major), plus the checks every decoder runs before fitting, so bad input fails
 * with an error that names the trial, channel or class.
 */

/** A block of trials, each channels × samples. */
export interface Epochs {
  data: Float64Array;
  trials: number;
  channels: number;
  samples: number;
  srate: number;
  /** Channel labels (used in error messages and stored in profiles). */
  channelLabels?: string[];
}

/** Trial i as a channels × samples view. */
export function trial(X: Epochs, i: number): Float64Array {
  const L = X.channels * X.samples;
  return X.data.subarray(i * L, (i + 1) * L);
}

/** Build Epochs from per-trial arrays (each channels × samples). */
export function stackEpochs(trials: Float64Array[], channels: number, samples: number, srate: number, channelLabels?: string[]): Epochs {
  const L = channels * samples;
  const data = new Float64Array(trials.length * L);
  trials.forEach((t, i) => {
    if (t.length !== L) throw new Error(`trial ${i} has ${t.length} values, expected ${channels}×${samples}`);
    data.set(t, i * L);
  });
  return { data, trials: trials.length, channels, samples, srate, ...(channelLabels ? { channelLabels } : {}) };
}

/** Subset of trials by index. */
export function selectEpochs(X: Epochs, idx: number[]): Epochs {
  return stackEpochs(idx.map((i) => trial(X, i)), X.channels, X.samples, X.srate, X.channelLabels);
}

function channelName(X: { channelLabels?: string[] }, c: number): string {
  return X.channelLabels?.[c] ? `${c} (${X.channelLabels[c]})` : `${c}`;
}

/** Throw on NaN / ±Inf, naming trial, channel and sample. */
export function assertFiniteEpochs(X: Epochs): void {
  const { channels: C, samples: N } = X;
  if (X.data.length !== X.trials * C * N) throw new Error(`epochs: ${X.data.length} values do not make ${X.trials} trials × ${C} channels × ${N} samples`);
  for (let i = 0; i < X.data.length; i++)
    if (!Number.isFinite(X.data[i]!)) {
      const tr = Math.floor(i / (C * N));
      const c = Math.floor((i % (C * N)) / N);
      throw new Error(`epochs: trial ${tr}, channel ${channelName(X, c)} has a non-finite value (${X.data[i]}) at sample ${i % N}`);
    }
}

/** Throw on NaN / ±Inf in a single window (channels × samples). */
export function assertFiniteWindow(x: ArrayLike<number>, C: number, N: number, labels?: string[]): void {
  if (x.length !== C * N) throw new Error(`window has ${x.length} values, expected ${C} channels × ${N} samples`);
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i]!)) throw new Error(`window: channel ${channelName({ ...(labels ? { channelLabels: labels } : {}) }, Math.floor(i / N))} has a non-finite value (${x[i]}) at sample ${i % N}`);
}

/**
 * Check a labelled training set: sizes agree, values are finite, at least two classes,
 * and every class has at least `minPerClass` trials. Returns the sorted class list.
 */
export function checkTrainingSet(X: Epochs, y: string[], what: string, minPerClass = 2): string[] {
  if (y.length !== X.trials) throw new Error(`${what}: ${X.trials} trials but ${y.length} labels`);
  assertFiniteEpochs(X);
  const counts = new Map<string, number>();
  for (const l of y) counts.set(l, (counts.get(l) ?? 0) + 1);
  const classes = [...counts.keys()].sort();
  if (classes.length < 2) throw new Error(`${what}: needs at least 2 classes, got ${classes.map((c) => `'${c}'`).join(', ') || 'none'}`);
  for (const c of classes) {
    const n = counts.get(c)!;
    if (n < minPerClass) throw new Error(`${what}: class '${c}' has ${n} trial${n === 1 ? '' : 's'}; at least ${minPerClass} are needed`);
  }
  return classes;
}

/**
 * Average repetitions (speller / P300): trials sharing a group key are averaged into one,
 * which raises the ERP's signal-to-noise ratio by about √(repetitions). Groups keep the
 * order of their first trial.
 */
export function averageRepetitions(X: Epochs, groups: ArrayLike<string | number>): { epochs: Epochs; groups: (string | number)[] } {
  if (groups.length !== X.trials) throw new Error(`averageRepetitions: ${X.trials} trials but ${groups.length} group keys`);
  const order: (string | number)[] = [];
  const members = new Map<string | number, number[]>();
  for (let i = 0; i < X.trials; i++) {
    const g = groups[i]!;
    if (!members.has(g)) (order.push(g), members.set(g, []));
    members.get(g)!.push(i);
  }
  const L = X.channels * X.samples;
  const out = order.map((g) => {
    const idx = members.get(g)!;
    const m = new Float64Array(L);
    for (const i of idx) { const t = trial(X, i); for (let k = 0; k < L; k++) m[k]! += t[k]!; }
    for (let k = 0; k < L; k++) m[k]! /= idx.length;
    return m;
  });
  return { epochs: stackEpochs(out, X.channels, X.samples, X.srate, X.channelLabels), groups: order };
}

/** Framer window (samples × channels, row-major, Float32 or Float64) → channels × samples Float64. */
export function windowToEpoch(window: ArrayLike<number>, samples: number, channels: number, picks?: number[]): Float64Array {
  const P = picks ?? Array.from({ length: channels }, (_, i) => i);
  const x = new Float64Array(P.length * samples);
  for (let t = 0; t < samples; t++) {
    const row = t * channels;
    for (let p = 0; p < P.length; p++) x[p * samples + t] = window[row + P[p]!]!;
  }
  return x;
}
