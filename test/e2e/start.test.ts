/**
 * End to end, as a user runs it: `neurox start` (simulator process + runtime) →
 * intents on the WebSocket within 10 s of start, in msgpack and JSON; feedback is
 * acknowledged; a malformed message gets an error reply; SIGINT shuts down cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { IntentMessage, ServerMessage } from '../../adapters/ws/protocol.ts';

const bin = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));

test('neurox start: intents reach WebSocket clients within 10 s, Ctrl-C stops cleanly', { timeout: 60000 }, async (t) => {
  const started = Date.now();
  const proc = spawn(process.execPath, [bin, 'start', '--port', '0', '--seed', '3'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d));
  proc.stderr!.resume();
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed; stdout: ${out}`)), 20000);
      proc.stdout!.on('data', () => {
        const m = /ws:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) (clearTimeout(timer), resolve(Number(m[1])));
      });
    });
    const mp = await NeuroxClient.connect(`ws://127.0.0.1:${port}`);
    assert.equal(mp.hello!.protocol, 1);
    assert.equal(mp.hello!.format, 'msgpack');
    assert.deepEqual(mp.hello!.model.labels, ['left', 'right']);
    const first = await mp.next((m): m is IntentMessage => m.type === 'intent', 15000);
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`first intent ${seconds.toFixed(1)} s after start: ${first.label} (${first.confidence.toFixed(2)}), latency ${first.latencyMs.toFixed(2)} ms`);
    assert.ok(seconds < 10, `first intent after ${seconds} s`);
    for (const k of ['seq', 'label', 'probs', 'confidence', 'tFrame', 'tEmit', 'latencyMs'] as const) assert.ok(k in first, `intent has ${k}`);
    assert.ok(Math.abs(first.probs.left! + first.probs.right! - 1) < 1e-9);

    const js = await NeuroxClient.connect(`ws://127.0.0.1:${port}`, { format: 'json' });
    const a = await js.next((m): m is IntentMessage => m.type === 'intent', 5000);
    const b = await js.next((m): m is IntentMessage => m.type === 'intent', 5000);
    assert.equal(b.seq, a.seq + 1, 'sequence numbers are consecutive');

    js.feedback(a.seq, { reward: 1 });
    const ack = await js.next((m): m is Extract<ServerMessage, { type: 'ack' }> => m.type === 'ack', 5000);
    assert.equal(ack.seq, a.seq);
    js.send({ type: 'feedback', seq: a.seq, reward: 7 } as never);
    const err = await js.next((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error', 5000);
    assert.match(err.message, /reward must be a number in \[-1, 1\]/);

    // A raw client sending garbage gets an error and stays connected.
    const raw = new WebSocket(`ws://127.0.0.1:${port}`, ['neurox.v1.json']);
    const msgs: ServerMessage[] = [];
    raw.on('message', (d) => msgs.push(JSON.parse(String(d)) as ServerMessage));
    await new Promise((r) => raw.once('open', r));
    raw.send('{not json');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(msgs.some((m) => m.type === 'error' && m.code === 'bad-message'));
    assert.equal(raw.readyState, WebSocket.OPEN);
    raw.close();
    mp.close();
    js.close();
  } finally {
    proc.kill('SIGINT');
  }
  const code = await exited;
  assert.equal(code, 0, `exit code after SIGINT; stdout: ${out.slice(-400)}`);
  assert.match(out, /neurox: stopped \(SIGINT\)/);
});
