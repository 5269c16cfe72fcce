/**
 * Per-client limits and connection rules of the WebSocket server, over real
 * sockets: a client that stops reading is cut off before it can grow the
 * server's memory, a flooding client is closed, browsers from foreign origins
 * are refused, and beyond loopback a token is required.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { IntentServer } from '../../adapters/ws/server.ts';
import { deafClient } from '../helpers/deaf-client.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';

const hello = () => ({ server: 'test', model: { name: 'm', labels: ['a'], backend: 'js' }, streams: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a client that stops reading is disconnected; the server does not buffer for it without bound', { timeout: 60000 }, async () => {
  const srv = new IntentServer({ port: 0, hello, limits: { softBufferBytes: 64 * 1024, hardBufferBytes: 1024 * 1024, slowSeconds: 2 } });
  const port = await srv.listen();
  try {
    const normal = await NeuroxClient.connect(`ws://127.0.0.1:${port}`, { format: 'json' });
    let got = 0;
    normal.on('message', (m) => m.type === 'status' && got++);
    const deaf = await deafClient(port).opened;
    const deafClosed = new Promise<void>((r) => deaf.once('close', () => r()));
    const detail = 'x'.repeat(8 * 1024);
    let sent = 0;
    const rss0 = process.memoryUsage().rss;
    // 64 MB of status messages, 2 MB at a time so the normal client keeps up.
    for (let k = 0; k < 32 && srv.stats().closedForSlow === 0; k++) {
      for (let i = 0; i < 256; i++, sent++) srv.sendStatus({ state: 'running', detail });
      await sleep(50);
    }
    assert.equal(srv.stats().closedForSlow, 1, 'the deaf client was disconnected');
    deaf.resume(); // let the close reach it
    await Promise.race([deafClosed, sleep(5000)]);
    for (let i = 0; i < 50 && srv.clientCount > 1; i++) await sleep(100);
    assert.equal(srv.clientCount, 1, 'only the normal client is left');
    const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
    assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MB`);
    while (got < sent) await sleep(50);
    assert.equal(got, sent, 'the reading client received every message');
    normal.close();
  } finally {
    await srv.close();
  }
});

test('a flooding client is rate-limited, told so, then closed with 1008 and a reason', { timeout: 30000 }, async () => {
  const srv = new IntentServer({ port: 0, hello, limits: { messagesPerSecond: 50, burst: 50, floodSeconds: 1 } });
  const port = await srv.listen();
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, ['neurox.v1.json']);
    await new Promise((r) => ws.once('open', r));
    const codes: string[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; code?: string };
      if (m.type === 'error') codes.push(m.code!);
    });
    const closed = new Promise<[number, string]>((r) => ws.once('close', (c, why) => r([c, String(why)])));
    const flood = setInterval(() => {
      for (let i = 0; i < 50; i++) if (ws.readyState === ws.OPEN) ws.send('{"type":"ping","t":1}');
    }, 10);
    const [code, why] = await closed;
    clearInterval(flood);
    assert.equal(code, 1008);
    assert.match(why, /message rate over 50\/s/);
    assert.ok(codes.includes('rate-limited'));
    assert.ok(codes.filter((c) => c === 'rate-limited').length <= 3, 'one rate-limited error per second, not one per message');
    assert.equal(srv.stats().closedForRate, 1);
  } finally {
    await srv.close();
  }
});

function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['neurox.v1.json'], { headers });
    ws.once('open', () => (ws.close(), resolve(101)));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => undefined);
  });
}

test('origins: foreign browser pages are refused, loopback pages, allowed origins and non-browser clients are accepted', { timeout: 30000 }, async () => {
  const srv = new IntentServer({ port: 0, hello, allowedOrigins: ['https://app.example.org'] });
  const port = await srv.listen();
  const url = `ws://127.0.0.1:${port}`;
  try {
    assert.equal(await upgrade(url, {}), 101, 'no Origin: a program on this machine');
    assert.equal(await upgrade(url, { Origin: 'https://evil.example.com' }), 403);
    assert.equal(await upgrade(url, { Origin: 'null' }), 403);
    // DNS rebinding: a foreign name that resolves to 127.0.0.1 sends a matching Host; still refused.
    assert.equal(await upgrade(url, { Origin: `http://rebind.example.com:${port}`, Host: `rebind.example.com:${port}` }), 403);
    assert.equal(await upgrade(url, { Origin: `http://127.0.0.1:${port}` }), 101, "the runtime's own page");
    assert.equal(await upgrade(url, { Origin: 'http://localhost:5173' }), 101, 'a loopback page');
    assert.equal(await upgrade(url, { Origin: 'https://app.example.org' }), 101, 'an allowed origin');
    assert.ok(srv.stats().refused >= 3);
  } finally {
    await srv.close();
  }
});

test('beyond loopback a token is required; without tokens the server refuses to listen', { timeout: 30000 }, async () => {
  await assert.rejects(new IntentServer({ port: 0, host: '0.0.0.0', hello }).listen(), /beyond loopback\) needs at least one client token/);
  const token = randomBytes(18).toString('base64url');
  const srv = new IntentServer({ port: 0, host: '0.0.0.0', hello, tokens: [token] });
  const port = await srv.listen();
  try {
    assert.equal(await upgrade(`ws://127.0.0.1:${port}`, {}), 401);
    assert.equal(await upgrade(`ws://127.0.0.1:${port}?token=wrong-${token}`, {}), 401);
    assert.equal(await upgrade(`ws://127.0.0.1:${port}?token=${token}`, {}), 101);
    assert.equal(await upgrade(`ws://127.0.0.1:${port}`, { Authorization: `Bearer ${token}` }), 101);
  } finally {
    await srv.close();
  }
});

test('a port in use is reported clearly', async () => {
  const a = new IntentServer({ port: 0, hello });
  const port = await a.listen();
  try {
    await assert.rejects(new IntentServer({ port, hello }).listen(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
  } finally {
    await a.close();
  }
});
