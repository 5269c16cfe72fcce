/**
 * What happens when the runtime meets an error nobody caught: it must not die
 * half-way (an open recording without footers, an output left armed, a thread
 * inside liblsl when the process goes). Cleanups registered here run in reverse
 * order of registration (stop the session: inlets first, then the recording),
 * under a deadline, and the process exits with EXIT_FATAL and the reason on stderr.
 */
import { logger } from '../log.ts';

const log = logger('cli.fatal');

/** Exit status after an uncaught error (EX_SOFTWARE). */
export const EXIT_FATAL = 70;
/** Seconds the cleanups get before the process exits anyway. */
const DEADLINE_S = 8;

const cleanups: { name: string; fn: () => Promise<void> | void }[] = [];
let installed = false;
let dying = false;

/** Register a cleanup for a fatal error; returns a function that unregisters it (normal shutdown). */
export function onFatal(name: string, fn: () => Promise<void> | void): () => void {
  const entry = { name, fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** Install the process-wide handlers (once). */
export function installFatalHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (e) => void die('uncaught exception', e));
  process.on('unhandledRejection', (e) => void die('unhandled rejection', e));
}

async function die(kind: string, e: unknown): Promise<void> {
  const reason = e instanceof Error ? e.message : String(e);
  if (dying) {
    log.error({ kind, err: reason }, 'further error while shutting down');
    return;
  }
  dying = true;
  log.fatal({ kind, err: reason, stack: e instanceof Error ? e.stack : undefined }, 'fatal error: closing the session');
  process.stderr.write(`neurox: fatal ${kind}: ${reason}\n`);
  const deadline = setTimeout(() => {
    process.stderr.write(`neurox: cleanup did not finish within ${DEADLINE_S} s; exiting\n`);
    process.exit(EXIT_FATAL);
  }, DEADLINE_S * 1000);
  deadline.unref();
  for (const c of [...cleanups].reverse()) {
    try {
      await c.fn();
    } catch (err) {
      log.error({ cleanup: c.name, err: (err as Error).message }, 'cleanup failed');
    }
  }
  process.exit(EXIT_FATAL);
}

/**
 * Fault injection for the tests of this path: `NEUROX_FAULT=uncaught@S` throws an
 * uncaught error S seconds after the session started. Unset in normal use.
 */
export function injectFaultFromEnv(): void {
  const m = /^uncaught@(\d+(?:\.\d+)?)$/.exec(process.env.NEUROX_FAULT ?? '');
  if (!m) return;
  log.warn({ after: Number(m[1]) }, 'NEUROX_FAULT set: an uncaught error will be thrown');
  setTimeout(() => {
    throw new Error('injected fault (NEUROX_FAULT)');
  }, Number(m[1]) * 1000);
}
