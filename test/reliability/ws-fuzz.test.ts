/**
 * Hostile clients against a running `neurox run` (its own process, simulator over
 * real LSL): the messages that used to kill the runtime, then 100,000 generated
 * messages over real sockets in both subprotocols. The runtime stays up, every
 * message gets exactly one reply (an error, a pong or an ack), oversized messages
 * close their client with 1009 and a reason, and a normal client keeps receiving
 * every intent in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { IntentMessage, ServerMessage } from '../../adapters/ws/protocol.ts';
import { MAX_MESSAGE_BYTES } from '../../adapters/ws/guard.ts';
import { mulberry32 } from '../../src/dsp/chunk.ts';
import { startRuntime, type Runtime } from '../helpers/runtime.ts';

const packr = new Packr({ useRecords: false });
const TOTAL = 100_000;
const BATCH = 500;

type Frame = { data: Buffer | string; binary: boolean };

const FIELDS = ['type', 'seq', 'reward', 'label', 't', 'topics', 'rate', 'channels', 'stream', 'action', 'id', '__proto__', 'x'];
const TOPIC_NAMES = ['intents', 'status', 'signal', 'features', 'health', 'event', 'nope', ''];
const ACTIONS = ['record.start', 'record.stop', 'calibration.start', 'adaptation.freeze', 'adaptation.unfreeze', 'adaptation.reset', 'outputs.arm', 'outputs.disarm', 'launch'];
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
/** Either a valid value or a random one of any kind. */
const maybe = (r: () => number, valid: () => unknown): unknown => (r() < 0.7 ? valid() : value(r, 2));

/** A v1.1 message (subscribe, unsubscribe, control), mostly well-formed, sometimes with a bad field. */
function v11(r: () => number): unknown {
  const k = r();
  const topics = () => Array.from({ length: Math.floor(r() * 4) }, () => pick(r, TOPIC_NAMES));
  if (k < 0.4) {
    return {
      type: 'subscribe', topics: maybe(r, topics),
      ...(r() < 0.5 ? { rate: maybe(r, () => r() * 80 - 5) } : {}),
      ...(r() < 0.3 ? { channels: maybe(r, () => Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 5000) - 10)) } : {}),
      ...(r() < 0.2 ? { stream: maybe(r, () => 'x'.repeat(Math.floor(r() * 300))) } : {}),
    };
  }
  if (k < 0.6) return { type: 'unsubscribe', topics: maybe(r, topics) };
  return { type: 'control', action: maybe(r, () => pick(r, ACTIONS)), ...(r() < 0.5 ? { id: maybe(r, () => 'c' + Math.floor(r() * 1e6)) } : {}) };
}

/** A random JSON/msgpack value of every kind, nested up to `depth`. */
function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 0 ? 12 : 9));
  switch (k) {
    case 0: return Math.floor(r() * 2 ** 31) - 2 ** 30;
    case 1: return (r() - 0.5) * 1e300;
    case 2: return [NaN, Infinity, -Infinity, -0][Math.floor(r() * 4)];
    case 3: return BigInt(Math.floor(r() * 2 ** 53)) * 1024n + BigInt(Math.floor(r() * 1024)); // up to 2^63
    case 4: return 'x'.repeat(Math.floor(r() * 600)) + '\u{1F600}\u0000"\\';
    case 5: return r() < 0.5;
    case 6: return null;
    case 7: return Buffer.from(Array.from({ length: Math.floor(r() * 32) }, () => Math.floor(r() * 256)));
    case 8: return ['ping', 'feedback', 'subscribe', 'unsubscribe', 'control', 'hello', 'intent', 'gap', '__proto__', 'constructor', ''][Math.floor(r() * 11)];
    case 9: return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth - 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(r() * 4); i++) o[FIELDS[Math.floor(r() * FIELDS.length)]!] = value(r, depth - 1);
      return o;
    }
  }
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return { type: 'ping', t: 1, deep: v };
}

