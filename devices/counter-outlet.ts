/**
 * A separate outlet process for loss and reconnection tests and the ingest/latency
 * benchmarks: publishes `channels`
 * channels at `srate`, the last one a sample counter, timestamps t0 + index / srate,
 * paced by the LSL clock. The index is derived from the clock, so a restarted
 * process continues the same timeline (its first sample shows the outage exactly).
 *
 *   node --import tsx devices/counter-outlet.ts NAME SOURCE_ID CHANNELS SRATE T0 [SECONDS] [CHUNK_MS]
 *
 * T0 = `wait`: start the timeline (index 0) once an inlet has subscribed, so a slow
 * resolve on a loaded machine is never counted as loss.
 */
import { StreamOutlet, localClock } from '../adapters/lsl/index.ts';

const [name, sourceId, chArg, srArg, t0Arg, secArg, chunkArg] = process.argv.slice(2);
const C = Number(chArg);
const srate = Number(srArg);
let t0 = Number(t0Arg);
const seconds = secArg ? Number(secArg) : Infinity;
const chunkMs = chunkArg ? Number(chunkArg) : 20;
const out = new StreamOutlet({
  name: name!, type: 'EEG', channelCount: C, srate, format: 'float32', sourceId: sourceId!,
  channels: Array.from({ length: C }, (_, i) => (i === C - 1 ? { label: 'COUNTER', type: 'MISC' } : { label: `ch${i + 1}`, type: 'EEG', unit: 'uV' })),
});
if (t0Arg === 'wait') {
  while (!out.haveConsumers()) await new Promise((r) => setTimeout(r, 20));
  t0 = localClock() + 0.2;
}
let next = Math.max(0, Math.ceil((localClock() - t0) * srate));
const end = next + seconds * srate;
process.stdout.write(`started ${next}\n`);
const timer = setInterval(() => {
  const due = Math.min(end, Math.floor((localClock() - t0) * srate));
  const n = due - next;
  if (n <= 0) {
    if (next >= end) (clearInterval(timer), setTimeout(() => (out.close(), process.exit(0)), 2000));
    return;
  }
  const data = new Float32Array(n * C);
  const ts = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const idx = next + k;
    data[k * C + C - 1] = idx % 16777216;
    data[k * C] = Math.sin(idx * 0.05);
    ts[k] = t0 + idx / srate;
  }
  out.pushChunk(data, ts);
  next = due;
}, chunkMs);
process.on('SIGTERM', () => (out.close(), process.exit(0)));
