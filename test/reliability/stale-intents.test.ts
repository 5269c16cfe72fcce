/**
 * No stale intents after an outage: the outlet process is killed and comes back
 * 5 s later. No intent emitted after the outage began is decoded from a frame
 * that ends before the gap, the first intent after resume has a normal latency,
 * the status counts the dropped frames, and replaying the recording drops the
 * same frames (the same intents, seq for seq).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { localClock } from '../../adapters/lsl/index.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { IntentMessage, StatusMessage } from '../../adapters/ws/protocol.ts';
import { BaselineDecoder } from '../../src/decode/baseline.ts';
import { runSession } from '../../src/session/run.ts';
import { SessionRecorder } from '../../src/session/record.ts';
import { compareIntents, replayRecording } from '../../src/session/replay/index.ts';
import type { GapEvent } from '../../src/types.ts';
import { counterOutlet } from '../helpers/counter-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const C = 8;
const SRATE = 250;

test('after a 5 s outage no intent comes from a frame cut before the gap, live and in replay', { timeout: 120000 }, async (t) => {
  const name = `stale-${process.pid}`;
  const labels = Array.from({ length: C - 1 }, (_, i) => `ch${i + 1}`);
  const decoder = new BaselineDecoder();
  const X = Array.from({ length: 60 }, (_, i) => Float64Array.from({ length: labels.length * 2 }, (_, k) => Math.sin(i * 7 + k)));
  decoder.calibrate(X, X.map((_, i) => (i % 2 ? 'left' : 'right')), labels, SRATE);
  const dir = mkdtempSync(join(tmpdir(), 'neurox-stale-'));
  const file = join(dir, 'stale.xdf');
  const t0 = localClock();
  const outlet = (): ChildProcess => counterOutlet({ name, sourceId: `${name}-src`, channels: C, srate: SRATE, t0 });
  let proc = outlet();
  const rec = await SessionRecorder.open(file, { headerFields: { neurox_hop: '0.08', neurox_window: '1', neurox_abstain_below: '0', neurox_dsp: '{}' } });
  const s = await runSession({ signal: { prop: 'name', value: name }, markers: null, port: 0, decoder });
  const gaps: GapEvent[] = [];
  s.onRawChunk((c) => {
    rec.write(c);
    if (c.kind === 'gap') gaps.push(c);
  });
  s.onIntent((i) => rec.intent(i));
  const client = await NeuroxClient.connect(`ws://127.0.0.1:${s.port}`, { format: 'json' });
  const intents: (IntentMessage & { received: number })[] = [];
  const statuses: StatusMessage[] = [];
  client.on('intent', (i) => intents.push({ ...i, received: localClock() }));
  client.on('message', (m) => m.type === 'status' && statuses.push(m));
  try {
    while (intents.length < 30) await sleep(100);
    proc.kill('SIGKILL');
    const killedAt = localClock();
    await client.next((m): m is StatusMessage => m.type === 'status' && m.state === 'stream-lost', 10000);
    const before = intents.length;
    const lastBefore = intents[before - 1]!;
    await sleep(Math.max(0, 5000 - (localClock() - killedAt) * 1000));
    proc = outlet();
    await client.next((m): m is StatusMessage => m.type === 'status' && m.state === 'running', 20000);
    while (intents.length < before + 30) await sleep(100);
    assert.equal(gaps.length, 1, 'one gap');
    const gap = gaps[0]!;
    t.diagnostic(`gap ${(gap.tEnd - gap.tStart).toFixed(2)} s; last intent before: tFrame ${lastBefore.tFrame.toFixed(3)}`);
    const after = intents.slice(before);
    // Frames ending before the gap (sender clock ≈ local clock here: the outlet runs on this machine).
    const staleOnes = after.filter((i) => i.tFrame <= gap.tStart + 0.08);
    assert.deepEqual(staleOnes.map((i) => i.seq), [], 'no intent after the outage from a frame before the gap');
    const first = after[0]!;
    const normal = intents.slice(5, before).map((i) => i.latencyMs).sort((a, b) => a - b);
    const p99 = normal[Math.floor(normal.length * 0.99)]!;
    t.diagnostic(`first intent after resume: latency ${first.latencyMs.toFixed(2)} ms (normal p99 ${p99.toFixed(2)} ms)`);
    assert.ok(first.latencyMs < Math.max(3 * p99, 50), `first intent after resume has a normal latency: ${first.latencyMs} ms`);
    assert.ok(first.tFrame > gap.tEnd - 0.08, 'and comes from a frame after the gap');
    assert.ok(s.pipeline.staleFrames >= 1, `stale frames counted: ${s.pipeline.staleFrames}`);
    const lastStatus = statuses.at(-1)!;
    assert.ok((lastStatus.staleFrames ?? 0) >= 1, `status says so: ${JSON.stringify(lastStatus)}`);
    intents.forEach((i, k) => k > 0 && assert.equal(i.seq, intents[k - 1]!.seq + 1));
  } finally {
    client.close();
    proc.kill('SIGKILL');
    await s.stop();
    await rec.close();
  }
  try {
    const r = await replayRecording(file, { decoder });
    const cmp = compareIntents(r.intents, r.recordedIntents, 1e-6);
    t.diagnostic(`replay: ${r.intents.length} intents, recorded ${r.recordedIntents.length}, stale in replay: missing ${cmp.missing.length} extra ${cmp.extra.length}`);
    assert.ok(cmp.equal, `replay gives the same intents: ${JSON.stringify({ ...cmp, missing: cmp.missing.slice(0, 10), extra: cmp.extra.slice(0, 10) })}`);
    assert.deepEqual(cmp.extra, [], 'replay makes no intent from the stale frames either');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