/** One generated message for a connection of format `f`, never over the size limit. */
function message(r: () => number, f: 'json' | 'msgpack', maxSeq: number): Frame {
  const kind = r();
  let m: unknown;
  if (kind < 0.1) m = { type: 'ping', t: r() * 1e6 };
  else if (kind < 0.2) m = { type: 'feedback', seq: Math.floor(r() * (maxSeq + 20)) - 5, ...(r() < 0.5 ? { reward: r() * 4 - 2 } : { label: r() < 0.5 ? 'left' : value(r, 1) }) };
  else if (kind < 0.3) m = nested(Math.floor(r() * 14)); // around the depth limit (8) and beyond
  else if (kind < 0.45) m = v11(r);
  else if (kind < 0.53) {
    // Raw bytes: invalid msgpack, invalid UTF-8 text, binary frames on the JSON protocol.
    const b = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
    return { data: b, binary: r() < 0.5 };
  } else if (kind < 0.57) {
    const s = '{"type":"ping","t":' + '['.repeat(Math.floor(r() * 2000)); // deep and unterminated text
    return { data: s.slice(0, MAX_MESSAGE_BYTES), binary: false };
  } else m = value(r, 6);
  let data: Buffer | string;
  try {
    data = f === 'json' ? JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)) ?? 'null' : packr.pack(m);
  } catch {
    data = f === 'json' ? '{"type":1}' : packr.pack({ type: 1 });
  }
  if (data.length > MAX_MESSAGE_BYTES) data = f === 'json' ? '{"type":"ping","t":2}' : packr.pack({ type: 'ping', t: 2 });
  // Now and then the other frame type than the protocol expects.
  const binary = f === 'msgpack' ? r() > 0.05 : r() < 0.05;
  return { data: typeof data === 'string' && binary ? Buffer.from(data) : data, binary };
}

