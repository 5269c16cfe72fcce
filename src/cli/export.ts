/** `neurox export`: a recorded session (XDF) as EDF+ for clinical viewers. */
import { exportXdfToEdf } from '../session/export.ts';
import { parse, UsageError } from './args.ts';

const HELP = `neurox export <session.xdf> --edf <out.edf> [--intents]
  writes every regular numeric stream as EDF+ signals and markers/gaps (and, with
  --intents, decoded intents) as EDF+ annotations
`;

export async function exportCli(argv: string[]): Promise<number> {
  const { values, positionals } = parse('export', argv, { edf: { type: 'string' }, intents: { type: 'boolean' }, help: { type: 'boolean' } }, true);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1 || !values.edf) throw new UsageError('neurox export: give one .xdf file and --edf OUT (see: neurox export --help)');
  const s = await exportXdfToEdf(positionals[0]!, values.edf, { intents: values.intents });
  process.stdout.write(`neurox: wrote ${values.edf}: ${s.signals} signals, ${s.annotations} annotations, ${s.seconds.toFixed(1)} s${s.skipped.length ? `; skipped irregular streams ${s.skipped.join(', ')}` : ''}\n`);
  return 0;
}
