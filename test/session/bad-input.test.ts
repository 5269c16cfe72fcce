/**
 * Bad input to `neurox replay` and `neurox evaluate`: truncated, corrupted and
 * wrong-format files give one clear line naming the file and byte offset, a
 * non-zero exit code, and no stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XdfWriter } from '../../adapters/xdf/index.ts';
import { dataFile } from '../formats/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'neurox-badin-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function neurox(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NEUROX_LOG_LEVEL: 'warn' } });
}

function assertClean(p: ReturnType<typeof neurox>, file: string, offset: RegExp | number) {
  assert.notEqual(p.status, 0, 'non-zero exit');
  assert.equal(p.signal, null, 'no crash');
  const off = typeof offset === 'number' ? String(offset) : offset.source;
  assert.match(p.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: byte offset ${off}`));
  assert.doesNotMatch(p.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  assert.doesNotMatch(p.stderr, /"stack"/, 'no stack in the log either');
}

test('replay and evaluate: wrong format, truncated and corrupted files', { timeout: 60_000 }, async () => {
  // A small valid XDF recording.
  const good = join(dir, 'good.xdf');
  const w = await XdfWriter.open(good);
  const id = w.addStream({ info: { name: 'eeg', type: 'EEG', channel_count: 2, nominal_srate: 100, channel_format: 'float32' } });
  const n = 2000;
  w.appendSamples(id, Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i)), Float64Array.from({ length: n }, (_, i) => 5 + i / 100), 2);
  await w.close();
  const bytes = readFileSync(good);

  const notXdf = join(dir, 'notes.xdf');
  writeFileSync(notXdf, 'hello, this is text\n');
  assertClean(neurox('replay', notXdf), notXdf, 0);
  assertClean(neurox('evaluate', '--train', notXdf, '--paradigm', 'mi'), notXdf, 0);

  const missing = join(dir, 'missing.edf');
  assertClean(neurox('replay', missing), missing, 0);
  assertClean(neurox('evaluate', '--train', missing), missing, 0);

  const cut = join(dir, 'cut.xdf');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 700));
  assertClean(neurox('replay', cut), cut, /\d+/);
  assertClean(neurox('evaluate', '--train', cut, '--paradigm', 'mi'), cut, /\d+/);
  // --lenient replays what is intact, with a warning naming the offset.
  const len = neurox('replay', cut, '--lenient', '--quiet');
  assert.equal(len.status, 0, len.stderr);
  assert.match(len.stderr, /warning: .*cut\.xdf: byte offset \d+/);

  const bad = Buffer.from(bytes);
  const corrupt = join(dir, 'corrupt.xdf');
  // Corrupt the length-size byte of the second chunk (right after the 4-byte magic and the file header).
  const hdrLen = bad[5]!; // 1-byte length field of the file header
  bad[4 + 2 + hdrLen] = 0x09;
  writeFileSync(corrupt, bad);
  const pc = neurox('replay', corrupt);
  assertClean(pc, corrupt, 4 + 2 + hdrLen);
  assert.match(pc.stderr, /length-field size byte is 9/);

  // EDF cut inside a data record.
  const edf = readFileSync(dataFile('eegmmidb/S001R04.edf'));
  const cutEdf = join(dir, 'S001R04.edf');
  writeFileSync(cutEdf, edf.subarray(0, Math.floor(edf.length / 2) + 7));
  assertClean(neurox('replay', cutEdf), cutEdf, /\d+/);
  assertClean(neurox('evaluate', '--train', cutEdf, '--paradigm', 'mi'), cutEdf, /\d+/);
  // EDF with a corrupt header field.
  const hdr = Buffer.from(edf);
  hdr.write('abcdefgh', 236, 'latin1'); // number of data records
  const badEdf = join(dir, 'badhdr.edf');
  writeFileSync(badEdf, hdr);
  assertClean(neurox('evaluate', '--train', badEdf), badEdf, 236);
});