function open(port: number, f: 'json' | 'msgpack', token?: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${token ? `?token=${token}` : ''}`, [`neurox.v1.${f}`]);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const decodeReply = (d: Buffer, isBinary: boolean): ServerMessage => (isBinary ? packr.unpack(d) : JSON.parse(d.toString())) as ServerMessage;

/** Send `n` messages in batches; resolve with the replies counted by type. */
async function fuzzConnection(ws: WebSocket, f: 'json' | 'msgpack', r: () => number, n: number, maxSeq: () => number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let replies = 0;
  let wake: (() => void) | undefined;
  ws.on('message', (d: Buffer, isBinary) => {
    const m = decodeReply(d, isBinary);
    // Topic messages (the fuzz subscribes to them now and then) are not replies.
    if (['intent', 'status', 'hello', 'signal', 'features', 'health', 'event', 'gap'].includes(m.type)) return;
    counts[m.type === 'error' ? `error:${m.code}` : m.type] = (counts[`${m.type === 'error' ? `error:${m.code}` : m.type}`] ?? 0) + 1;
    replies++;
    wake?.();
  });
  let closed: number | undefined;
  ws.on('close', (code) => ((closed = code), wake?.()));
  for (let sent = 0; sent < n; ) {
    const b = Math.min(BATCH, n - sent);
    for (let i = 0; i < b; i++) {
      const m = message(r, f, maxSeq());
      ws.send(m.data, { binary: m.binary });
    }
    sent += b;
    const t0 = Date.now();
    while (replies < sent && closed === undefined) {
      if (Date.now() - t0 > 30000) throw new Error(`${f}: ${sent - replies} of ${sent} messages got no reply within 30 s`);
      await new Promise<void>((res) => {
        wake = res;
        setTimeout(res, 1000);
      });
    }
    assert.equal(closed, undefined, `${f} connection closed (${closed}) after ${sent} messages`);
  }
  assert.equal(replies, n, `${f}: every message got one reply`);
  return counts;
}

test('hostile messages: the runtime stays up, every message is answered, intents keep flowing in order', { timeout: 300000 }, async (t) => {
  const rt: Runtime = await startRuntime('fuzz', ['--no-record', '--max-client-rate', '1000000']);
  try {
    const normal = await NeuroxClient.connect(`ws://127.0.0.1:${rt.port}`);
    const intents: IntentMessage[] = [];
    normal.on('intent', (i) => intents.push(i));
    await normal.next((m): m is IntentMessage => m.type === 'intent', 20000);
    const maxSeq = () => intents.at(-1)?.seq ?? 0;

    // The crash cases of the report, over the socket.
    {
      const ws = await open(rt.port, 'msgpack');
      const replies: ServerMessage[] = [];
      ws.on('message', (d: Buffer, b) => replies.push(decodeReply(d, b)));
      ws.send(Buffer.from([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 5]));
      ws.send(packr.pack({ type: 'feedback', seq: 2n ** 63n, reward: 1 }));
      const js = await open(rt.port, 'json');
      const jr: ServerMessage[] = [];
      js.on('message', (d: Buffer) => jr.push(JSON.parse(String(d)) as ServerMessage));
      js.send('{"type":' + '['.repeat(2000) + ']'.repeat(2000) + '}');
      js.send(JSON.stringify({ type: 'x'.repeat(3000) }));
      await new Promise((r) => setTimeout(r, 1000));
      const errs = (l: ServerMessage[]) => l.filter((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error');
      assert.deepEqual(errs(replies).map((e) => e.code), ['bad-field', 'bad-field']);
      assert.deepEqual(errs(jr).map((e) => e.code), ['too-deep', 'unknown-type']);
      assert.ok(errs(jr).every((e) => e.message.length < 200), 'no echo of the value');
      // Oversized: closed with 1009 and a reason, nothing echoed.
      const big = await open(rt.port, 'json');
      const closed = new Promise<[number, string]>((r) => big.once('close', (c, why) => r([c, String(why)])));
      big.send('x'.repeat(1 << 20));
      const [code, why] = await closed;
      assert.equal(code, 1009);
      assert.match(why, /exceeds the 4096-byte limit/);
      ws.close();
      js.close();
      assert.equal(rt.proc.exitCode, null, 'runtime still running');
    }

    // 100,000 generated messages, half per subprotocol, on four connections at once.
    // One connection holds the clinician token the runtime made at start (controls are accepted there).
    const clinician = /clinician:(\S+)/.exec(rt.stdout())?.[1];
    assert.ok(clinician, 'the runtime printed a clinician token');
    const conns = await Promise.all((['msgpack', 'json', 'msgpack', 'json'] as const).map(async (f, k) => ({ f, ws: await open(rt.port, f, k === 3 ? clinician : undefined), r: mulberry32(1000 + k) })));
    const before = intents.length;
    const counts = await Promise.all(conns.map((c) => fuzzConnection(c.ws, c.f, c.r, TOTAL / conns.length, maxSeq)));
    const total: Record<string, number> = {};
    for (const c of counts) for (const [k, v] of Object.entries(c)) total[k] = (total[k] ?? 0) + v;
    t.diagnostic(`replies: ${JSON.stringify(total)}`);
    assert.equal(Object.values(total).reduce((a, b) => a + b, 0), TOTAL);
    for (const k of ['pong', 'ack', 'error:bad-message', 'error:bad-field', 'error:unknown-type', 'error:too-deep', 'error:bad-encoding', 'error:unauthorized', 'error:unavailable']) assert.ok((total[k] ?? 0) > 0, `some ${k}`);
    for (const c of conns) c.ws.close();

    // The normal client saw every intent, in order, while the fuzz ran.
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(intents.length - before > 10, `intents kept flowing (${intents.length - before})`);
    intents.forEach((i, k) => k > 0 && assert.equal(i.seq, intents[k - 1]!.seq + 1, `intent seq ${i.seq} follows ${intents[k - 1]!.seq}`));
    assert.equal(rt.proc.exitCode, null, 'runtime still running');
    // Client problems are summarised, not logged one line per message.
    const lines = rt.stderr().split('\n').filter((l) => l.includes('client problems'));
    const perMessage = rt.stderr().split('\n').filter((l) => l.includes('bad client message'));
    assert.equal(perMessage.length, 0);
    t.diagnostic(`${lines.length} summary lines; log ${rt.stderr().length} bytes`);
    assert.ok(rt.stderr().length < 200_000, `log stays small: ${rt.stderr().length} bytes`);
    normal.close();
  } finally {
    await rt.stop();
  }
});
