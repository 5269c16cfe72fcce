/**
 * Common contract of the classical decoders (CSP/FBCSP, tangent space, MDM, xDAWN,
 * CCA/FBCCA, TRCA): fit on epochs offline, then predict one window at a time in
 * the same `Decoded` shape as the baseline decoder, and round-trip through a JSON
 * profile. The live path hands `predict` the framer's window (samples × channels);
 * offline evaluation hands `predictEpoch` the same samples as channels × samples.
 */
import type { Decoded } from './baseline.ts';
import { assertFiniteWindow, trial, windowToEpoch, type Epochs } from './epochs.ts';

/** Names of the classical decoders (the `--decoder` choices). */
export type ClassicalKind = 'csp' | 'fbcsp' | 'ts-lr' | 'mdm' | 'xdawn-lda' | 'xdawn-ts' | 'cca' | 'fbcca' | 'trca';

export const CLASSICAL_KINDS: readonly ClassicalKind[] = ['csp', 'fbcsp', 'ts-lr', 'mdm', 'xdawn-lda', 'xdawn-ts', 'cca', 'fbcca', 'trca'];

/** Window shape a decoder was fitted for. */
export interface WindowShape {
  channels: number;
  samples: number;
  srate: number;
  channelLabels?: string[];
}

/** Serialised decoder (JSON). `params` is decoder-specific. */
export interface ClassicalProfile<P = unknown> {
  kind: 'neurox-classical-profile';
  version: 1;
  decoder: ClassicalKind;
  classes: string[];
  shape: WindowShape;
  options: Record<string, unknown>;
  params: P;
  fittedAt: string;
}

/** Decoded output from class probabilities. */
export function decodedFrom(classes: string[], p: number[]): Decoded {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  const probs: Record<string, number> = {};
  classes.forEach((c, k) => (probs[c] = p[k]!));
  return { label: classes[best]!, probs, confidence: p[best]! };
}

export abstract class ClassicalDecoder {
  abstract readonly kind: ClassicalKind;
  classes: string[] = [];
  shape: WindowShape | undefined;

  /** Fit on labelled epochs; returns this. */
  abstract fit(X: Epochs, y: string[]): this;

  /** Class probabilities (in `classes` order) of one channels × samples epoch already checked for shape. */
  protected abstract probsOf(x: Float64Array): number[];

  abstract toProfile(): ClassicalProfile;

  get fitted(): boolean {
    return this.shape !== undefined;
  }

  protected setShape(X: Epochs): void {
    this.shape = { channels: X.channels, samples: X.samples, srate: X.srate, ...(X.channelLabels ? { channelLabels: X.channelLabels } : {}) };
  }

  protected requireShape(): WindowShape {
    if (!this.shape) throw new Error(`${this.kind} decoder is not fitted`);
    return this.shape;
  }

  /** Predict one epoch (channels × samples, row-major). */
  predictEpoch(x: Float64Array): Decoded {
    const s = this.requireShape();
    assertFiniteWindow(x, s.channels, s.samples, s.channelLabels);
    return decodedFrom(this.classes, this.probsOf(x));
  }

  /** Predict every trial of `X`. */
  predictEpochs(X: Epochs): Decoded[] {
    return Array.from({ length: X.trials }, (_, i) => this.predictEpoch(trial(X, i)));
  }

  /**
   * Streaming form: predict from the framer's window (samples × channels, row-major,
   * Float32 or Float64), its newest `samples` rows being the epoch the decoder was fitted
   * on. A longer window is cut to its newest rows; a shorter one is an error.
   */
  predict(window: ArrayLike<number>, samples: number, channels: number): Decoded {
    const s = this.requireShape();
    if (channels !== s.channels) throw new Error(`${this.kind}: window has ${channels} channels, the decoder was fitted on ${s.channels}`);
    if (samples < s.samples) throw new Error(`${this.kind}: window has ${samples} samples, the decoder needs ${s.samples} (${(s.samples / s.srate).toFixed(3)} s at ${s.srate} Hz)`);
    const off = (samples - s.samples) * channels;
    const view = off === 0 ? window : sliceRows(window, off, s.samples * channels);
    return this.predictEpoch(windowToEpoch(view, s.samples, channels));
  }

  protected profile<P>(params: P, options: Record<string, unknown>): ClassicalProfile<P> {
    return { kind: 'neurox-classical-profile', version: 1, decoder: this.kind, classes: this.classes, shape: this.requireShape(), options, params, fittedAt: new Date().toISOString() };
  }
}

function sliceRows(w: ArrayLike<number>, off: number, len: number): ArrayLike<number> {
  if (w instanceof Float32Array || w instanceof Float64Array) return w.subarray(off, off + len);
  return Array.from({ length: len }, (_, i) => w[off + i]!);
}

/** Parse-time check of a profile's envelope. */
export function checkProfile(p: unknown, allowed: readonly ClassicalKind[] = CLASSICAL_KINDS): ClassicalProfile {
  const q = p as Partial<ClassicalProfile>;
  if (!q || q.kind !== 'neurox-classical-profile' || q.version !== 1) throw new Error('not a neurox classical decoder profile (v1)');
  if (!CLASSICAL_KINDS.includes(q.decoder as ClassicalKind)) throw new Error(`unknown classical decoder '${String(q.decoder)}'`);
  if (!allowed.includes(q.decoder as ClassicalKind)) throw new Error(`profile is for decoder '${q.decoder}', expected ${allowed.join(' or ')}`);
  return q as ClassicalProfile;
}
