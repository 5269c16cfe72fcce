/** Strict option parsing shared by every subcommand: unknown options are errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(cmd: string, argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError(`neurox ${cmd}: ${(e as Error).message.replace(/\. To specify.*$/s, '')} (see: neurox ${cmd} --help)`);
  }
}

/** Parse a number option, naming it in the error. */
export function num(name: string, v: string | undefined, def: number, check: (x: number) => boolean = Number.isFinite): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (!check(x)) throw new UsageError(`--${name}: invalid value "${v}"`);
  return x;
}
