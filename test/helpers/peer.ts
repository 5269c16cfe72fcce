/** Builds and runs the independent C liblsl peer (test/interop/lsl_peer.c) in its own process. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liblsl } from '../../adapters/lsl/liblsl.ts';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', 'interop', 'lsl_peer.c');

/** Path of the compiled peer (built with the system C compiler against the liblsl neurox loads). */
export function peerBinary(): string {
  const lib = liblsl().path;
  const hash = createHash('sha256').update(readFileSync(src)).update(lib).digest('hex').slice(0, 12);
  const bin = join(tmpdir(), `neurox-lsl-peer-${hash}`);
  if (!existsSync(bin)) {
    execFileSync('cc', ['-O2', '-o', bin, src, lib, `-Wl,-rpath,${dirname(lib)}`], { stdio: 'pipe' });
  }
  return bin;
}

/** Start the peer; resolves with the process and a promise of its full stdout. */
export function runPeer(args: string[]): { proc: ChildProcess; stdout: Promise<string>; exited: Promise<number> } {
  const proc = spawn(peerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number>((r) => proc.on('exit', (code) => r(code ?? -1)));
  const stdout = exited.then((code) => {
    if (code !== 0) throw new Error(`lsl_peer ${args.join(' ')} exited ${code}: ${err.trim().slice(-500)}`);
    return out;
  });
  stdout.catch(() => undefined); // killed on purpose by tests that only need it running
  return { proc, stdout, exited };
}

/** Resolve when the peer has printed a line equal to `line`. */
export function waitForLine(proc: ChildProcess, line: string, timeoutMs = 30000): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`peer did not print "${line}" within ${timeoutMs} ms`)), timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.split('\n').includes(line)) (clearTimeout(t), resolve());
    });
  });
}
