/**
 * `neurox record`: a LabRecorder on the command line. Records any LSL streams to XDF
 * (full stream info XML, native sample formats, clock offsets, gaps), picking up
 * matching streams that appear later, until Ctrl-C / SIGTERM or `--duration`.
 */
import type { Subscription } from 'rxjs';
import { closeAllInlets, inletSource, streamIdOf } from '../../adapters/lsl/source.ts';
import { resolveStreams, type StreamQuery } from '../../adapters/lsl/resolve.ts';
import { logger } from '../log.ts';
import { defaultRecordingPath, SessionRecorder } from '../session/record.ts';
import { num, parse, UsageError } from './args.ts';
import { untilStopped } from './run.ts';

const log = logger('cli.record');

const HELP = `neurox record [options]
  --all              record every stream on the network
  --type TYPE        record streams of this type (repeatable)
  --name NAME        record streams with this name (repeatable)
  --pred XPATH       record streams matching this XPath predicate, e.g. "type='EEG'" (repeatable)
  --out FILE         XDF file to write (default recordings/<YYYYmmdd-HHMMSS>.xdf)
  --duration S       stop after S seconds (default: until Ctrl-C)
  --flush-ms N       how often buffered data goes to disk (default 250)
  --rescan S         look for newly appearing matching streams every S seconds (default 2; 0 = never)
Ctrl-C closes the file cleanly (stream footers). A killed recorder loses at most
about one flush interval of data; the file stays readable.
`;

export async function recordCli(argv: string[]): Promise<number> {
  const { values } = parse('record', argv, {
    all: { type: 'boolean' },
    type: { type: 'string', multiple: true },
    name: { type: 'string', multiple: true },
    pred: { type: 'string', multiple: true },
    out: { type: 'string' },
    duration: { type: 'string' },
    'flush-ms': { type: 'string' },
    rescan: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const queries: StreamQuery[] = [
    ...(values.type ?? []).map((v): StreamQuery => ({ prop: 'type', value: v })),
    ...(values.name ?? []).map((v): StreamQuery => ({ prop: 'name', value: v })),
    ...(values.pred ?? []).map((p): StreamQuery => ({ pred: p })),
  ];
  if (values.all) queries.push({ all: true });
  if (queries.length === 0) throw new UsageError('neurox record: say which streams to record: --all, --type, --name or --pred (see: neurox record --help)');
  const duration = values.duration === undefined ? undefined : num('duration', values.duration, 0, (x) => x > 0);
  const flushMs = num('flush-ms', values['flush-ms'], 250, (x) => x >= 10 && x <= 10_000);
  const rescan = num('rescan', values.rescan, 2, (x) => x >= 0);
  const file = values.out ?? defaultRecordingPath();

  const rec = await SessionRecorder.open(file, { flushIntervalMs: flushMs });
  process.stdout.write(`neurox: recording to ${file}\n`);
  const subs: Subscription[] = [];
  const known = new Set<string>();
  let stopping = false;
  let failed: Error | undefined;
  const scan = async (): Promise<void> => {
    for (const q of queries) {
      const found = await resolveStreams(q, { timeout: 'all' in q ? 1.0 : 0.5, minimum: 1 });
      for (const meta of found) {
        const id = streamIdOf(meta);
        if (stopping || known.has(id)) continue;
        known.add(id);
        process.stdout.write(`neurox: + ${meta.name} (${meta.type}, ${meta.channelCount} ch, ${meta.srate} Hz, ${meta.format})\n`);
        subs.push(
          inletSource(meta).subscribe({
            next: (c) => rec.write(c),
            error: (e) => {
              log.error({ stream: id, err: (e as Error).message }, 'stream failed; the others go on recording');
            },
          }),
        );
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    try {
      await scan();
    } catch (e) {
      failed = e as Error;
      log.error({ err: failed.message }, 'stream discovery failed');
    }
    if (!stopping && rescan > 0) timer = setTimeout(loop, rescan * 1000);
  };
  void loop();
  const why = await untilStopped(duration);
  stopping = true;
  if (timer) clearTimeout(timer);
  for (const s of subs) s.unsubscribe();
  await closeAllInlets();
  await rec.close();
  const st = rec.stats();
  process.stdout.write(
    `neurox: stopped (${why}); ${st.streams} streams, ${st.signalSamples} samples, ${st.markers} markers, ${st.gaps} gaps, ${st.bytesWritten} bytes in ${file}\n`,
  );
  if (st.streams === 0) process.stderr.write('neurox record: no matching stream was found; the file holds no data\n');
  return failed && st.streams === 0 ? 1 : 0;
}
