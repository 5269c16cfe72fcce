/**
 * EEGMMIDB epochs for the classical-decoder tests, built with the project's EDF reader
 * the same way scripts/gen-decoder-fixtures.py builds them with MNE: continuous causal
 * Butterworth band-pass (order 4, 1–40 Hz, steady-state start), then 3 s from cue + 0.5 s
 * at every T1/T2 annotation.
 */
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { readEdf } from '../../adapters/edf/reader.ts';
import { butterSos } from '../../src/dsp/design.ts';
import { sosfiltRows } from '../../src/decode/filterbank.ts';
import { stackEpochs, type Epochs } from '../../src/decode/epochs.ts';

export const RUN_LABELS: Record<number, [string, string]> = { 3: ['left', 'right'], 4: ['left', 'right'], 5: ['fists', 'feet'], 6: ['fists', 'feet'] };

export interface RunEpochs {
  epochs: Epochs;
  labels: string[];
  onsets: number[];
  /** Sum of the unfiltered epoch samples (µV), per trial. */
  rawSums: number[];
}

/** Fixture JSON by name from test/fixtures/decoders. */
export function decoderFixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(resolve('test/fixtures/decoders', name), 'utf8')) as T;
}

const cache = new Map<number, RunEpochs>();

/** Epochs of EEGMMIDB S001 run `run` (3–6). */
export function loadRun(run: number, tmin = 0.5, length = 3.0): RunEpochs {
  const hit = cache.get(run);
  if (hit) return hit;
  const rec = readEdf(resolve(`test/data/eegmmidb/S001R${String(run).padStart(2, '0')}.edf`));
  const sigs = rec.signals;
  const fs = sigs[0]!.srate;
  const C = sigs.length;
  const T = sigs[0]!.samples.length;
  const raw = new Float64Array(C * T);
  sigs.forEach((s, c) => raw.set(s.samples, c * T));
  const filtered = sosfiltRows(butterSos({ order: 4, cutoff: [1, 40], btype: 'bandpass', fs }), raw, C, T);
  const s0 = Math.round(tmin * fs);
  const L = Math.round(length * fs);
  const [t1, t2] = RUN_LABELS[run]!;
  const trials: Float64Array[] = [];
  const labels: string[] = [];
  const onsets: number[] = [];
  const rawSums: number[] = [];
  for (const a of rec.annotations) {
    if (a.text !== 'T1' && a.text !== 'T2') continue;
    const o = Math.round(a.onset * fs);
    if (o + s0 + L > T) continue;
    const ep = new Float64Array(C * L);
    let sum = 0;
    for (let c = 0; c < C; c++)
      for (let t = 0; t < L; t++) {
        ep[c * L + t] = filtered[c * T + o + s0 + t]!;
        sum += raw[c * T + o + s0 + t]!;
      }
    trials.push(ep);
    labels.push(a.text === 'T1' ? t1 : t2);
    onsets.push(o);
    rawSums.push(sum);
  }
  const out = { epochs: stackEpochs(trials, C, L, fs, sigs.map((s) => s.label)), labels, onsets, rawSums };
  cache.set(run, out);
  return out;
}
