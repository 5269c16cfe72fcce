/** Small pieces the reliability suite's cases share. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BaselineDecoder } from '../../src/decode/baseline.ts';
import type { XdfStream } from '../../adapters/xdf/index.ts';
import { CounterCheck } from './counter-process.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait until `count()` reaches `n`; fails with `what` after `ms`. */
export async function untilCount(count: () => number, n: number, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (count() < n) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: ${count()} of ${n} within ${ms} ms`);
    await sleep(50);
  }
}

/**
 * A baseline decoder calibrated on synthetic features for a counter outlet's
 * channels (`ch1`…, the last channel being the counter), so a session decodes at once.
 */
export function calibratedDecoder(channels: number, srate: number): BaselineDecoder {
  const labels = Array.from({ length: channels - 1 }, (_, i) => `ch${i + 1}`);
  const decoder = new BaselineDecoder();
  const X = Array.from({ length: 60 }, (_, i) => Float64Array.from({ length: labels.length * 2 }, (_, k) => Math.sin(i * 7 + k)));
  decoder.calibrate(X, X.map((_, i) => (i % 2 ? 'left' : 'right')), labels, srate);
  return decoder;
}

/** The counter channel of a recorded counter stream, checked from its first sample. */
export function recordedCounter(s: XdfStream): CounterCheck {
  const check = new CounterCheck();
  check.add(Float32Array.from(s.data as ArrayLike<number>), s.nChannels);
  return check;
}

/** The 95th/99th percentile (nearest rank) of `xs`. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/**
 * devices/counter-outlet.ts in its own process, like `counterOutlet`, but with its
 * stdout read: `started` resolves to the counter value of the first sample it pushes.
 */
export function counterOutletReporting(opts: { name: string; sourceId: string; channels: number; srate: number; t0: number }): { proc: ChildProcess; started: Promise<number> } {
  const script = fileURLToPath(new URL('../../devices/counter-outlet.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, opts.name, opts.sourceId, String(opts.channels), String(opts.srate), String(opts.t0)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const started = new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /started (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', () => reject(new Error(`counter outlet exited before starting: ${out}`)));
  });
  started.catch(() => undefined);
  return { proc, started };
}
