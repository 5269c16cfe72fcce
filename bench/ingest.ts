/**
 * bench/ingest: the highest channels × rate our inlet + clock sustains with zero loss
 * on this machine, and the event-loop lag meanwhile.
 *
 * For each configuration a separate process publishes a counter stream (real liblsl
 * outlet); this process reads it through lslSource (worker-thread inlet) and the
 * clock stage, checking the counter for missing/duplicated samples. Baseline: the
 * event-loop lag of this same process while idle, measured in the same run.
 *
 *   node --import tsx bench/ingest.ts [--seconds 8] [--configs 64x1000,256x2048,...]
 * Prints one JSON object on stdout.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { scriptOptions } from '../src/cli/args.ts';
import { cpus } from 'node:os';
import { lslSource, localClock, closeAllInlets } from '../adapters/lsl/index.ts';
import { ClockCorrector } from '../src/clock/index.ts';
import { CounterCheck, counterOutlet } from '../devices/counter.ts';

const values = scriptOptions(process.argv.slice(2), {
  seconds: { type: 'number', default: 8, help: 'seconds per configuration' },
  configs: { type: 'string', help: 'comma list of CHANNELSxRATE' },
}, 'bench/ingest.ts');
const SECONDS = values.seconds;
const CONFIGS = (values.configs ?? '64x1000,256x2048,512x2048,1024x2048,2048x2048,1024x4096')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number]);

const ms = (ns: number) => +(ns / 1e6).toFixed(3);

async function idleLag(seconds: number) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  h.disable();
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

async function run(C: number, srate: number) {
  const name = `bench-ingest-${C}x${srate}-${process.pid}`;
  const proc = counterOutlet({ name, sourceId: name, channels: C, srate, t0: 'wait', seconds: SECONDS });
  const clock = new ClockCorrector();
  const h = monitorEventLoopDelay({ resolution: 1 });
  const counter = new CounterCheck();
  let gaps = 0;
  let firstAt = 0;
  let lastAt = 0;
  const lat: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const sub = lslSource({ prop: 'name', value: name }, { resolveTimeout: 20 }).subscribe({
      next: (raw) => {
        for (const c of clock.process(raw)) {
          if (c.kind === 'gap') gaps++;
          if (c.kind !== 'signal') continue;
          if (!firstAt) (firstAt = localClock()), h.enable();
          lastAt = localClock();
          const n = c.timestamps.length;
          counter.add(c.data, C);
          // Sample age when it reaches the pipeline (newest sample of the chunk).
          lat.push((lastAt - c.timestamps[n - 1]!) * 1000);
        }
      },
      error: reject,
    });
    proc.on('exit', () => setTimeout(() => (sub.unsubscribe(), resolve()), 1500));
  });
  h.disable();
  lat.sort((a, b) => a - b);
  const want = SECONDS * srate;
  const { received, missing, duplicated } = counter;
  return {
    channels: C,
    srate,
    valuesPerSecond: C * srate,
    expected: want,
    received,
    missing: missing + Math.max(0, want - received - missing),
    duplicated,
    gaps,
    zeroLoss: received === want && missing === 0 && duplicated === 0 && gaps === 0,
    achievedRate: +(received / Math.max(1e-9, lastAt - firstAt)).toFixed(1),
    eventLoopLagMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) },
    sampleAgeMs: { p50: +lat[lat.length >> 1]!.toFixed(2), p99: +lat[Math.floor(lat.length * 0.99)]!.toFixed(2) },
  };
}

const baseline = await idleLag(3);
const results = [];
for (const [C, srate] of CONFIGS) results.push(await run(C, srate));
const sustained = results.filter((r) => r.zeroLoss).sort((a, b) => b.valuesPerSecond - a.valuesPerSecond)[0];
process.stdout.write(
  JSON.stringify(
    {
      bench: 'ingest',
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      secondsPerConfig: SECONDS,
      baselineIdleEventLoopLagMs: baseline,
      results: results.map((r) => ({ ...r, lagP99VsIdle: +(r.eventLoopLagMs.p99 / Math.max(baseline.p99, 1e-3)).toFixed(2) })),
      highestSustained: sustained ? { channels: sustained.channels, srate: sustained.srate, valuesPerSecond: sustained.valuesPerSecond, eventLoopLagP99Ms: sustained.eventLoopLagMs.p99 } : null,
    },
    null,
    1,
  ) + '\n',
);
await closeAllInlets();
process.exit(0);
