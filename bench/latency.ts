/**
 * bench/latency: processing latency neurox adds, from a sample leaving the inlet to
 * its intent arriving at a WebSocket client, with the decoder in the loop.
 *
 * A separate process publishes C channels at `srate` (real liblsl outlet); this
 * process runs the live session (inlet worker → clock → framer → baseline decoder →
 * WebSocket); a third process is the WebSocket client (bench/latency-client.ts). The decoder is fitted on random features
 * with the stream's channel set, so its per-frame work is the real work. Baseline
 * in the same run: the transport floor, i.e. the age of the newest sample of each
 * chunk when it leaves the inlet (liblsl's own delivery latency).
 *
 *   node --import tsx bench/latency.ts [--seconds 20] [--configs 64x1000,256x2048] [--decoder baseline|diver-s]
 * Prints one JSON object on stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { BaselineDecoder } from '../src/decode/baseline.ts';
import { MI_BANDS } from '../src/decode/features.ts';
import { runSession } from '../src/session/run.ts';
import { modelDecoder } from '../src/decode/profile.ts';
import { counterOutlet } from '../devices/counter.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, configs: { type: 'string' }, decoder: { type: 'string' } } });
const DECODER = values.decoder ?? 'baseline';
const SECONDS = Number(values.seconds ?? 20);
const CONFIGS = (values.configs ?? '64x1000,256x2048').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const clientScript = fileURLToPath(new URL('./latency-client.ts', import.meta.url));

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => +(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN).toFixed(3);
  return { n: s.length, p50: q(0.5), p99: q(0.99), max: +(s[s.length - 1] ?? NaN).toFixed(3) };
}

function randomDecoder(C: number, srate: number): BaselineDecoder {
  const labels = Array.from({ length: C - 1 }, (_, i) => `ch${i + 1}`);
  const d = labels.length * MI_BANDS.length;
  let seed = 1;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  const X = Array.from({ length: Math.max(200, d + 50) }, () => Float64Array.from({ length: d }, rnd));
  const y = X.map((_, i) => (i % 2 ? 'left' : 'right'));
  const dec = new BaselineDecoder();
  dec.calibrate(X, y, labels, srate);
  return dec;
}

async function run(C: number, srate: number) {
  const name = `bench-latency-${C}x${srate}-${process.pid}`;
  const decoder = randomDecoder(C, srate);
  const model = DECODER === 'diver-s' ? await modelDecoder('models/diver-s.int8.onnx', 'mi') : undefined;
  const session = await runSession({ signal: { prop: 'name', value: name }, markers: null, port: 0, decoder: model ?? decoder });
  const client = spawn(process.execPath, ['--import', 'tsx', clientScript, `ws://127.0.0.1:${session.port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const clientExited = new Promise((r) => client.on('exit', r));
  let lines = '';
  client.stdout!.on('data', (d: Buffer) => (lines += d));
  while (!lines.startsWith('ready')) await new Promise((r) => setTimeout(r, 50));
  const floor: number[] = [];
  session.onRawChunk((c) => {
    if (c.kind === 'signal' && c.arrivedAt !== undefined) floor.push((c.arrivedAt - c.timestamps[c.timestamps.length - 1]!) * 1000);
  });
  const proc = counterOutlet({ name, sourceId: name, channels: C, srate, t0: 'wait', seconds: SECONDS });
  await new Promise((r) => proc.on('exit', r));
  await session.stop();
  await clientExited;
  const added: number[] = [];
  const toClient: number[] = [];
  for (const l of lines.trim().split('\n').slice(1)) {
    const [, recv, lat, tEmit] = l.split(' ').map(Number);
    added.push(lat!);
    toClient.push((recv! - tEmit!) * 1000 + lat!);
  }
  // Skip the first 2 s (JIT warm-up, initial catch-up).
  const skip = Math.round(2 / 0.08);
  return {
    channels: C,
    srate,
    intents: added.length,
    addedLatencyMs: stats(added.slice(skip)),
    inletToClientMs: stats(toClient.slice(skip)),
    transportFloorMs: stats(floor.slice(Math.round(floor.length * 0.1))),
  };
}

const results = [];
for (const [C, srate] of CONFIGS) results.push(await run(C, srate));
process.stdout.write(
  JSON.stringify(
    {
      bench: 'latency',
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      secondsPerConfig: SECONDS,
      decoder: DECODER === 'diver-s' ? 'DIVER-S int8 ONNX step (MI adapter) in its worker' : 'baseline band power (mu, beta) + shrinkage LDA, every neural channel',
      results: results.map((r) => ({ ...r, p99VsTransportFloor: +(r.inletToClientMs.p99 / Math.max(r.transportFloorMs.p99, 1e-3)).toFixed(2) })),
    },
    null,
    1,
  ) + '\n',
);
process.exit(0);
