/**
 * A counter outlet whose host clock is reset mid-stream: publishes CHANNELS × SRATE
 * (last channel a sample counter, never interrupted) with timestamps from the LSL
 * clock, and after RESET_AT seconds every timestamp is SHIFT seconds earlier, as when
 * the source machine's clock is set back. Answers time-correction queries with its
 * real clock, as liblsl does.
 *
 *   node --import tsx test/helpers/reset-outlet.ts NAME CHANNELS SRATE RESET_AT SHIFT
 */
import { StreamOutlet, localClock } from '../../adapters/lsl/index.ts';

const [name, chArg, srArg, resetArg, shiftArg] = process.argv.slice(2);
const C = Number(chArg);
const srate = Number(srArg);
const resetAt = Number(resetArg);
const shift = Number(shiftArg);
const out = new StreamOutlet({
  name: name!, type: 'EEG', channelCount: C, srate, format: 'float32', sourceId: `${name}-src`,
  channels: Array.from({ length: C }, (_, i) => (i === C - 1 ? { label: 'COUNTER', type: 'MISC' } : { label: `ch${i + 1}`, type: 'EEG', unit: 'uV' })),
});
while (!out.haveConsumers()) await new Promise((r) => setTimeout(r, 20));
const t0 = localClock();
let next = 0;
process.stdout.write(`started ${t0}\n`);
let announced = false;
setInterval(() => {
  const due = Math.floor((localClock() - t0) * srate);
  const n = due - next;
  if (n <= 0) return;
  const data = new Float32Array(n * C);
  const ts = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const idx = next + k;
    data[k * C + C - 1] = idx;
    data[k * C] = Math.sin(idx * 0.05);
    const t = t0 + idx / srate;
    ts[k] = idx / srate >= resetAt ? t - shift : t;
  }
  if (!announced && (next + n) / srate >= resetAt) (announced = true), process.stdout.write(`reset ${localClock()} at ${Math.ceil(resetAt * srate)}\n`);
  out.pushChunk(data, ts);
  next = due;
}, 20);
process.on('SIGTERM', () => (out.close(), process.exit(0)));
