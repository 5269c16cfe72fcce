/**
 * `neurox run --record` ended by a signal. SIGTERM: the session stops in order and the
 * file is closed properly, with a footer for every stream, no reader warning, and
 * every sample up to the signal, without a hole. SIGKILL: the file still reads
 * (leniently: the cut chunk is dropped) and holds the samples up to at least 1.5 s
 * before the kill, without a hole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localClock } from '../../adapters/lsl/index.ts';
import { readXdf, type XdfStream } from '../../adapters/xdf/index.ts';
import { startRuntime, waitFor } from '../helpers/runtime.ts';
import { sleep } from '../helpers/suite.ts';

const RUN_S = Number(process.env.NEUROX_SIGNAL_RUN_SECONDS ?? 6);
const SRATE = 160; // the eeg64-160 simulator startRuntime runs

/** Largest step between consecutive timestamps, in samples. */
function largestStep(s: XdfStream): number {
  let worst = 0;
  for (let i = 1; i < s.timestamps.length; i++) worst = Math.max(worst, (s.timestamps[i]! - s.timestamps[i - 1]!) * SRATE);
  return worst;
}

async function recordedRuntime(tag: string, file: string) {
  const rt = await startRuntime(tag, ['--record', file]);
  await waitFor(rt.stderr, /intents flowing/, 30000, `${tag}: intents flowing`);
  await sleep(RUN_S * 1000);
  return rt;
}

test('SIGTERM during recording: the file is closed with footers, no warnings, nothing missing', { timeout: (RUN_S + 90) * 1000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurox-term-'));
  const file = join(dir, 'term.xdf');
  const rt = await recordedRuntime('suite-term', file);
  try {
    const at = localClock();
    rt.proc.kill('SIGTERM');
    const code = await Promise.race([rt.exited, sleep(20000).then(() => 'timeout')]);
    assert.equal(code, 0, `clean exit after SIGTERM (stderr tail: ${rt.stderr().slice(-600)})`);
    const x = await readXdf(file);
    assert.deepEqual(x.warnings, [], 'the file reads without warnings');
    for (const s of x.streams) assert.ok(s.footer, `stream ${s.info.name} has its footer`);
    const eeg = x.streams.find((s) => s.info.type === 'EEG');
    assert.ok(eeg, 'the EEG stream is in the file');
    const last = eeg.timestamps[eeg.nSamples - 1]!;
    t.diagnostic(`${eeg.nSamples} EEG samples, last ${((at - last) * 1000).toFixed(0)} ms before SIGTERM, largest step ${largestStep(eeg).toFixed(2)} samples; streams ${x.streams.map((s) => `${s.info.name}:${s.nSamples}`).join(' ')}`);
    assert.ok(eeg.nSamples >= RUN_S * SRATE, `${eeg.nSamples} samples for ≥ ${RUN_S} s`);
    assert.ok(last >= at - 0.5, `samples up to the signal: the last ${(at - last).toFixed(3)} s before it`);
    assert.ok(largestStep(eeg) < 1.5, 'no hole in the EEG stream');
    assert.equal(x.streams.find((s) => s.info.name === 'neurox-gaps')?.nSamples ?? 0, 0, 'no gap recorded');
    assert.ok((x.streams.find((s) => s.info.name === 'neurox-intents')?.nSamples ?? 0) > 0, 'the intents were recorded');
    assert.match(rt.stderr(), /SIGTERM/, 'the log says why it stopped');
  } finally {
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGKILL during recording: the file reads up to the last 1.5 s', { timeout: (RUN_S + 90) * 1000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurox-kill-'));
  const file = join(dir, 'kill.xdf');
  const rt = await recordedRuntime('suite-kill', file);
  try {
    const at = localClock();
    rt.proc.kill('SIGKILL');
    await rt.exited;
    const x = await readXdf(file);
    const eeg = x.streams.find((s) => s.info.type === 'EEG');
    assert.ok(eeg, 'the EEG stream is in the file');
    const last = eeg.timestamps[eeg.nSamples - 1]!;
    t.diagnostic(`${eeg.nSamples} EEG samples, last ${((at - last) * 1000).toFixed(0)} ms before SIGKILL; warnings: ${JSON.stringify(x.warnings)}`);
    assert.ok(last >= at - 1.5, `samples until ≥ kill − 1.5 s: the last is ${(at - last).toFixed(3)} s before`);
    assert.ok(largestStep(eeg) < 1.5, 'no hole before the cut');
    // Nothing but the cut at the end may be wrong with the file.
    assert.ok(x.warnings.length <= 1, `at most one warning: ${JSON.stringify(x.warnings)}`);
    for (const w of x.warnings) assert.match(w, /file cut short/, 'only the cut end is reported');
  } finally {
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
