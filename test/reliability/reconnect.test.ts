/**
 * Reconnection: the outlet's process is SIGKILLed and restarted. The source keeps
 * running, reports the loss once, emits exactly one gap covering the outage, and
 * resumes with the restarted stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { lslSource, localClock } from '../../adapters/lsl/index.ts';
import type { GapEvent, SignalChunk } from '../../src/types.ts';
import { counterOutlet } from '../helpers/counter-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function outletProc(name: string, t0: number): ChildProcess {
  return counterOutlet({ name, sourceId: `${name}-src`, channels: 8, srate: 500, t0 });
}

test('killed and restarted outlet: one gap marker covering the outage, then data resumes', async (t) => {
  const name = `reconnect-${process.pid}`;
  const t0 = localClock();
  let proc = outletProc(name, t0);
  const counters: number[] = [];
  const stamps: number[] = [];
  const gaps: GapEvent[] = [];
  const status: string[] = [];
  const sub = lslSource({ prop: 'name', value: name }, { stallAfter: 0.5, resolveTimeout: 20, onStatus: (e) => status.push(e.state) }).subscribe((c) => {
    if (c.kind === 'gap') gaps.push(c);
    if (c.kind === 'signal') {
      const s = c as SignalChunk;
      for (let i = 0; i < s.timestamps.length; i++) (counters.push(s.data[i * 8 + 7]!), stamps.push(s.timestamps[i]!));
    }
  });
  try {
    while (counters.length < 1000) await sleep(100);
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    const killedAt = localClock();
    await sleep(2500);
    proc = outletProc(name, t0);
    const restartedAt = localClock();
    const before = counters.length;
    const deadline = Date.now() + 20000;
    while (counters.length < before + 1500 && Date.now() < deadline) await sleep(100);
    assert.ok(counters.length >= before + 1500, `data did not resume (${counters.length - before} new samples)`);
    assert.equal(gaps.length, 1, `expected exactly one gap, got ${JSON.stringify(gaps)}`);
    const g = gaps[0]!;
    assert.equal(g.reason, 'stream-lost');
    // The gap spans exactly the samples that never arrived, per the counter channel.
    const k = counters.findIndex((v, i) => i > 0 && v !== counters[i - 1]! + 1);
    assert.ok(k > 0, 'counter shows the outage');
    assert.equal(g.missingSamples, counters[k]! - counters[k - 1]! - 1);
    assert.ok(Math.abs(g.tStart - (stamps[k - 1]! + 1 / 500)) < 1e-9);
    assert.ok(Math.abs(g.tEnd - (stamps[k]! - 1 / 500)) < 1e-9);
    assert.ok(g.tStart <= killedAt && g.tEnd >= restartedAt - 0.5, `gap [${g.tStart}, ${g.tEnd}] must cover kill ${killedAt} .. restart ${restartedAt}`);
    // Everything else is contiguous.
    const breaks = counters.filter((v, i) => i > 0 && v !== counters[i - 1]! + 1).length;
    assert.equal(breaks, 1);
    assert.deepEqual(status.filter((s) => s !== 'opened'), ['lost', 'resumed']);
    t.diagnostic(`outage: ${g.missingSamples} samples (${(g.tEnd - g.tStart).toFixed(3)} s), resumed after restart`);
  } finally {
    sub.unsubscribe();
    proc.kill('SIGKILL');
  }
});
