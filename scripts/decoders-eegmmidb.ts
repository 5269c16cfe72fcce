/**
 * Balanced accuracy of the classical decoders against their reference pipelines
 * (MNE / scikit-learn / numpy, stored by scripts/gen-decoder-fixtures.py) on every
 * evaluation of the fixtures: EEGMMIDB S001 motor imagery (csp, fbcsp, ts-lr, mdm),
 * simulated ERP (xdawn-lda, xdawn-ts) and simulated SSVEP (cca, fbcca, trca).
 *
 *   node --import tsx scripts/decoders-eegmmidb.ts [--json] [--only csp,mdm]
 *
 * Prints a Markdown table (or JSON with --json): per decoder and evaluation, the test
 * trials, our balanced accuracy, the reference's, and the share of identical predictions.
 */
import { stackEpochs, type Epochs } from '../src/decode/epochs.ts';
import { createClassical } from '../src/decode/registry.ts';
import type { ClassicalKind } from '../src/decode/classical.ts';
import { decoderFixture, loadRun } from '../test/decode/eegmmidb-epochs.ts';
import { parity, type ParityRow } from '../test/decode/parity.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1]!.split(',')) : undefined;

const toEpochs = (fx: any): Epochs => stackEpochs((fx.epochs as number[][][]).map((e) => Float64Array.from(e.flat())), fx.channels, fx.samples, fx.srate);

interface Block { data: string; kinds: ClassicalKind[]; fx: any; source: (run?: number) => { epochs: Epochs; labels: string[] }; opts?: Record<string, unknown> }
const mi = decoderFixture('eegmmidb.json');
const erp = decoderFixture('erp.json');
const ss = decoderFixture('ssvep.json');
const erpData = { epochs: toEpochs(erp), labels: erp.labels as string[] };
const ssData = { epochs: toEpochs(ss), labels: ss.labels as string[] };
const blocks: Block[] = [
  { data: 'EEGMMIDB S001', kinds: ['csp', 'fbcsp', 'ts-lr', 'mdm'], fx: mi, source: (run) => loadRun(run!) },
  { data: 'simulated ERP', kinds: ['xdawn-lda', 'xdawn-ts'], fx: erp, source: () => erpData },
  { data: 'simulated SSVEP', kinds: ['cca', 'fbcca', 'trca'], fx: ss, source: () => ssData, opts: { freqs: ss.freqs, labels: ['8', '10', '12', '15'] } },
];

const out: (ParityRow & { decoder: ClassicalKind; data: string })[] = [];
for (const b of blocks)
  for (const kind of b.kinds) {
    if (only && !only.has(kind)) continue;
    for (const r of parity(() => createClassical(kind, b.opts), b.fx.splits, b.fx.results[kind], b.source)) out.push({ decoder: kind, data: b.data, ...r });
  }

if (json) process.stdout.write(JSON.stringify(out, null, 1) + '\n');
else {
  const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
  const lines = ['| decoder | data | evaluation | test trials | balanced acc. (ours) | balanced acc. (reference) | same prediction |', '|---|---|---|---|---|---|---|'];
  for (const r of out) lines.push(`| ${r.decoder} | ${r.data} | ${r.evaluation.replace('->', '→')} | ${r.trials} | ${pct(r.ours)} | ${pct(r.reference)} | ${pct(r.agreement)} |`);
  process.stdout.write(lines.join('\n') + '\n');
}
