/**
 * Per-window predict cost of the classical decoders (csp, fbcsp, ts-lr, mdm, xdawn-lda,
 * xdawn-ts, cca, fbcca, trca) against the baseline band-power + LDA decoder, measured in
 * the same run, at 64 ch × 1 kHz and 256 ch × 2 kHz with the framer's default 1 s window.
 *
 *   node --import tsx bench/decoders.ts [--reps 15] [--shapes 64x1000,256x2000] [--only csp,mdm]
 *
 * Each decoder is fitted on a few synthetic trials (class-specific oscillations in noise;
 * the cost of `predict` does not depend on what was learnt), then `predict` is called on
 * successive framer windows (samples × channels, Float32, 80 ms apart), exactly the call
 * the live path makes. The baseline is timed on the same windows through
 * `featuresOf` + `decodeFeatures`, with its segment cache warm as in a live session.
 * Prints JSON: per shape, per decoder, median and p99 milliseconds per window and the
 * ratio of the median to the baseline's.
 */
import { BaselineDecoder } from '../src/decode/baseline.ts';
import { stackEpochs } from '../src/decode/epochs.ts';
import { createClassical } from '../src/decode/registry.ts';
import { CLASSICAL_KINDS, type ClassicalKind } from '../src/decode/classical.ts';
import type { FrameStream } from '../src/align/framer.ts';
import type { ChannelInfo } from '../src/types.ts';
import { mulberry32 } from '../src/dsp/index.ts';
import { scriptOptions } from '../src/cli/args.ts';

const opts = scriptOptions(process.argv.slice(2), {
  reps: { type: 'number', default: 15, help: 'windows timed per decoder (after 2 warm-up calls)' },
  shapes: { type: 'string', default: '64x1000,256x2000', help: 'channels x sample rate, comma separated' },
  only: { type: 'string', default: '', help: 'comma-separated decoder names (default all)' },
}, 'bench/decoders.ts');

const HOP = 0.08;
const WINDOW = 1.0;
const SSVEP = [8, 10, 12, 15];
const kinds = (opts.only ? opts.only.split(',') : CLASSICAL_KINDS) as ClassicalKind[];

function stats(ms: number[]): { medianMs: number; p99Ms: number } {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { medianMs: +q(0.5).toFixed(3), p99Ms: +q(0.99).toFixed(3) };
}

/** Continuous synthetic signal (samples × channels): noise plus, per segment, one class's oscillation on the first 8 channels. */
function signal(C: number, fs: number, seconds: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const T = Math.round(fs * seconds);
  const out = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    const f = SSVEP[Math.floor(t / fs) % SSVEP.length]!;
    const s = Math.sin((2 * Math.PI * f * t) / fs);
    for (let c = 0; c < C; c++) out[t * C + c] = (rnd() - 0.5) * 2 + (c < 8 ? 0.8 * s : 0);
  }
  return out;
}

/** Training epochs (channels × samples) cut from the signal: trial i is second i, class = its oscillation. */
function trainingSet(sig: Float32Array, C: number, fs: number, trials: number, nClasses: number) {
  const N = Math.round(WINDOW * fs);
  const xs: Float64Array[] = [];
  const y: string[] = [];
  for (let i = 0; i < trials; i++) {
    const cls = i % nClasses;
    const sec = cls + SSVEP.length * Math.floor(i / nClasses); // a second that carries class `cls`
    const x = new Float64Array(C * N);
    for (let t = 0; t < N; t++) for (let c = 0; c < C; c++) x[c * N + t] = sig[(sec * N + t) * C + c]!;
    xs.push(x);
    y.push(String(SSVEP[cls]));
  }
  return { X: stackEpochs(xs, C, N, fs), y };
}

const results: Record<string, unknown>[] = [];
for (const shape of opts.shapes.split(',')) {
  const [C, fs] = shape.split('x').map(Number) as [number, number];
  const N = Math.round(WINDOW * fs);
  const hop = Math.round(HOP * fs);
  const windows = opts.reps + 2;
  const sig = signal(C, fs, 4 * SSVEP.length + 2, 7);
  const windowAt = (k: number): { w: Float32Array; end: number } => {
    const end = N + k * hop;
    return { w: sig.subarray((end - N) * C, end * C), end };
  };
  // baseline: log band power (mu, beta) of every channel + shrinkage LDA
  const channels: ChannelInfo[] = Array.from({ length: C }, (_, i) => ({ label: `E${i + 1}`, type: 'EEG' }));
  const base = new BaselineDecoder({ car: true });
  const stream = (k: number): FrameStream => {
    const { w, end } = windowAt(k);
    return { present: true, srate: fs, channels, ringId: 1, endIndex: end, window: w, windowSamples: N, newSamples: hop, gaps: [] };
  };
  const feats = Array.from({ length: 8 }, (_, k) => base.featuresOf(stream(k))!);
  base.calibrate(feats, feats.map((_, k) => (k % 2 ? 'a' : 'b')), channels.map((c) => c.label), fs);
  const bt: number[] = [];
  for (let k = 0; k < windows; k++) {
    const s = stream(100 + k);
    const t0 = performance.now();
    base.decodeFeatures(base.featuresOf(s)!);
    if (k >= 2) bt.push(performance.now() - t0);
  }
  const baseline = stats(bt);
  const decoders: Record<string, unknown> = {};
  for (const kind of kinds) {
    const ssvep = kind === 'cca' || kind === 'fbcca' || kind === 'trca';
    const nClasses = ssvep ? 4 : 2;
    const { X, y } = trainingSet(sig, C, fs, ssvep ? 8 : 8, nClasses);
    const t0 = performance.now();
    const dec = createClassical(kind, ssvep ? { freqs: SSVEP, labels: SSVEP.map(String) } : {}).fit(X, y);
    const fitMs = performance.now() - t0;
    const ts: number[] = [];
    for (let k = 0; k < windows; k++) {
      const { w } = windowAt(k);
      const t1 = performance.now();
      dec.predict(w, N, C);
      if (k >= 2) ts.push(performance.now() - t1);
    }
    const s = stats(ts);
    decoders[kind] = { ...s, ratioToBaseline: +(s.medianMs / baseline.medianMs).toFixed(2), fitMs: Math.round(fitMs), trainTrials: X.trials };
    process.stderr.write(`${shape} ${kind}: ${s.medianMs} ms\n`);
  }
  results.push({ channels: C, srate: fs, windowSeconds: WINDOW, windowSamples: N, windowsTimed: opts.reps, baseline: { decoder: 'baseline-bandpower-lda', ...baseline }, decoders });
}
process.stdout.write(JSON.stringify({ bench: 'decoders', node: process.version, results }, null, 1) + '\n');
