/**
 * How the runtime process ends: SIGKILL of `neurox start` leaves no simulator
 * behind; an uncaught error closes the recording with footers and exits non-zero
 * with the reason (not an abort inside liblsl); bad arguments and a taken port
 * fail before anything is opened, spawned or calibrated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readXdf } from '../../adapters/xdf/index.ts';
import { BIN, ROOT, startRuntime, waitFor } from '../helpers/runtime.ts';

/** Pids of processes whose command line contains `needle`. */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

test('SIGKILL of neurox start leaves no neurox process running within 2 s', { timeout: 60000 }, async () => {
  const proc = spawn(process.execPath, [BIN, 'start', '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d));
  proc.stderr!.resume();
  try {
    await waitFor(() => out, /intents on ws:\/\//, 30000, 'neurox start running');
    const tag = `neurox-start-${proc.pid}`;
    const sims = processesWith(tag).filter((p) => p !== proc.pid);
    assert.equal(sims.length, 1, `one simulator child (${sims})`);
    proc.kill('SIGKILL');
    const t0 = Date.now();
    while (processesWith(tag).length > 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(processesWith(tag), [], `no process with ${tag} 2 s after SIGKILL`);
  } finally {
    proc.kill('SIGKILL');
  }
});

test('an uncaught error closes the recording with footers and exits 70 with the reason', { timeout: 90000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurox-fatal-'));
  const file = join(dir, 'fatal.xdf');
  const rt = await startRuntime('fatal', ['--record', file], { NEUROX_FAULT: 'uncaught@4' });
  try {
    const code = await Promise.race([rt.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 30000))]);
    assert.equal(code, 70, `exit status (stderr tail: ${rt.stderr().slice(-800)})`);
    assert.match(rt.stderr(), /neurox: fatal uncaught exception: injected fault/);
    const x = await readXdf(file);
    const eeg = x.streams.find((s) => s.info.type === 'EEG');
    assert.ok(eeg, 'the EEG stream is in the file');
    assert.ok(eeg.footer, 'its footer was written');
    assert.ok(eeg.timestamps.length > 160, `${eeg.timestamps.length} samples`);
    assert.deepEqual(x.warnings, [], 'the file reads without warnings');
  } finally {
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad arguments fail before a recording is opened; a taken port fails before the simulator is spawned', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurox-args-'));
  try {
    const file = join(dir, 'stub.xdf');
    for (const args of [['--port', 'abc'], ['--hop', '-1'], ['--max-frame-age', 'x'], ['--decoder', 'nope'], ['--token', 'short']]) {
      const r = spawnSync(process.execPath, [BIN, 'run', '--record', file, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20000 });
      assert.equal(r.status, 2, `${args.join(' ')}: exit 2 (${r.stderr})`);
      assert.match(r.stderr, new RegExp(args[0]!.replace(/^--/, '')), `the message names ${args[0]}`);
      assert.equal(existsSync(file), false, `${args.join(' ')}: no stub recording left behind`);
    }
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [BIN, 'start', '--port', String(port)], { cwd: ROOT, encoding: 'utf8', timeout: 30000, env: { ...process.env, NEUROX_LOG_LEVEL: 'info' } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      assert.doesNotMatch(r.stderr, /simulator started/, 'the simulator was not spawned');
      assert.doesNotMatch(r.stderr, /calibrat/, 'nothing was calibrated');
      assert.ok(Date.now() - t0 < 15000);
    } finally {
      blocker.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
