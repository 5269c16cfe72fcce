/**
 * The client library: its typed events are checked by tsc in a small app that
 * imports `neurox/client` (test/api/client-types, its own tsconfig; the
 * @ts-expect-error lines must fail); it reconnects with back-off after the
 * server restarts on the same port and renews its subscriptions; control()
 * resolves with the ack or rejects with the role the server asked for; its
 * latency measurement matches the server's clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { NeuroxClient } from 'neurox/client';
import { IntentServer } from '../../adapters/ws/server.ts';
import { localClock } from '../../src/util/clock.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const hello = () => ({ server: 'test', model: { name: 'm', labels: ['a', 'b'], backend: 'js' }, streams: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the client types: a small app type-checks against neurox/client, and the wrong uses do not', { timeout: 120000 }, () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'test/api/client-types/tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc: ${r.stdout}${r.stderr}`);
});

function intent(seq: number) {
  const t = localClock();
  return { seq, label: 'a', probs: { a: 0.6, b: 0.4 }, confidence: 0.6, tFrame: t, tEmit: t, latencyMs: 1, model: 'm', abstained: false };
}

test('the client reconnects after the server restarts, renews its subscriptions, and measures latency', { timeout: 60000 }, async () => {
  let srv = new IntentServer({ port: 0, hello });
  const port = await srv.listen();
  const c = await NeuroxClient.connect(`ws://127.0.0.1:${port}`, { reconnect: { minMs: 50, maxMs: 400 } });
  try {
    const { rttMs, offset } = await c.measureLatency(5);
    assert.ok(rttMs > 0 && rttMs < 200, `rtt ${rttMs} ms`);
    // Server and client share this process's monotonic clock: the offset maps performance.now() onto it.
    assert.ok(Math.abs(performance.now() / 1000 + offset - localClock()) < 0.01, 'offset maps the client clock onto the server clock');
    c.subscribe(['health'], { rate: 20 });
    await c.next((m) => m.type === 'ack', 2000);
    const reconnecting: number[] = [];
    c.on('reconnecting', (r) => reconnecting.push(r.delayMs));
    const hellos: number[] = [];
    c.on('hello', () => hellos.push(Date.now()));
    await srv.close();
    await sleep(700); // several attempts fail while nothing listens
    srv = new IntentServer({ port, hello });
    await srv.listen();
    for (let i = 0; i < 100 && hellos.length === 0; i++) await sleep(50);
    assert.equal(hellos.length, 1, 'a new hello after the restart');
    assert.ok(reconnecting.length >= 2, `retried with back-off: ${reconnecting.map((d) => d.toFixed(0)).join(', ')} ms`);
    assert.ok(reconnecting.every((d, k) => d <= 400 * 1.25 && (k === 0 || d >= 50 * 0.75)), 'delays within the back-off bounds');
    // The subscription is renewed on the new connection: health arrives without another subscribe.
    const h = c.next((m) => m.type === 'health', 3000);
    for (let i = 0; i < 10; i++) {
      srv.sendHealth({ t: localClock(), state: 'running', streams: [], latencyMs: { n: 0, p50: 0, p90: 0, p99: 0, max: 0 }, intents: 0 });
      await sleep(60);
    }
    await h;
    const got = c.next((m) => m.type === 'intent', 2000);
    srv.sendIntent(intent(7));
    const i = await got;
    assert.equal(i.type === 'intent' && i.seq, 7);
    const d = c.deliveryMs(i as Parameters<NeuroxClient['deliveryMs']>[0])!;
    assert.ok(d >= 0 && d < 1000, `delivery ${d} ms`);
  } finally {
    c.close();
    await srv.close();
  }
});

test('control() resolves with the ack, or rejects with the role the server asked for', { timeout: 30000 }, async () => {
  const cl = { role: 'clinician' as const, token: randomBytes(18).toString('base64url') };
  const srv = new IntentServer({ port: 0, hello, tokens: [cl] });
  srv.setControl(() => undefined);
  const port = await srv.listen();
  const anon = await NeuroxClient.connect(`ws://127.0.0.1:${port}`, { format: 'json' });
  const doc = await NeuroxClient.connect(`ws://127.0.0.1:${port}`, { token: cl.token });
  try {
    assert.equal(anon.role, 'observer');
    assert.equal(doc.role, 'clinician');
    await assert.rejects(anon.control('outputs.arm'), (e: Error & { code?: string; needs?: string }) => e.code === 'unauthorized' && e.needs === 'clinician');
    const ack = await doc.control('outputs.arm');
    assert.equal(ack.action, 'outputs.arm');
  } finally {
    anon.close();
    doc.close();
    await srv.close();
  }
});
