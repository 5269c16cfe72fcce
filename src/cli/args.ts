/**
 * The one option parser of every command (`neurox …`, the model commands,
 * `scripts/`, `bench/`): strict (unknown options are errors), built on
 * node:util's parseArgs. Two forms:
 *  - `parse(cmd, argv, options)`: node:util options, string values, for
 *    commands that validate each value themselves (with `num` / `optNum`);
 *  - `parseOptions(argv, spec, cmd)`: a typed spec with defaults and help
 *    lines, values converted (numbers checked), `--help` answered with usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage mistake: the command prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict node:util parsing; errors become a UsageError naming the command. */
export function parse<O extends Options>(cmd: string, argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError(`neurox ${cmd}: ${(e as Error).message.replace(/\. To specify.*$/s, '')} (see: neurox ${cmd} --help)`);
  }
}

/** Parse a number option, naming it in the error; `def` when absent. Blank strings are invalid (Number('') is 0). */
export function num(name: string, v: string | undefined, def: number, check: (x: number) => boolean = Number.isFinite): number {
  return optNum(name, v, check) ?? def;
}

/** Like `num`, but undefined when the option is absent. */
export function optNum(name: string, v: string | undefined, check: (x: number) => boolean = Number.isFinite): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !check(x)) throw new UsageError(`--${name}: invalid value "${v}"`);
  return x;
}

/** How a command is started: `neurox <cmd>`, or `node --import tsx <file>` for a script or benchmark. */
function progName(cmd: string): string {
  return /\.(ts|mjs)$/.test(cmd) ? `node --import tsx ${cmd}` : `neurox ${cmd}`;
}

/** One option of a typed spec: its type, default and one help line. */
export interface OptDef {
  type: 'string' | 'number' | 'boolean';
  default?: string | number | boolean;
  help: string;
}
export type OptSpec = Record<string, OptDef>;

/** The value type of an option: the default's type when there is one. */
type TypeOf<T> = T extends 'number' ? number : T extends 'boolean' ? boolean : string;
type OptValue<D extends OptDef> = TypeOf<D['type']>;
export type OptValues<T extends OptSpec> = { [K in keyof T]: T[K] extends { default: unknown } ? OptValue<T[K]> : OptValue<T[K]> | undefined };

/**
 * Parse `argv` against a typed spec: defaults filled in, numbers converted and
 * checked, booleans as `--flag` or `--flag=true|false`. `--help` / `-h` and
 * every mistake throw a UsageError whose message carries the usage text.
 */
export function parseOptions<T extends OptSpec>(argv: string[], spec: T, cmd: string): OptValues<T> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec)) out[k] = s.default;
  // node:util booleans take no inline value; `--flag=false` is settled here first.
  const rest: string[] = [];
  for (const a of argv) {
    const m = /^--([^=]+)=(true|false)$/.exec(a);
    if (m && spec[m[1]!]?.type === 'boolean') out[m[1]!] = m[2] === 'true';
    else rest.push(a);
  }
  const options: Options = { help: { type: 'boolean', short: 'h' } };
  for (const [k, s] of Object.entries(spec)) options[k] = { type: s.type === 'boolean' ? 'boolean' : 'string' };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(`${progName(cmd)}: ${(e as Error).message.replace(/\. To specify.*$/s, '')}\n${usage(spec, cmd)}`);
  }
  if (values.help && !spec.help) throw new UsageError(usage(spec, cmd));
  for (const [k, s] of Object.entries(spec)) {
    const v = values[k];
    if (v === undefined) continue;
    if (s.type === 'number') {
      const x = Number(v);
      if (String(v).trim() === '' || !Number.isFinite(x)) throw new UsageError(`${progName(cmd)}: option '--${k}' expects a number, got '${v}'\n${usage(spec, cmd)}`);
      out[k] = x;
    } else out[k] = v;
  }
  return out as OptValues<T>;
}

/** Usage text of a typed spec, one line per option with its default. */
export function usage(spec: OptSpec, cmd: string): string {
  const lines = [`usage: ${progName(cmd)} [options]`];
  for (const [k, s] of Object.entries(spec)) {
    lines.push(`  --${k}${s.type === 'boolean' ? '' : ` <${s.type}>`}`.padEnd(28) + `${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}`);
  }
  return lines.join('\n');
}

/**
 * `parseOptions` for a script's top level: a usage mistake prints the message
 * on stderr and exits with status 2 (`--help`: usage on stdout, status 0).
 */
export function scriptOptions<T extends OptSpec>(argv: string[], spec: T, cmd: string): OptValues<T> {
  try {
    return parseOptions(argv, spec, cmd);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const help = argv.includes('--help') || argv.includes('-h');
    (help ? process.stdout : process.stderr).write(`${e.message}\n`);
    process.exit(help ? 0 : 2);
  }
}
