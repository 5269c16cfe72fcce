/**
 * The whole runtime across an outage: the outlet process is SIGKILLed and restarted
 * while `runSession` runs. Apps get `stream-lost` and then `running`, exactly one gap
 * chunk covers the outage, and intents resume with consecutive sequence numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { localClock } from '../../adapters/lsl/index.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { IntentMessage, StatusMessage } from '../../adapters/ws/protocol.ts';
import { BaselineDecoder } from '../../src/decode/baseline.ts';
import { runSession } from '../../src/session/run.ts';
import type { GapEvent } from '../../src/types.ts';
import { counterOutlet } from '../helpers/counter-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const C = 8;

function outlet(name: string, t0: number): ChildProcess {
  return counterOutlet({ name, sourceId: `${name}-src`, channels: C, srate: 250, t0 });
}

test('runtime survives an outlet crash: stream-lost status, one gap, intents resume', { timeout: 90000 }, async () => {
  const name = `sess-reconnect-${process.pid}`;
  const labels = Array.from({ length: C - 1 }, (_, i) => `ch${i + 1}`);
  const decoder = new BaselineDecoder();
  const X = Array.from({ length: 60 }, (_, i) => Float64Array.from({ length: labels.length * 2 }, (_, k) => Math.sin(i * 7 + k)));
  decoder.calibrate(X, X.map((_, i) => (i % 2 ? 'left' : 'right')), labels, 250);
  const t0 = localClock();
  let proc = outlet(name, t0);
  const s = await runSession({ signal: { prop: 'name', value: name }, markers: null, port: 0, decoder });
  const gaps: GapEvent[] = [];
  s.onRawChunk((c) => c.kind === 'gap' && gaps.push(c));
  const client = await NeuroxClient.connect(`ws://127.0.0.1:${s.port}`, { format: 'json' });
  const intents: IntentMessage[] = [];
  const states: string[] = [];
  client.on('intent', (i) => intents.push(i));
  client.on('message', (m) => m.type === 'status' && states.push((m as StatusMessage).state));
  try {
    while (intents.length < 20) await sleep(100);
    proc.kill('SIGKILL');
    const lost = await client.next((m): m is StatusMessage => m.type === 'status' && m.state === 'stream-lost', 10000);
    assert.match(lost.detail ?? '', /no samples/);
    const before = intents.length;
    await sleep(1500);
    proc = outlet(name, t0);
    await client.next((m): m is StatusMessage => m.type === 'status' && m.state === 'running', 20000);
    while (intents.length < before + 20) await sleep(100);
    assert.equal(gaps.length, 1, `one gap: ${JSON.stringify(gaps)}`);
    assert.equal(gaps[0]!.reason, 'stream-lost');
    assert.ok(gaps[0]!.tEnd - gaps[0]!.tStart > 1.5, `gap covers the outage: ${gaps[0]!.tEnd - gaps[0]!.tStart} s`);
    intents.forEach((i, k) => k > 0 && assert.equal(i.seq, intents[k - 1]!.seq + 1, 'seq consecutive across the outage'));
    assert.ok(states.includes('stream-lost') && states.lastIndexOf('running') > states.indexOf('stream-lost'));
  } finally {
    client.close();
    proc.kill('SIGKILL');
    await s.stop();
  }
});
