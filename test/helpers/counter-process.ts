/** Starts test/helpers/counter-outlet.ts in its own process (tests and benches share it). */
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
