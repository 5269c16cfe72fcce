/**
 * Rebuild DIVER-S from scratch with the default settings: teacher → distill →
 * quantize, into --out. With --ship the int8 ONNX is also copied over the
 * shipped models/diver-s.int8.onnx (without it, experiments leave the shipped
 * model alone).
 *   node --import tsx scripts/model-train-all.ts [--out models/out] [--seed 1] [--ship]
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainCli, distillCli, quantizeCli, teacherSpec, distillSpec, quantSpec } from '../models/cli.ts';
import { scriptOptions, type OptSpec } from '../src/cli/args.ts';

// Every option of the three commands (and --ship); each command gets the ones it knows.
const all = { ...teacherSpec, ...distillSpec, ...quantSpec, ship: { type: 'boolean', help: 'copy the int8 ONNX over models/diver-s.int8.onnx' } } satisfies OptSpec;
const noDefaults = Object.fromEntries(Object.entries(all).map(([k, d]) => [k, { type: d.type, help: d.help }])) as OptSpec;
const given = scriptOptions(process.argv.slice(2), noDefaults, 'scripts/model-train-all.ts');
const ship = given.ship === true;
const out = typeof given.out === 'string' ? given.out : teacherSpec.out.default;
const t0 = performance.now();
/** The options the user gave that `spec` knows, as `--key=value` arguments. */
const only = (spec: OptSpec): string[] =>
  Object.entries(given).flatMap(([k, v]) => (v !== undefined && k in spec ? [`--${k}=${v}`] : []));
let rc = await trainCli(only(teacherSpec));
if (rc === 0) rc = await distillCli(only(distillSpec));
if (rc === 0) rc = await quantizeCli([...only(quantSpec), '--float-onnx', join(out, 'diver-s.f32.onnx')]);
if (rc === 0 && ship) copyFileSync(join(out, 'diver-s.int8.onnx'), 'models/diver-s.int8.onnx');
process.stderr.write(`model-train-all: rc=${rc} in ${((performance.now() - t0) / 60000).toFixed(1)} min\n`);
process.exit(rc);
