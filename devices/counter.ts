/** Starts devices/counter-outlet.ts in its own process, and checks what it sent (tests and benchmarks share it). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./counter-outlet.ts', import.meta.url));

/**
 * Publish `channels` × `srate` with a COUNTER last channel. `t0` anchors the timeline
 * (a restarted process continues it); `'wait'` starts it once an inlet subscribes.
 */
export function counterOutlet(opts: { name: string; sourceId: string; channels: number; srate: number; t0: number | 'wait'; seconds?: number }): ChildProcess {
  const args = [opts.name, opts.sourceId, String(opts.channels), String(opts.srate), String(opts.t0), ...(opts.seconds !== undefined ? [String(opts.seconds)] : [])];
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'ignore' });
}

/**
 * Checks the COUNTER channel (last channel) of the chunks a counter outlet sends:
 * counts received, missing and duplicated samples. With `from` set, samples before
 * the first one received count as missing too.
 */
export class CounterCheck {
  received = 0;
  missing = 0;
  duplicated = 0;
  /** The counter value expected next (undefined until the first sample when `from` is not given). */
  expected: number | undefined;

  constructor(from?: number) {
    this.expected = from;
  }

  add(data: Float32Array, channels: number): void {
    const n = data.length / channels;
    for (let i = 0; i < n; i++) {
      const v = data[i * channels + channels - 1]!;
      if (this.expected !== undefined && v < this.expected) this.duplicated++;
      else if (this.expected !== undefined && v > this.expected) this.missing += v - this.expected;
      this.expected = v + 1;
    }
    this.received += n;
  }
}
