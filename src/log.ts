import { pino, destination, type Logger } from 'pino';

/**
 * The one logger factory. JSON lines on stderr (stdout stays free for
 * machine-readable output such as benchmark JSON). Level from NEUROX_LOG_LEVEL.
 */
const root: Logger = pino(
  { level: process.env.NEUROX_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
  destination({ fd: 2, sync: true }),
);

/** A child logger tagged with the module it belongs to. */
export function logger(module: string): Logger {
  return root.child({ mod: module });
}

export type { Logger };
