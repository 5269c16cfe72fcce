import { resolveStreams } from '../../adapters/lsl/resolve.ts';
import { num, parse } from './args.ts';

export async function streamsCli(argv: string[]): Promise<number> {
  const { values } = parse('streams', argv, { wait: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write('neurox streams [--wait SECONDS] [--json]\n  list LSL streams on the network\n');
    return 0;
  }
  const found = await resolveStreams({ all: true }, { timeout: num('wait', values.wait, 1.5, (x) => x > 0) });
  if (values.json) process.stdout.write(JSON.stringify(found.map(({ xml: _x, ...m }) => m), null, 1) + '\n');
  else for (const s of found) process.stdout.write(`${s.name}\t${s.type}\t${s.channelCount} ch\t${s.srate} Hz\t${s.format}\t${s.sourceId}\t${s.hostname}\n`);
  return 0;
}
