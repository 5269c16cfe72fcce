/**
 * Crash safety: `neurox record` killed with SIGKILL mid-session leaves a file our
 * reader opens without complaint, holding every sample up to at most 1 s before the kill.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readXdf } from '../../adapters/xdf/index.ts';
import { startSimulator } from '../../devices/simulate.ts';
import { localClock } from '../../src/util/clock.ts';

const BIN = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'neurox-crash-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('neurox record killed with SIGKILL: file readable, at most the last second lost', { timeout: 60_000 }, async (t) => {
  const tag = `crash-${process.pid}`;
  const sim = await startSimulator({ profile: 'eeg64-500', paradigm: 'mi', seed: 2, name: tag, sourceId: `${tag}-src` });
  const file = join(dir, 'killed.xdf');
  try {
    const child = spawn(process.execPath, [BIN, 'record', '--name', tag, '--name', `${tag}-markers`, '--out', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const to = setTimeout(() => reject(new Error(`recorder did not open the streams: ${out}`)), 30_000);
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if ((out.match(/^neurox: \+ /gm) ?? []).length >= 2) (clearTimeout(to), resolve());
      });
    });
    await new Promise((r) => setTimeout(r, 5000));
    const killedAt = localClock();
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const f = await readXdf(file);
    assert.deepEqual(f.warnings, [], 'no damaged chunk');
    const eeg = f.streams.find((s) => s.info.name === tag);
    assert.ok(eeg, 'signal stream header present');
    assert.equal(eeg.footer, undefined, 'no footer: the process was killed');
    const last = eeg.timestamps[eeg.nSamples - 1]!;
    const lost = killedAt - last;
    t.diagnostic(`${eeg.nSamples} samples recorded; last sample ${lost.toFixed(3)} s before the kill`);
    assert.ok(eeg.nSamples > 1000);
    assert.ok(lost <= 1.0, `lost ${lost} s`);
    // What is there is contiguous.
    for (let i = 1; i < eeg.nSamples; i++) assert.ok(Math.abs(eeg.timestamps[i]! - eeg.timestamps[i - 1]! - 1 / 500) < 1e-6, `discontinuity at ${i}`);
    assert.ok(f.streams.some((s) => s.info.name === `${tag}-markers`), 'marker stream header present');
  } finally {
    await sim.stop();
  }
});
