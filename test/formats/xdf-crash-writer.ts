/**
 * Child process for the XDF crash-safety test: records a 500 Hz, 8-channel
 * float32 stream (value = sample index) and a marker stream in real time until
 * it is killed. Timestamps are wall-clock seconds (Date.now() / 1000) so the
 * parent can compare them with the moment it sent SIGKILL.
 * Usage: node --import tsx test/formats/xdf-crash-writer.ts OUT.xdf
 */
import { XdfWriter } from '../../adapters/xdf/index.ts';

const path = process.argv[2]!;
const SRATE = 500;
const NCH = 8;
const w = await XdfWriter.open(path, { boundaryIntervalMs: 500 });
const eeg = w.addStream({ info: { name: 'crash-eeg', type: 'EEG', channel_count: NCH, nominal_srate: SRATE, channel_format: 'float32', source_id: 'crash' } });
const mk = w.addStream({ info: { name: 'crash-markers', type: 'Markers', channel_count: 1, nominal_srate: 0, channel_format: 'string', source_id: 'crash' } });
const t0 = Date.now() / 1000;
let k = 0;
let last = t0 - 1 / SRATE;
const tick = (): void => {
  const now = Date.now() / 1000;
  const n = Math.floor((now - t0) * SRATE) + 1 - k;
  if (n <= 0) return;
  const data = new Float32Array(n * NCH);
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    last = k === 0 && i === 0 ? t0 : last + 1 / SRATE;
    ts[i] = last;
    data.fill(k + i, i * NCH, (i + 1) * NCH);
  }
  w.appendSamples(eeg, data, ts, NCH);
  if (k % 100 < n) w.appendSamples(mk, [`sample ${k}`], new Float64Array([ts[0]!]), 1);
  if (k % 250 < n) w.appendClockOffset(eeg, now, 0);
  k += n;
};
setInterval(tick, 10);
process.stdout.write(`ready ${t0}\n`);
