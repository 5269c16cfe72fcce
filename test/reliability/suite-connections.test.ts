/**
 * 1000 WebSocket connections (NEUROX_WS_CHURN) opened and closed over 10 s
 * (NEUROX_WS_CHURN_SECONDS) against a running `neurox run`, from another process.
 * Every one gets its hello, the runtime stays up, its client count returns to the one
 * normal client (health log), and that client's intent latency p99 during the churn
 * stays within max(2×, +5 ms) of its p99 before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { localClock } from '../../adapters/lsl/index.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import { startRuntime, waitFor } from '../helpers/runtime.ts';
import { quantile, sleep } from '../helpers/suite.ts';

const COUNT = Number(process.env.NEUROX_WS_CHURN ?? 1000);
const SECONDS = Number(process.env.NEUROX_WS_CHURN_SECONDS ?? 10);
const BASELINE_S = 10;
const churnScript = fileURLToPath(new URL('../helpers/ws-churn.ts', import.meta.url));

test(`${COUNT} connections opened and closed in ${SECONDS} s: all served, normal latency kept`, { timeout: (SECONDS + BASELINE_S + 120) * 1000 }, async (t) => {
  const rt = await startRuntime('suite-churn', ['--no-record', '--health-every', '1']);
  try {
    const normal = await NeuroxClient.connect(`ws://127.0.0.1:${rt.port}`);
    const lat: { t: number; ms: number }[] = [];
    // Latency as the app sees it: the pipeline's own part plus the way to the app.
    normal.on('intent', (i) => lat.push({ t: localClock(), ms: (localClock() - i.tEmit) * 1000 + i.latencyMs }));
    await sleep(BASELINE_S * 1000);
    const from = localClock();
    const churn = spawn(process.execPath, ['--import', 'tsx', churnScript, String(rt.port), String(COUNT), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    churn.stdout!.on('data', (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((r) => churn.on('exit', r));
    const to = localClock();
    assert.equal(code, 0, 'the churn ran');
    const r = JSON.parse(out) as { opened: number; hellos: number; failed: number; ms: number };
    const base = lat.filter((x) => x.t < from && x.t > from - BASELINE_S + 3).map((x) => x.ms);
    const during = lat.filter((x) => x.t >= from && x.t <= to).map((x) => x.ms);
    const result = {
      churn: r,
      baseline: { n: base.length, p50: +quantile(base, 0.5).toFixed(2), p99: +quantile(base, 0.99).toFixed(2) },
      during: { n: during.length, p50: +quantile(during, 0.5).toFixed(2), p99: +quantile(during, 0.99).toFixed(2) },
    };
    t.diagnostic(JSON.stringify(result));
    assert.equal(rt.proc.exitCode, null, 'runtime still running');
    assert.equal(r.hellos, COUNT, 'every connection got its hello');
    assert.equal(r.failed, 0, 'none failed');
    assert.ok(during.length >= SECONDS * 8, `the normal client kept receiving intents: ${during.length}`);
    assert.ok(result.during.p99 <= Math.max(2 * result.baseline.p99, result.baseline.p99 + 5), `normal p99 ${result.during.p99} ms vs ${result.baseline.p99} ms before`);
    // The server forgot every closed connection: the health line counts one client again.
    const mark = rt.stderr().length;
    await waitFor(() => rt.stderr().slice(mark), /"msg":"health"[^\n]*/, 5000, 'a health line');
    const line = /\{[^\n]*"msg":"health"[^\n]*\}/.exec(rt.stderr().slice(mark))![0];
    const health = JSON.parse(line) as { clients: number; connections: number };
    assert.equal(health.clients, 1, `clients after the churn: ${line}`);
    assert.ok(health.connections >= COUNT + 1, `connections counted: ${health.connections}`);
    normal.close();
  } finally {
    await rt.stop();
  }
});
