/**
 * A client that reads nothing and sends 1 MB messages at 5/s (reconnecting each
 * time the server closes it), beside one that reads nothing and pings just under
 * the rate limit, for 60 s (NEUROX_SLOW_CLIENT_SECONDS) against a running
 * `neurox run`. The runtime's RSS and log stay within their bounds, and a normal
 * client's intent latency p99 is unchanged within noise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { localClock } from '../../adapters/lsl/index.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import { startRuntime } from '../helpers/runtime.ts';
import { deafClient } from '../helpers/deaf-client.ts';

const SECONDS = Number(process.env.NEUROX_SLOW_CLIENT_SECONDS ?? 60);
const BASELINE_S = 15;
/** Bounds stated in docs/benchmarks.md. */
const RSS_GROWTH_MB = 64;
const LOG_GROWTH_BYTES = 64 * 1024;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** A masked client frame (binary) carrying `payload`. */
function frame(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x82, 0x80 | n]) : n < 65536 ? Buffer.from([0x82, 0x80 | 126, n >> 8, n & 255]) : Buffer.concat([Buffer.from([0x82, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
  const body = Buffer.from(payload);
  for (let i = 0; i < n; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, mask, body]);
}

test(`slow, hostile clients for ${SECONDS} s: bounded RSS and log, normal latency unchanged`, { timeout: (SECONDS + BASELINE_S + 90) * 1000 }, async (t) => {
  const rt = await startRuntime('slow', ['--no-record']);
  const pid = rt.proc.pid!;
  try {
    const normal = await NeuroxClient.connect(`ws://127.0.0.1:${rt.port}`);
    const lat: { t: number; ms: number }[] = [];
    normal.on('intent', (i) => lat.push({ t: localClock(), ms: (localClock() - i.tEmit) * 1000 + i.latencyMs }));
    await new Promise((r) => setTimeout(r, BASELINE_S * 1000));
    const tAttack = localClock();
    const rss0 = rssMb(pid);
    const log0 = rt.stderr().length;
    let rssMax = rss0;
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssMb(pid))), 1000);
    // Attacker 1: a 1 MB message 5 times a second, each on a fresh connection (the server closes it after the first).
    const mb = frame(randomBytes(1 << 20));
    let sent = 0;
    let reconnects = 0;
    const open: Socket[] = [];
    const bigTimer = setInterval(() => {
      while (open.length > 2) open.shift()!.destroy();
      reconnects++;
      const c = deafClient(rt.port, 'neurox.v1.msgpack');
      open.push(c.socket);
      c.opened.then((s) => {
        s.write(mb);
        sent++;
      }, () => undefined);
    }, 200);
    // Attacker 2: valid pings at 90/s, never reading the pongs.
    const ping = frame(Buffer.from([0x82, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa4, 0x70, 0x69, 0x6e, 0x67, 0xa1, 0x74, 0x01]));
    let pinger: Socket | undefined;
    void deafClient(rt.port, 'neurox.v1.msgpack').opened.then((s) => (pinger = s), () => undefined);
    const pingTimer = setInterval(() => {
      for (let i = 0; i < 9; i++) if (pinger && !pinger.destroyed) pinger.write(ping);
    }, 100);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    clearInterval(bigTimer);
    clearInterval(pingTimer);
    clearInterval(rssTimer);
    for (const s of open) s.destroy();
    pinger?.destroy();
    const base = lat.filter((x) => x.t < tAttack && x.t > tAttack - BASELINE_S + 3).map((x) => x.ms);
    const attack = lat.filter((x) => x.t >= tAttack).map((x) => x.ms);
    const logGrowth = rt.stderr().length - log0;
    const result = {
      seconds: SECONDS, bigMessagesSent: sent, reconnects,
      rssStartMb: +rss0.toFixed(1), rssMaxMb: +rssMax.toFixed(1), logGrowthBytes: logGrowth,
      baseline: { n: base.length, p50: +p(base, 0.5).toFixed(2), p99: +p(base, 0.99).toFixed(2) },
      underAttack: { n: attack.length, p50: +p(attack, 0.5).toFixed(2), p99: +p(attack, 0.99).toFixed(2) },
    };
    t.diagnostic(JSON.stringify(result));
    assert.equal(rt.proc.exitCode, null, 'runtime still running');
    assert.ok(sent > SECONDS * 2, `the attack ran: ${sent} MB sent`);
    assert.ok(rssMax - rss0 < RSS_GROWTH_MB, `RSS grew ${(rssMax - rss0).toFixed(1)} MB`);
    assert.ok(logGrowth < LOG_GROWTH_BYTES, `log grew ${logGrowth} bytes`);
    assert.ok(attack.length > SECONDS * 10, 'the normal client kept receiving intents');
    assert.ok(result.underAttack.p99 <= Math.max(2 * result.baseline.p99, result.baseline.p99 + 5), `normal p99 ${result.underAttack.p99} ms vs ${result.baseline.p99} ms before`);
    normal.close();
  } finally {
    await rt.stop();
  }
});
