/**
 * Tokenize-stage benchmark: per-frame cost of the DIVER-S featurizer
 * (src/tokenize) against the frozen pre-rewrite implementation
 * (bench/reference/featurizer-v1.ts) in the same run, at 64 ch × 1 kHz and
 * 256 ch × 2048 Hz, 80 ms frames of simulated noise + sines.
 *
 *   node --import tsx bench/tokenize.ts [--frames 600] [--warmup 200] [--configs 64x1000,256x2048]
 *
 * Prints one JSON object: per config, median / p99 / mean ms per frame for
 * both implementations, as wall time and as the process's CPU time (less
 * sensitive to other jobs preempting the benchmark on a shared machine), the
 * ratios reference / current, and the largest feature difference. The two run
 * in alternating blocks of frames, so machine load hits both alike while each
 * block sees its own working set in cache.
 */
import { FrameFeaturizer, FEAT_DIM } from '../src/tokenize/index.ts';
import { FrameFeaturizer as Reference } from './reference/featurizer-v1.ts';
import { mulberry32 } from '../src/dsp/index.ts';
import { scriptOptions } from '../src/cli/args.ts';
import type { ChannelInfo } from '../src/types.ts';
import { cpus } from 'node:os';

const opts = scriptOptions(process.argv.slice(2), {
  frames: { type: 'number', default: 600, help: 'timed frames per config' },
  warmup: { type: 'number', default: 200, help: 'untimed frames first (JIT, rings filled)' },
  configs: { type: 'string', default: '64x1000,256x2048', help: 'channels x srate, comma separated' },
}, 'bench/tokenize.ts');

function stats(v: number[]): { median: number; p99: number; mean: number } {
  const s = [...v].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1e4) / 1e4;
  return { median: r(s[s.length >> 1]!), p99: r(s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}

function run(C: number, srate: number) {
  const channels: ChannelInfo[] = Array.from({ length: C }, (_, i) => ({ label: `S${Math.floor(i / 16)}${(i % 16) + 1}`, type: 'SEEG', shaft: `S${Math.floor(i / 16)}`, contact: (i % 16) + 1 }));
  const hop = Math.round(0.08 * srate);
  const rnd = mulberry32(C * 31 + srate);
  // a few distinct frames so the branch predictor sees real data, reused round robin
  const frames = Array.from({ length: 8 }, (_, f) => {
    const a = new Float32Array(hop * C);
    for (let i = 0; i < hop; i++) for (let c = 0; c < C; c++) a[i * C + c] = 20 * (rnd() - 0.5) + 10 * Math.sin((2 * Math.PI * (8 + (c % 40)) * (f * hop + i)) / srate);
    return a;
  });
  const cur = new FrameFeaturizer(channels, srate);
  const ref = new Reference(channels, srate);
  const outA = new Float32Array(C * FEAT_DIM);
  const outB = new Float32Array(C * FEAT_DIM);
  const wall = { cur: [] as number[], ref: [] as number[] };
  const cpu = { cur: [] as number[], ref: [] as number[] };
  let worst = 0;
  const BLOCK = 10;
  const total = opts.warmup + opts.frames;
  for (let b = 0; b < total; b += BLOCK) {
    for (const which of ['cur', 'ref'] as const) {
      const fz = which === 'cur' ? cur : ref;
      const out = which === 'cur' ? outA : outB;
      for (let i = b; i < Math.min(total, b + BLOCK); i++) {
        const fr = frames[i % frames.length]!;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        fz.push(fr, out);
        const t1 = performance.now();
        const c1 = process.cpuUsage(c0);
        if (i < opts.warmup) continue;
        wall[which].push(t1 - t0);
        cpu[which].push((c1.user + c1.system) / 1000);
      }
    }
    // both have seen the same frames: compare the last one
    for (let j = 0; j < outA.length; j++) worst = Math.max(worst, Math.abs(outA[j]! - outB[j]!));
  }
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const side = (t: { cur: number[]; ref: number[] }) => {
    const current = stats(t.cur);
    const reference = stats(t.ref);
    return { current, reference, speedup: { median: ratio(reference.median, current.median), p99: ratio(reference.p99, current.p99), mean: ratio(reference.mean, current.mean) } };
  };
  return { channels: C, srate, samplesPerFrame: hop, frames: opts.frames, wallMs: side(wall), cpuMs: side(cpu), maxAbsDiff: worst };
}

const results = opts.configs.split(',').map((s) => {
  const [c, r] = s.split('x').map(Number);
  if (!(c! > 0 && r! > 0)) throw new Error(`bad config '${s}' (want CxSRATE)`);
  return run(c!, r!);
});
process.stdout.write(`${JSON.stringify({ bench: 'tokenize', machine: { cpus: cpus().length, node: process.version }, results }, null, 1)}\n`);
