/**
 * A child process that must not outlive its parent (the simulator that
 * `neurox start` spawns) watches for the parent's death two ways: its stdin, a
 * pipe from the parent, reaches end-of-file when the parent is gone however it
 * died (SIGKILL included: the kernel closes the parent's end); and, in case stdin
 * is not that pipe, the parent pid changes when the child is re-parented.
 */
import { logger } from '../log.ts';

const log = logger('parent-watch');

/** Call `onGone` once when the parent process dies. Returns a function that stops watching. */
export function watchParent(onGone: () => void, opts: { stdin?: boolean; pollMs?: number } = {}): () => void {
  const parent = process.ppid;
  let done = false;
  const gone = (how: string) => {
    if (done) return;
    done = true;
    stop();
    log.warn({ parent, how }, 'parent process is gone; exiting');
    onGone();
  };
  const timer = setInterval(() => {
    if (process.ppid !== parent) gone('re-parented');
  }, opts.pollMs ?? 250);
  timer.unref();
  const onEnd = () => gone('stdin closed');
  if (opts.stdin !== false && !process.stdin.isTTY) {
    process.stdin.on('end', onEnd);
    process.stdin.on('close', onEnd);
    process.stdin.on('error', onEnd);
    process.stdin.resume();
  }
  function stop(): void {
    clearInterval(timer);
    process.stdin.off('end', onEnd);
    process.stdin.off('close', onEnd);
    process.stdin.off('error', onEnd);
    if (opts.stdin !== false && !process.stdin.isTTY) process.stdin.pause();
  }
  return () => {
    done = true;
    stop();
  };
}
