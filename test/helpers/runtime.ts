/**
 * A runtime as users run it, for tests that attack or kill it: `neurox simulate`
 * in one process and `neurox run` (calibrated from the simulator) in another,
 * both real processes talking real LSL; the WebSocket port is read from stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Runtime {
  proc: ChildProcess;
  sim: ChildProcess;
  port: number;
  /** Everything the runtime wrote to stderr (its log) so far. */
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

/** Wait until `read()` matches `re` (polling the accumulated text); returns the match. */
export function waitFor(read: () => string, re: RegExp, ms: number, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const m = re.exec(read());
      if (m) {
        clearInterval(poll);
        resolve(m);
      } else if (Date.now() - t0 > ms) {
        clearInterval(poll);
        reject(new Error(`${what}: not seen within ${ms} ms`));
      }
    }, 50);
  });
}

/** Start simulator + `neurox run --calibrate-sim`; extra `run` arguments in `args`. */
export async function startRuntime(tag: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Runtime> {
  const sourceId = `${tag}-${process.pid}-${Date.now()}`;
  const sim = spawn(process.execPath, [BIN, 'simulate', '--device', 'eeg64-160', '--paradigm', 'mi', '--seed', '2', '--source-id', sourceId, '--exit-with-parent'], {
    stdio: ['pipe', 'ignore', 'ignore'], cwd: ROOT,
  });
  const proc = spawn(process.execPath, [BIN, 'run', '--calibrate-sim', 'eeg64-160', '--seed', '2', '--source-id', sourceId, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, env: { ...process.env, NEUROX_LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d));
  proc.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (c, sig) => r(c ?? (sig ? 128 : null))));
  const m = await waitFor(() => out, /ws:\/\/[^:]+:(\d+)/, 30000, `runtime URL (stderr: ${err.slice(-500)})`);
  return {
    proc, sim, port: Number(m[1]),
    stderr: () => err,
    stdout: () => out,
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      sim.kill('SIGTERM');
    },
  };
}
