/** Strict option parsing for the model CLIs: unknown options are errors. */
export type OptSpec = Record<string, { type: 'string' | 'number' | 'boolean'; default?: string | number | boolean; help: string }>;

export class UsageError extends Error {}

export function parseArgs<T extends OptSpec>(argv: string[], spec: T, command: string): { [K in keyof T]: any } {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec)) out[k] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') throw new UsageError(usage(spec, command));
    if (!a.startsWith('--')) throw new UsageError(`${command}: unexpected argument '${a}'\n${usage(spec, command)}`);
    const [key, inline] = a.slice(2).split('=', 2);
    const s = spec[key];
    if (!s) throw new UsageError(`${command}: unknown option '--${key}'\n${usage(spec, command)}`);
    if (s.type === 'boolean') {
      out[key] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new UsageError(`${command}: option '--${key}' needs a value`);
    if (s.type === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new UsageError(`${command}: option '--${key}' expects a number, got '${v}'`);
      out[key] = n;
    } else out[key] = v;
  }
  return out as { [K in keyof T]: any };
}

export function usage(spec: OptSpec, command: string): string {
  const lines = [`usage: neurox ${command} [options]`];
  for (const [k, s] of Object.entries(spec)) {
    lines.push(`  --${k}${s.type === 'boolean' ? '' : ` <${s.type}>`}`.padEnd(28) + `${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}`);
  }
  return lines.join('\n');
}
