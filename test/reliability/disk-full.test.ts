/**
 * Recording onto a disk that fills up (a small tmpfs): every client is told that
 * the recording failed, and again with each health summary while it lasts;
 * decoding goes on; once space is freed the recording resumes into a new file
 * that marks what could not be stored as `not-recorded` gaps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { IntentMessage, StatusMessage } from '../../adapters/ws/protocol.ts';
import { readXdf } from '../../adapters/xdf/index.ts';
import { startRuntime } from '../helpers/runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'neurox-diskfull-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]).status === 0;

test('disk full: clients get the failure status, decoding continues, recording resumes after space is freed', {
  timeout: 120000,
  skip: mounted ? false : 'cannot mount a tmpfs here (needs root and mount rights); the disk-full path is not exercised',
}, async (t) => {
  const file = join(dir, 'rec.xdf');
  const filler = join(dir, 'filler');
  // Leave about 300 KB: the 64-channel recording (≈ 45 KB/s) fills it within seconds.
  const free = statfsSync(dir).bavail * statfsSync(dir).bsize;
  writeFileSync(filler, Buffer.alloc(free - 300 * 1024));
  const rt = await startRuntime('diskfull', ['--record', file, '--health-every', '2']);
  try {
    const c = await NeuroxClient.connect(`ws://127.0.0.1:${rt.port}`);
    const statuses: StatusMessage[] = [];
    let intents = 0;
    c.on('message', (m) => m.type === 'status' && statuses.push(m));
    c.on('intent', () => intents++);
    const failed = await c.next((m): m is StatusMessage => m.type === 'status' && m.recording?.state === 'failed', 60000);
    t.diagnostic(`failure status: ${JSON.stringify(failed)}`);
    assert.match(failed.warnings?.join(' ') ?? '', /recording failed: .*(ENOSPC|no space)/i);
    const atFailure = intents;
    const n0 = statuses.length;
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(intents - atFailure > 30, `decoding continues: ${intents - atFailure} intents in 5 s`);
    const repeats = statuses.slice(n0).filter((s) => s.recording?.state === 'failed' && s.warnings?.length);
    assert.ok(repeats.length >= 1, 'the failure is repeated in the health status');
    rmSync(filler);
    const resumed = await c.next((m): m is StatusMessage => m.type === 'status' && m.recording?.state === 'recording' && m.recording.file.endsWith('rec-2.xdf'), 20000);
    assert.equal(resumed.warnings, undefined, 'the warning is gone');
    await c.next((m): m is IntentMessage => m.type === 'intent', 5000);
    await new Promise((r) => setTimeout(r, 2000));
    c.close();
  } finally {
    await rt.stop();
  }
  const x = await readXdf(join(dir, 'rec-2.xdf'));
  const eeg = x.streams.find((s) => s.info.type === 'EEG');
  assert.ok(eeg && eeg.timestamps.length > 160, 'the new file holds the EEG after resume');
  const gaps = x.streams.find((s) => s.info.name === 'neurox-gaps')!;
  const g = (gaps.data as string[]).map((v) => JSON.parse(v) as { reason: string; missingSamples: number; tStart: number; tEnd: number });
  const lost = g.filter((v) => v.reason === 'not-recorded');
  assert.equal(lost.length, 1, `one not-recorded gap: ${JSON.stringify(g)}`);
  assert.ok(lost[0]!.missingSamples > 160 && lost[0]!.tEnd > lost[0]!.tStart, JSON.stringify(lost[0]));
  assert.ok(lost[0]!.tEnd < eeg!.timestamps[0]!, 'the gap ends before the new file starts');
  const events = (x.streams.find((s) => s.info.name === 'neurox-events')!.data as string[]).map((v) => JSON.parse(v) as { type: string });
  assert.ok(events.some((e) => e.type === 'recording-resumed'));
});

test.after(() => {
  if (mounted) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
});
