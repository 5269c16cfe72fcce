/** Shared helpers for the file-format tests. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DATA = resolve(ROOT, '..', 'shared', 'data');

let sums: Map<string, string> | undefined;

/** Absolute path of a shared test recording, after checking its SHA-256 against SHA256SUMS. */
export function dataFile(rel: string): string {
  if (!sums) {
    sums = new Map();
    for (const line of readFileSync(join(DATA, 'SHA256SUMS'), 'utf8').split('\n')) {
      const m = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
      if (m) sums.set(m[2]!, m[1]!);
    }
  }
  const want = sums.get(rel);
  assert.ok(want, `${rel} is not listed in ${join(DATA, 'SHA256SUMS')}`);
  const path = join(DATA, rel);
  const got = createHash('sha256').update(readFileSync(path)).digest('hex');
  assert.equal(got, want, `checksum mismatch for ${path}: the shared copy is corrupted`);
  return path;
}

/** Dominant frequency of a real signal by a DFT peak search, refined by a fine scan around the peak. */
export function peakFrequency(x: Float64Array, srate: number): number {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  const power = (f: number): number => {
    let re = 0;
    let im = 0;
    const w = (2 * Math.PI * f) / srate;
    for (let i = 0; i < n; i++) {
      re += (x[i]! - mean) * Math.cos(w * i);
      im -= (x[i]! - mean) * Math.sin(w * i);
    }
    return re * re + im * im;
  };
  // Coarse: 0.25 Hz grid up to Nyquist; fine: 0.005 Hz around the best bin.
  let best = 0;
  let bestP = -1;
  for (let f = 0.25; f < srate / 2; f += 0.25) {
    const p = power(f);
    if (p > bestP) {
      bestP = p;
      best = f;
    }
  }
  let fine = best;
  for (let f = best - 0.25; f <= best + 0.25; f += 0.005) {
    const p = power(f);
    if (p > bestP) {
      bestP = p;
      fine = f;
    }
  }
  return fine;
}
