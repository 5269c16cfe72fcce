/**
 * Backpressure with gap notices, over real sockets: a client that reads nothing
 * for 30 s does not raise a normal client's intent latency (percentiles of the
 * normal client during the stall against both clients' before it), and once it
 * reads again it gets one `gap` notice whose seq range is exactly the intents it
 * did not receive, with the latest intent; every seq reaches it exactly once,
 * as an intent or inside the gap. Its drops and gaps are in `health` and /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import { IntentServer } from '../../adapters/ws/server.ts';
import type { GapMessage, HealthMessage, IntentMessage, ServerMessage } from '../../adapters/ws/protocol.ts';
import { percentile } from '../../adapters/ws/health.ts';
import { localClock } from '../../src/util/clock.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// 200 labels make each intent ~6 KB, so 30 s of them overflow the kernel's socket buffers.
const LABELS = Array.from({ length: 200 }, (_, k) => `class-${k}`);
const hello = () => ({ server: 'test', model: { name: 'm', labels: LABELS, backend: 'js' }, streams: [] });

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: +percentile(s, 0.5).toFixed(3), p99: +percentile(s, 0.99).toFixed(3) };
}

test('a client that reads nothing for 30 s costs a normal client no latency, then gets a correct gap notice', { timeout: 120000 }, async (t) => {
  const srv = new IntentServer({ port: 0, hello });
  const port = await srv.listen();
  const normal = await NeuroxClient.connect(`ws://127.0.0.1:${port}`, { format: 'json' });
  const slow = new WebSocket(`ws://127.0.0.1:${port}`, ['neurox.v1.json']);
  const slowMsgs: { m: ServerMessage; at: number }[] = [];
  slow.on('message', (d) => slowMsgs.push({ m: JSON.parse(String(d)) as ServerMessage, at: performance.now() / 1000 }));
  await new Promise((r) => slow.once('open', r));
  slow.send(JSON.stringify({ type: 'subscribe', topics: ['health'], rate: 1 }));
  await normal.measureLatency(10);
  // The slow client's latency, on the same clocks (both clients live in this process).
  const offset = normal.clockOffset!;
  const normalLat: { at: number; ms: number }[] = [];
  normal.on('intent', (i) => normalLat.push({ at: localClock(), ms: normal.deliveryMs(i)! }));

  let seq = 0;
  const probs = Object.fromEntries(LABELS.map((l, k) => [l, k === 0 ? 0.9 : 0.1 / (LABELS.length - 1)]));
  const timer = setInterval(() => {
    const tt = localClock();
    srv.sendIntent({ seq: seq++, label: LABELS[0]!, probs, confidence: 0.9, tFrame: tt, tEmit: tt, latencyMs: 1, model: 'm', abstained: false });
    if (seq % 10 === 0) srv.sendHealth({ t: tt, state: 'running', streams: [], latencyMs: { n: 0, p50: 0, p90: 0, p99: 0, max: 0 }, intents: seq });
  }, 10);
  try {
    await sleep(5000);
    const stallStart = localClock();
    slow.pause();
    await sleep(30000);
    const stallEnd = localClock();
    slow.resume();
    // Let it drain and catch up.
    for (let i = 0; i < 200 && !slowMsgs.some((x) => x.m.type === 'gap'); i++) await sleep(50);
    await sleep(2000);
    clearInterval(timer);
    await sleep(300);
    const sent = seq;

    const before = normalLat.filter((x) => x.at < stallStart).map((x) => x.ms);
    const during = normalLat.filter((x) => x.at >= stallStart + 1 && x.at < stallEnd).map((x) => x.ms);
    const slowBefore = slowMsgs
      .filter((x): x is { m: IntentMessage; at: number } => x.m.type === 'intent' && x.m.tEmit < stallStart)
      .map((x) => (x.at + offset - x.m.tEmit) * 1000);
    const s = { normalBefore: stats(before), normalDuringStall: stats(during), slowBefore: stats(slowBefore) };
    t.diagnostic(JSON.stringify(s));
    const ref = Math.max(s.normalBefore.p99, s.slowBefore.p99);
    assert.ok(s.normalDuringStall.p99 <= Math.max(3 * ref, ref + 5), `normal client's p99 during the stall ${s.normalDuringStall.p99} ms vs ${ref} ms before`);
    assert.ok(s.normalDuringStall.p50 <= Math.max(3 * s.normalBefore.p50, s.normalBefore.p50 + 2), 'median unchanged');

    const gaps = slowMsgs.map((x) => x.m).filter((m): m is GapMessage => m.type === 'gap');
    assert.equal(gaps.length, 1, 'one gap notice');
    const g = gaps[0]!;
    t.diagnostic(`gap ${g.from}..${g.to} (${g.missed} intents) of ${sent}`);
    assert.ok(g.missed > 100, 'the stall cost it intents');
    assert.equal(g.missed, g.to - g.from + 1);
    assert.equal(g.latest?.seq, g.to, 'latest is the last missed intent');
    assert.equal(g.status, undefined, 'no status was ever sent');
    const got = slowMsgs.map((x) => x.m).filter((m): m is IntentMessage => m.type === 'intent').map((m) => m.seq);
    const gapAt = slowMsgs.findIndex((x) => x.m.type === 'gap');
    const beforeGap = slowMsgs.slice(0, gapAt).filter((x) => x.m.type === 'intent').length;
    assert.deepEqual(got.slice(0, beforeGap), Array.from({ length: g.from }, (_, k) => k), 'every intent before the gap, in order');
    assert.deepEqual(got.slice(beforeGap), Array.from({ length: sent - g.to - 1 }, (_, k) => g.to + 1 + k), 'every intent after it, in order');
    const health = slowMsgs.map((x) => x.m).filter((m): m is HealthMessage => m.type === 'health').at(-1)!;
    assert.deepEqual({ missed: health.client.missedIntents, gaps: health.client.gaps }, { missed: g.missed, gaps: 1 });
    const metrics = await new Promise<string>((r) => http.get(`http://127.0.0.1:${port}/metrics`, (res) => {
      let b = '';
      res.on('data', (d) => (b += d)).on('end', () => r(b));
    }));
    assert.match(metrics, new RegExp(`^neurox_ws_missed_intents_total ${g.missed}$`, 'm'));
    assert.match(metrics, /^neurox_ws_gaps_total 1$/m);
  } finally {
    clearInterval(timer);
    normal.close();
    slow.close();
    await srv.close();
  }
});
