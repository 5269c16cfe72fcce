/**
 * Truncated, corrupted and wrong-format files: a clear error naming the file
 * and byte offset (strict XDF, all EDF), or the data before the damage plus a
 * warning (lenient XDF, lenient EDF) — never a crash or another error type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readXdf, readXdfChunks, XdfFormatError } from '../../adapters/xdf/index.ts';
import { readEdf, EdfFormatError } from '../../adapters/edf/index.ts';
import { dataFile } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'neurox-bad-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function put(name: string, b: Buffer | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
}

/** Deterministic PRNG for the corruption fuzz. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('XDF: wrong format names the file and offset 0', async () => {
  const edf = dataFile('edf/test_uneven_samp.edf');
  await assert.rejects(readXdf(edf), (e: unknown) => {
    assert.ok(e instanceof XdfFormatError);
    assert.equal(e.offset, 0);
    assert.equal(e.file, edf);
    assert.match(e.message, /test_uneven_samp\.edf: byte offset 0: not an XDF file/);
    return true;
  });
  await assert.rejects(readXdf(put('empty.xdf', Buffer.alloc(0))), /empty\.xdf: byte offset 0: not an XDF file.*shorter than 4 bytes/);
  await assert.rejects(readXdf(join(dir, 'missing.xdf')), /missing\.xdf: byte offset 0: cannot open file/);
});

test('XDF: truncations of minimal.xdf read up to the last full chunk (lenient) or throws at that chunk (strict)', async () => {
  const full = readFileSync(dataFile('xdf/minimal.xdf'));
  const starts: number[] = [];
  for await (const c of readXdfChunks(dataFile('xdf/minimal.xdf'))) starts.push(c.offset);
  const complete = await readXdf(dataFile('xdf/minimal.xdf'));
  const path = join(dir, 'cut.xdf');
  // Every length around each chunk start, and a stride through the rest.
  const lengths = new Set<number>();
  for (const s of starts) for (const d of [-2, -1, 0, 1, 2, 5, 11]) lengths.add(s + d);
  for (let len = 4; len < full.length; len += 13) lengths.add(len);
  for (const len of [...lengths].filter((l) => l >= 4 && l < full.length).sort((a, b) => a - b)) {
    writeFileSync(path, full.subarray(0, len));
    const cutChunk = starts.filter((s) => s < len).at(-1)!;
    const atBoundary = starts.includes(len);
    const f = await readXdf(path);
    if (atBoundary) assert.deepEqual(f.warnings, [], `cut at chunk boundary ${len}`);
    else {
      assert.equal(f.warnings.length, 1, `cut at ${len}`);
      assert.match(f.warnings[0]!, new RegExp(`cut\\.xdf: byte offset ${cutChunk}: file cut short`));
    }
    // What was read is a prefix of the complete file's content.
    for (const s of f.streams) {
      const c = complete.streams.find((x) => x.id === s.id)!;
      assert.deepEqual(Array.from(s.timestamps), Array.from(c.timestamps.subarray(0, s.nSamples)));
    }
    if (!atBoundary) {
      await assert.rejects(readXdf(path, { strict: true }), (e: unknown) => {
        assert.ok(e instanceof XdfFormatError, String(e));
        assert.equal(e.offset, cutChunk);
        assert.ok(e.message.startsWith(`${path}: byte offset ${cutChunk}: file cut short`), e.message);
        return true;
      });
    }
  }
});

test('XDF: corrupt chunk headers and sample records are reported with their offsets', async () => {
  const full = readFileSync(dataFile('xdf/minimal.xdf'));
  const chunks: { offset: number; tag: string }[] = [];
  for await (const c of readXdfChunks(dataFile('xdf/minimal.xdf'))) chunks.push({ offset: c.offset, tag: c.tag });
  // Bad length-field size byte on the second chunk.
  const b1 = Buffer.from(full);
  const second = chunks[1]!.offset;
  b1[second] = 3;
  const p1 = put('badlen.xdf', b1);
  await assert.rejects(readXdf(p1, { strict: true }), new RegExp(`badlen\\.xdf: byte offset ${second}: corrupt chunk: length-field size byte is 3`));
  const lenient = await readXdf(p1);
  assert.equal(lenient.streams.length, 0);
  assert.match(lenient.warnings[0]!, /returning the data before it/);
  // Unknown tag.
  const b2 = Buffer.from(full);
  const nlb = b2[second]!;
  b2.writeUInt16LE(77, second + 1 + nlb);
  await assert.rejects(readXdf(put('badtag.xdf', b2), { strict: true }), new RegExp(`byte offset ${second}: corrupt chunk: unknown tag 77`));
  // Bad timestamp marker inside the first samples chunk.
  const firstSamples = chunks.find((c) => c.tag === 'samples')!.offset;
  const b3 = Buffer.from(full);
  const n1 = b3[firstSamples]!;
  const contentStart = firstSamples + 1 + n1 + 2;
  const countBytes = b3[contentStart + 4]!;
  const marker = contentStart + 4 + 1 + countBytes;
  b3[marker] = 5;
  await assert.rejects(readXdf(put('badts.xdf', b3), { strict: true }), (e: unknown) => {
    assert.ok(e instanceof XdfFormatError);
    assert.equal(e.offset, marker);
    assert.match(e.message, /timestamp marker of sample 0 is 5/);
    return true;
  });
  // A length field claiming far more than the file holds.
  const b4 = Buffer.from(full);
  b4[second] = 8;
  b4.writeBigUInt64LE(2n ** 60n, second + 1);
  b4.writeUInt16LE(2, second + 9);
  await assert.rejects(readXdf(put('huge.xdf', b4), { strict: true }), /chunk \(tag 2\) of 1152921504606846976 bytes would end at byte .*past the end of the file at byte 1950/);
});

test('XDF: random byte corruption never crashes (strict throws XdfFormatError, lenient returns)', async () => {
  const full = readFileSync(dataFile('xdf/minimal.xdf'));
  const rand = rng(42);
  const path = join(dir, 'fuzz.xdf');
  for (let trial = 0; trial < 300; trial++) {
    const b = Buffer.from(full);
    const hits = 1 + Math.floor(rand() * 3);
    for (let h = 0; h < hits; h++) b[4 + Math.floor(rand() * (b.length - 4))] = Math.floor(rand() * 256);
    writeFileSync(path, b);
    try {
      await readXdf(path, { strict: true, sync: true, dejitter: true });
    } catch (e) {
      assert.ok(e instanceof XdfFormatError, `trial ${trial}: ${String(e)}`);
      assert.ok(e.message.startsWith(`${path}: byte offset `));
    }
    await readXdf(path); // lenient: must not throw
  }
});

test('EDF: wrong format, truncated and corrupt headers name the file and byte offset', () => {
  const xdf = dataFile('xdf/minimal.xdf');
  assert.throws(
    () => readEdf(xdf),
    (e: unknown) => e instanceof EdfFormatError && e.offset === 0 && /minimal\.xdf: byte offset 0: not an EDF\/BDF file/.test(e.message),
  );
  const src = readFileSync(dataFile('edf/test_generator_2.edf'));
  const headerBytes = 256 * 13;
  const recordBytes = (11 * 200 + 51) * 2;
  // Cut inside data record 5.
  const cut = put('cut.edf', src.subarray(0, headerBytes + 5 * recordBytes + 1234));
  assert.throws(
    () => readEdf(cut),
    (e: unknown) =>
      e instanceof EdfFormatError &&
      e.offset === headerBytes + 5 * recordBytes &&
      e.message.startsWith(`${cut}: byte offset ${headerBytes + 5 * recordBytes}: file cut short: data record 5 of 600 is incomplete`),
  );
  const lenient = readEdf(cut, { lenient: true });
  assert.equal(lenient.header.nRecords, 5);
  assert.equal(lenient.signals[0]!.samples.length, 1000);
  assert.equal(lenient.warnings.length, 1);
  assert.match(lenient.warnings[0]!, /returning 5 complete records/);
  // Cut inside the signal headers and inside the fixed header.
  assert.throws(() => readEdf(put('cut2.edf', src.subarray(0, 1000))), /cut2\.edf: byte offset 1000: file ends inside the signal headers/);
  assert.throws(() => readEdf(put('cut3.edf', src.subarray(0, 100))), /cut3\.edf: byte offset 100: file too short/);
  // Corrupt fields.
  const bad = (name: string, at: number, text: string): string => {
    const b = Buffer.from(src);
    b.write(text, at, 'latin1');
    return put(name, b);
  };
  assert.throws(() => readEdf(bad('ns.edf', 252, 'ab  ')), /ns\.edf: byte offset 252: number of signals is not a number/);
  assert.throws(() => readEdf(bad('hb.edf', 184, '512     ')), /hb\.edf: byte offset 184: header size 512 does not match 12 signals/);
  // samples-per-record field of signal 3: after 16+80+8+8+8+8+8+80 bytes per signal.
  const sprAt = 256 + 12 * (16 + 80 + 8 * 5 + 80) + 3 * 8;
  assert.throws(() => readEdf(bad('spr.edf', sprAt, 'x200    ')), new RegExp(`spr\\.edf: byte offset ${sprAt}: samples per record of signal 3 \\(ECG\\) is not a number`));
  const dmaxAt = 256 + 12 * (16 + 80 + 8 * 4) + 0 * 8;
  assert.throws(() => readEdf(bad('dmax.edf', dmaxAt, '-40000  ')), new RegExp(`dmax\\.edf: byte offset ${dmaxAt}: digital maximum -40000`));
});

test('EDF: random header corruption never crashes (EdfFormatError or a result)', () => {
  const src = readFileSync(dataFile('edf/test_uneven_samp.edf'));
  const rand = rng(7);
  const path = join(dir, 'fuzz.edf');
  for (let trial = 0; trial < 300; trial++) {
    const b = Buffer.from(src);
    b[Math.floor(rand() * 768)] = 32 + Math.floor(rand() * 95);
    writeFileSync(path, b);
    try {
      readEdf(path);
    } catch (e) {
      assert.ok(e instanceof EdfFormatError, `trial ${trial}: ${String(e)}`);
      assert.ok(e.message.startsWith(`${path}: byte offset `));
    }
  }
});
