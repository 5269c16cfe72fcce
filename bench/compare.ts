/**
 * bench/compare: two benchmark result files (the JSON any bench/ script prints)
 * side by side. Every numeric leaf is matched by its path; the table shows both
 * values and b / a. Leaves present in one file only are listed with a dash.
 *
 *   node --import tsx bench/compare.ts before.json after.json [--filter p99] [--json]
 */
import { readFileSync } from 'node:fs';
import { parse } from '../src/cli/args.ts';

/** Numeric leaves of a JSON value, keyed by their dotted path (array items by index, or by `name`/`config` when they have one). */
export function leaves(v: unknown, path = '', out = new Map<string, number>()): Map<string, number> {
  if (typeof v === 'number' && Number.isFinite(v)) out.set(path, v);
  else if (Array.isArray(v)) {
    v.forEach((x, i) => {
      const o = x as Record<string, unknown> | null;
      const key = o && typeof o === 'object' ? (o.name ?? o.config ?? o.label ?? i) : i;
      leaves(x, path ? `${path}[${String(key)}]` : `[${String(key)}]`, out);
    });
  } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, path ? `${path}.${k}` : k, out);
  return out;
}

function read(file: string): unknown {
  const text = readFileSync(file, 'utf8').trim();
  // A bench prints one JSON object; take the last line that parses when logs came along.
  try {
    return JSON.parse(text);
  } catch {
    const line = text.split('\n').reverse().find((l) => l.trim().startsWith('{'));
    if (!line) throw new Error(`${file}: no JSON object found`);
    return JSON.parse(line);
  }
}

const { values, positionals } = parse('bench/compare', process.argv.slice(2), { filter: { type: 'string' }, json: { type: 'boolean' } }, true);
if (positionals.length !== 2) {
  process.stderr.write('usage: node --import tsx bench/compare.ts A.json B.json [--filter TEXT] [--json]\n');
  process.exit(2);
}
const [fa, fb] = positionals as [string, string];
const a = leaves(read(fa));
const b = leaves(read(fb));
const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => !values.filter || k.includes(values.filter));
const rows = keys.map((k) => {
  const x = a.get(k);
  const y = b.get(k);
  return { metric: k, a: x ?? null, b: y ?? null, ratio: x !== undefined && y !== undefined && x !== 0 ? +(y / x).toFixed(3) : null };
});
if (values.json) process.stdout.write(`${JSON.stringify({ a: fa, b: fb, rows }, null, 1)}\n`);
else {
  const w = Math.max(6, ...rows.map((r) => r.metric.length));
  const fmt = (v: number | null) => (v === null ? '—' : String(+v.toPrecision(6))).padStart(12);
  process.stdout.write(`${'metric'.padEnd(w)} ${'A'.padStart(12)} ${'B'.padStart(12)} ${'B/A'.padStart(8)}\n`);
  process.stdout.write(`${''.padEnd(w, '-')} ${''.padEnd(12, '-')} ${''.padEnd(12, '-')} ${''.padEnd(8, '-')}\n`);
  for (const r of rows) process.stdout.write(`${r.metric.padEnd(w)} ${fmt(r.a)} ${fmt(r.b)} ${(r.ratio === null ? '—' : r.ratio.toFixed(3)).padStart(8)}\n`);
  process.stdout.write(`A = ${fa}\nB = ${fb}\n`);
}
