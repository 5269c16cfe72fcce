import { pino, destination, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The one logger factory, on stderr (stdout stays free for machine-readable
 * output such as benchmark JSON). Level from NEUROX_LOG_LEVEL. Format from
 * NEUROX_LOG_FORMAT (`json` or `pretty`; `neurox --log-format` sets it): readable
 * lines when stderr is a terminal, one JSON object per line otherwise. Both write
 * synchronously, so nothing logged is lost when the process exits.
 */
export type LogFormat = 'json' | 'pretty';

export function logFormat(): LogFormat {
  const f = process.env.NEUROX_LOG_FORMAT;
  if (f === 'json' || f === 'pretty') return f;
  return process.stderr.isTTY ? 'pretty' : 'json';
}

const opts = { level: process.env.NEUROX_LOG_LEVEL ?? 'info', base: { pid: process.pid } };
const root: Logger =
  logFormat() === 'pretty'
    ? pino(opts, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, ignore: 'pid,hostname,mod', translateTime: 'HH:MM:ss.l', messageFormat: '{mod}: {msg}', singleLine: true }))
    : pino(opts, destination({ fd: 2, sync: true }));

/** A child logger tagged with the module it belongs to. */
export function logger(module: string): Logger {
  return root.child({ mod: module });
}

export type { Logger };
