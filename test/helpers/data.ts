/** The test recordings committed under test/data, each checked against test/data/SHA256SUMS before use. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** test/data: the recordings and their checksums (see test/data/README.md). */
export const DATA = resolve(ROOT, 'test', 'data');

let sums: Map<string, string> | undefined;

/**
 * Absolute path of a recording in test/data (`rel` as listed in SHA256SUMS, e.g.
 * `eegmmidb/S001R03.edf`), after checking its SHA-256, so a corrupted or
 * truncated copy fails loudly instead of giving wrong known-answer values.
 */
export function dataFile(rel: string): string {
  if (!sums) {
    sums = new Map();
    for (const line of readFileSync(join(DATA, 'SHA256SUMS'), 'utf8').split('\n')) {
      const m = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
      if (m) sums.set(m[2]!, m[1]!);
    }
  }
  const want = sums.get(rel);
  assert.ok(want, `${rel} is not listed in test/data/SHA256SUMS`);
  const path = join(DATA, rel);
  const got = createHash('sha256').update(readFileSync(path)).digest('hex');
  assert.equal(got, want, `checksum mismatch for test/data/${rel}: the copy is corrupted`);
  return path;
}
