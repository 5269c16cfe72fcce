/**
 * Generator throughput, single thread: how many times faster than real time each
 * profile is generated (20 ms chunks, after a warm-up). Prints one JSON object.
 * Reports wall-clock and CPU-time factors (CPU time is the robust number on a shared
 * machine; pin with `taskset -c 0` to keep it on one core).
 *
 *   node --import tsx bench/simulator.ts [--seconds 30]
 */
import { counterProfile, getProfile, type DeviceProfile } from '../devices/profiles.ts';
import { SignalGenerator } from '../devices/signal-model.ts';
import { scriptOptions } from '../src/cli/args.ts';

const secs = scriptOptions(process.argv.slice(2), {
  seconds: { type: 'number', default: 30, help: 'seconds of signal per profile' },
}, 'bench/simulator.ts').seconds;
const cases: [string, DeviceProfile][] = [
  ['eeg64-160', getProfile('eeg64-160')],
  ['eeg64-500', getProfile('eeg64-500')],
  ['ecog64', getProfile('ecog64')],
  ['meg', getProfile('meg')],
  ['seeg', getProfile('seeg')],
  ['counter-256x2048', counterProfile(256, 2048)],
  ['audio16k', getProfile('audio16k')],
];

const results: Record<string, unknown>[] = [];
for (const [name, p] of cases) {
  const gen = new SignalGenerator(p, { seed: 1, dropout: true });
  const chunk = Math.round(p.srate * 0.02);
  const out = new Float32Array(chunk * gen.channels.length);
  // warm-up until the JIT has settled: ≥ 5 s of signal and ≥ 0.7 s of wall time
  const w0 = Date.now();
  let warm = 0;
  const c0 = process.cpuUsage();
  while (warm < 50 * 5 || Date.now() - w0 < 700) {
    gen.nextInto(out, chunk);
    warm++;
  }
  const cw = process.cpuUsage(c0);
  const coldFactor = (warm * chunk) / p.srate / ((cw.user + cw.system) / 1e6);
  const reps = 3;
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let r = 0; r < reps; r++) {
    const n = Math.round((secs / reps) * 50);
    const t = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) gen.nextInto(out, chunk);
    const dt = Number(process.hrtime.bigint() - t) / 1e9;
    const cu = process.cpuUsage(c0);
    ratios.push((n * chunk) / p.srate / dt);
    cpuRatios.push((n * chunk) / p.srate / ((cu.user + cu.system) / 1e6));
  }
  ratios.sort((a, b) => a - b);
  cpuRatios.sort((a, b) => a - b);
  results.push({
    profile: name,
    channels: gen.channels.length,
    srate: p.srate,
    realtimeFactorMedian: Math.round(ratios[1] * 10) / 10,
    realtimeFactorMin: Math.round(ratios[0] * 10) / 10,
    realtimeFactorCpuMedian: Math.round(cpuRatios[1] * 10) / 10,
    realtimeFactorColdStartCpu: Math.round(coldFactor * 10) / 10,
    msPerSecondOfSignal: Math.round((1000 / ratios[1]) * 100) / 100,
    valuesPerSecond: Math.round(ratios[1] * p.srate * gen.channels.length),
  });
}
process.stdout.write(JSON.stringify({ bench: 'devices.generator-throughput', node: process.version, secondsPerProfile: secs, results }, null, 1) + '\n');
