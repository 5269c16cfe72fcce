/**
 * Protocol v1.1 over real sockets, both subprotocols: hello contents, version
 * mismatch refused, subscription filtering and rates, signal traces that match
 * what was pushed, feedback and control accepted with a token of the right role
 * and refused (naming the role) without, and /healthz, /readyz and /metrics
 * (Prometheus text whose counters match what the clients received).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { IntentServer } from '../../adapters/ws/server.ts';
import { decode, encode, type ServerMessage, type WireFormat } from '../../adapters/ws/protocol.ts';
import type { Intent } from '../../src/types.ts';
import { localClock } from '../../src/util/clock.ts';

const hello = () => ({ server: 'test', model: { name: 'm', labels: ['left', 'right'], backend: 'js' }, streams: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tok = (role: string) => ({ role: role as 'observer', token: randomBytes(18).toString('base64url') });

interface Conn {
  ws: WebSocket;
  msgs: ServerMessage[];
  send: (m: unknown) => void;
  of: <T extends ServerMessage['type']>(t: T) => Extract<ServerMessage, { type: T }>[];
  wait: <T extends ServerMessage['type']>(t: T, pred?: (m: Extract<ServerMessage, { type: T }>) => boolean, ms?: number) => Promise<Extract<ServerMessage, { type: T }>>;
}

async function connect(port: number, f: WireFormat, token?: string): Promise<Conn> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/${token ? `?token=${token}` : ''}`, [f === 'json' ? 'neurox.v1.json' : 'neurox.v1.msgpack']);
  const msgs: ServerMessage[] = [];
  ws.on('message', (d: Buffer, bin) => msgs.push(decode(bin ? d : d.toString(), f) as ServerMessage));
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const of = <T extends ServerMessage['type']>(t: T) => msgs.filter((m) => m.type === t) as Extract<ServerMessage, { type: T }>[];
  const c: Conn = {
    ws, msgs, of,
    send: (m) => ws.send(encode(m as never, f)),
    wait: async (t, pred = () => true, ms = 3000) => {
      const t0 = Date.now();
      for (;;) {
        const m = of(t).find(pred);
        if (m) return m;
        if (Date.now() - t0 > ms) throw new Error(`no ${t} within ${ms} ms; got ${msgs.map((x) => x.type).join(',')}`);
        await sleep(10);
      }
    },
  };
  await c.wait('hello');
  return c;
}

function intent(seq: number): Intent {
  const t = localClock();
  return { seq, label: seq % 2 ? 'right' : 'left', probs: { left: 0.3, right: 0.7 }, confidence: 0.7, tFrame: t - 0.002, tEmit: t, latencyMs: 1 + (seq % 5), model: 'm', abstained: false };
}

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

for (const f of ['json', 'msgpack'] as const) {
  test(`${f}: hello carries version 1.1, topics, controls, limits and the connection's role`, async () => {
    const op = tok('operator');
    const srv = new IntentServer({ port: 0, hello, tokens: [op] });
    const port = await srv.listen();
    try {
      const anon = await connect(port, f);
      const h = anon.of('hello')[0]!;
      assert.equal(h.protocol, 1);
      assert.equal(h.version, '1.1');
      assert.equal(h.format, f);
      assert.deepEqual(h.model.labels, ['left', 'right']);
      assert.equal(h.role, 'observer', 'loopback without a token: observer');
      assert.deepEqual(h.subscribed, ['intents', 'status']);
      assert.ok(h.topics!.includes('signal') && h.topics!.includes('health'));
      assert.equal(h.controls!['outputs.arm'], 'clinician');
      assert.equal(h.limits!.maxMessageBytes, 4096);
      const withTok = await connect(port, f, op.token);
      assert.equal(withTok.of('hello')[0]!.role, 'operator');
      anon.ws.close();
      withTok.ws.close();
    } finally {
      await srv.close();
    }
  });

  test(`${f}: subscriptions filter topics and decimated topics keep to the client's rate`, async () => {
    const srv = new IntentServer({ port: 0, hello });
    const port = await srv.listen();
    try {
      const a = await connect(port, f);
      const b = await connect(port, f);
      a.send({ type: 'subscribe', topics: ['health', 'event'], rate: 5 });
      const ack = await a.wait('ack', (m) => m.of === 'subscribe');
      assert.deepEqual(ack.subscribed, ['intents', 'status', 'health', 'event']);
      assert.equal(ack.rate, 5);
      b.send({ type: 'unsubscribe', topics: ['intents'] });
      await b.wait('ack', (m) => m.of === 'unsubscribe');
      const t0 = Date.now();
      let seq = 0;
      while (Date.now() - t0 < 2000) {
        srv.sendIntent(intent(seq++));
        srv.sendHealth({ t: localClock(), state: 'running', streams: [], latencyMs: { n: 0, p50: 0, p90: 0, p99: 0, max: 0 }, intents: seq });
        await sleep(20);
      }
      srv.sendEvent({ kind: 'recording', action: 'started' });
      await a.wait('event');
      await sleep(100);
      const hs = a.of('health').length;
      // 5/s for 2 s: at most 12 (the 0.9-interval slack), at least 6 on a busy machine.
      assert.ok(hs >= 6 && hs <= 12, `health messages at 5/s over 2 s: ${hs}`);
      assert.equal(a.of('intent').length, seq, 'a: every intent');
      assert.equal(b.of('intent').length, 0, 'b unsubscribed from intents');
      assert.equal(b.of('health').length + b.of('event').length, 0, 'b did not subscribe to health or events');
      assert.deepEqual(a.of('health')[0]!.client, { dropped: 0, missedIntents: 0, gaps: 0 });
      a.ws.close();
      b.ws.close();
    } finally {
      await srv.close();
    }
  });

  test(`${f}: signal traces are the pushed samples, decimated, for the chosen channels only`, async () => {
    const srv = new IntentServer({ port: 0, hello });
    const port = await srv.listen();
    try {
      const c = await connect(port, f);
      c.send({ type: 'subscribe', topics: ['signal'], rate: 10, channels: [1, 3] });
      await c.wait('ack');
      // 4 channels at 200 Hz (decimated by 2 to 100 Hz): channel k carries k*1000 + sample index.
      const C = 4;
      const names = ['a', 'b', 'c', 'd'];
      let n = 0;
      const t0 = 1000;
      for (let block = 0; block < 60; block++) {
        const data = new Float32Array(10 * C);
        const ts = new Float64Array(10);
        for (let i = 0; i < 10; i++, n++) {
          ts[i] = t0 + n / 200;
          for (let k = 0; k < C; k++) data[i * C + k] = k * 1000 + n;
        }
        srv.signal.push('eeg', names, 200, data, ts);
        await sleep(25);
      }
      await sleep(300);
      const sig = c.of('signal');
      assert.ok(sig.length >= 6 && sig.length <= 20, `signal messages at 10/s over 1.5 s: ${sig.length}`);
      for (const m of sig) {
        assert.deepEqual(m.channels, [1, 3]);
        assert.deepEqual(m.names, ['b', 'd']);
        assert.equal(m.srate, 100);
      }
      // Concatenated, the traces are contiguous: the mean of each pair of samples.
      const b = sig.flatMap((m) => m.data[0]!);
      const d = sig.flatMap((m) => m.data[1]!);
      const first = (sig[0]!.t0 - t0) * 200; // sample index of the first decimated block
      b.forEach((v, i) => assert.equal(v, 1000 + first + 2 * i + 0.5));
      d.forEach((v, i) => assert.equal(v, 3000 + first + 2 * i + 0.5));
      for (let i = 1; i < sig.length; i++) assert.ok(Math.abs(sig[i]!.t0 - (sig[i - 1]!.t0 + sig[i - 1]!.data[0]!.length / 100)) < 1e-9, 'no sample lost or repeated');
      c.ws.close();
    } finally {
      await srv.close();
    }
  });

  test(`${f}: feedback and control need a token with the right role; refusals name the role`, async () => {
    const [ob, op, cl] = [tok('observer'), tok('operator'), tok('clinician')];
    const srv = new IntentServer({ port: 0, hello, tokens: [ob, op, cl], loopbackRole: 'none' });
    const done: string[] = [];
    srv.setControl((m, role) => void done.push(`${m.action}:${role}`));
    const port = await srv.listen();
    try {
      srv.sendIntent(intent(0));
      const anon = await connect(port, f);
      const obs = await connect(port, f, ob.token);
      const opr = await connect(port, f, op.token);
      const cli = await connect(port, f, cl.token);
      anon.send({ type: 'feedback', seq: 0, reward: 1 });
      const e1 = await anon.wait('error');
      assert.equal(e1.code, 'unauthorized');
      assert.equal(e1.needs, 'observer');
      assert.match(e1.message, /feedback needs a token with role observer/);
      obs.send({ type: 'feedback', seq: 0, reward: 1 });
      assert.equal((await obs.wait('ack')).seq, 0);
      obs.send({ type: 'control', action: 'record.start', id: 'r1' });
      const e2 = await obs.wait('error');
      assert.deepEqual([e2.code, e2.needs, e2.id], ['unauthorized', 'operator', 'r1']);
      opr.send({ type: 'control', action: 'record.start', id: 'r2' });
      assert.deepEqual(await opr.wait('ack'), { type: 'ack', of: 'control', action: 'record.start', id: 'r2' });
      opr.send({ type: 'control', action: 'outputs.arm', id: 'a1' });
      assert.equal((await opr.wait('error')).needs, 'clinician');
      cli.send({ type: 'control', action: 'outputs.arm', id: 'a2' });
      assert.equal((await cli.wait('ack')).action, 'outputs.arm');
      cli.send({ type: 'control', action: 'adaptation.freeze' });
      await cli.wait('ack', (m) => m.action === 'adaptation.freeze');
      assert.deepEqual(done, ['record.start:operator', 'outputs.arm:clinician', 'adaptation.freeze:clinician']);
      // A bad control is a bad-field error, as for every other message.
      cli.send({ type: 'control', action: 'self-destruct' });
      assert.match((await cli.wait('error')).message, /control\.action must be one of/);
      // An unknown token is refused at the upgrade.
      await assert.rejects(connect(port, f, 'x'.repeat(24)), /401/);
      for (const c of [anon, obs, opr, cli]) c.ws.close();
    } finally {
      await srv.close();
    }
  });
}

test('another major protocol version is refused at the upgrade', async () => {
  const srv = new IntentServer({ port: 0, hello });
  const port = await srv.listen();
  try {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, ['neurox.v2.json']);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    assert.equal(status, 400);
  } finally {
    await srv.close();
  }
});

/** Strict Prometheus text-format parse: every line a comment or `name{labels} value`. */
function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not Prometheus text: ${line}`);
    out.set(m[1]! + (m[2] ?? ''), Number(m[3]));
  }
  return out;
}

test('/healthz, /readyz and /metrics: Prometheus text whose counters match what the clients received', async () => {
  const srv = new IntentServer({ port: 0, hello });
  const port = await srv.listen();
  try {
    assert.equal((await get(port, '/healthz')).status, 200);
    assert.equal((await get(port, '/readyz')).status, 503, 'not ready before running');
    srv.sendStatus({ state: 'running' });
    const h = await get(port, '/readyz');
    assert.equal(h.status, 200);
    assert.deepEqual({ ...JSON.parse(h.body), uptimeS: 0 }, { live: true, ready: true, state: 'running', clients: 0, uptimeS: 0 });
    const a = await connect(port, 'json');
    const b = await connect(port, 'msgpack');
    for (let i = 0; i < 50; i++) srv.sendIntent(intent(i));
    await a.wait('intent', (m) => m.seq === 49);
    await b.wait('intent', (m) => m.seq === 49);
    const r = await get(port, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const m = parseProm(r.body);
    assert.equal(m.get('neurox_intents_total'), 50);
    assert.equal(m.get('neurox_ws_intents_sent_total'), a.of('intent').length + b.of('intent').length);
    assert.equal(m.get('neurox_ws_clients'), 2);
    assert.equal(m.get('neurox_intent_latency_seconds_count'), 50);
    assert.equal(m.get('neurox_ws_gaps_total'), 0);
    // latencyMs cycles 1..5 ms: 10 of 50 are ≤ 1 ms, all are ≤ 5 ms.
    assert.equal(m.get('neurox_intent_latency_seconds_bucket{le="0.001"}'), 10);
    assert.equal(m.get('neurox_intent_latency_seconds_bucket{le="0.005"}'), 50);
    assert.equal((await get(port, '/nope')).status, 404);
    a.ws.close();
    b.ws.close();
  } finally {
    await srv.close();
  }
});
