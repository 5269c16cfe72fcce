/**
 * Rebuild DIVER-S from scratch with the default settings: teacher → distill →
 * quantize, into --out. With --ship the int8 ONNX is also copied over the
 * shipped models/diver-s.int8.onnx (without it, experiments leave the shipped
 * model alone).
 *   node --import tsx scripts/model-train-all.ts [--out models/out] [--seed 1] [--ship]
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainCli, distillCli, quantizeCli } from '../models/cli.ts';

const ship = process.argv.includes('--ship');
const argv = process.argv.slice(2).filter((a) => a !== '--ship');
const outIdx = argv.indexOf('--out');
const out = outIdx >= 0 ? argv[outIdx + 1] : 'models/out';
const t0 = performance.now();
// route each option to the commands that know it
const only = (names: string[]) => {
  const r: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '').split('=')[0];
    const hasValue = !argv[i].includes('=') && i + 1 < argv.length && !argv[i + 1].startsWith('--');
    if (names.includes(key)) r.push(argv[i], ...(hasValue ? [argv[i + 1]] : []));
    if (hasValue) i++;
  }
  return r;
};
const common = ['quick', 'seed', 'out', 'progress', 'recordings', 'seconds', 'tasks'];
let rc = await trainCli(only([...common, 'pretrain-steps', 'finetune-steps', 'batch', 'seq', 'max-channels']));
if (rc === 0) rc = await distillCli(only([...common, 'steps', 'layers', 'transfer', 'head', 'head-recordings', 'batch', 'seq', 'max-channels']));
if (rc === 0) rc = await quantizeCli([...only(common), '--float-onnx', join(out, 'diver-s.f32.onnx')]);
if (rc === 0 && ship) copyFileSync(join(out, 'diver-s.int8.onnx'), 'models/diver-s.int8.onnx');
process.stderr.write(`model-train-all: rc=${rc} in ${((performance.now() - t0) / 60000).toFixed(1)} min\n`);
process.exit(rc);
