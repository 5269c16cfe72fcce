/**
 * `neurox replay`: run a recording (XDF or EDF/BDF) through the same pipeline as a
 * live session, print or serve the intents, optionally compare them with the
 * intents recorded live, or re-publish the file's streams as LSL outlets.
 */
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { StreamOutlet } from '../../adapters/lsl/outlet.ts';
import { IntentServer } from '../../adapters/ws/server.ts';
import { SERVER_NAME } from '../version.ts';
import { DECODER_OPTIONS, decoderChoice, loadDecoder } from './decoder-options.ts';
import { ELECTRODE_HELP, ELECTRODE_OPTIONS, electrodeMapper, loadElectrodeTable } from './electrode-options.ts';
import { logger } from '../log.ts';
import { profilePathFor } from '../session/record.ts';
import { compareIntents, replayRecording, ReplayError } from '../session/replay/index.ts';
import { XdfFormatError } from '../../adapters/xdf/index.ts';
import { EdfFormatError } from '../../adapters/edf/index.ts';
import type { Chunk, Intent, StreamId } from '../types.ts';
import { localClock } from '../util/clock.ts';
import { num, parse, UsageError } from './args.ts';

const log = logger('cli.replay');

const HELP = `neurox replay <file.xdf|file.edf|file.bdf> [options]
  --realtime          pace the replay at the recording's own speed (default: as fast as possible)
  --speed X           real-time speed factor (with --realtime; default 1)
  --publish           re-publish the file's streams as LSL outlets with the original timing
                      (implies --realtime), so \`neurox run\` can consume them
  --decoder NAME      baseline | diver-s (default: the profile next to the recording when it
                      exists, otherwise a baseline calibrated from its cue markers, as live)
  --model FILE        ONNX step model for --decoder diver-s (default models/diver-s.int8.onnx)
  --device cpu|gpu    ONNX Runtime device for the model
  --profile FILE      decoder profile, baseline or model (default: <file>.decoder.json when it exists)
  --paradigm P        model task adapter for diver-s, cue prefix for baseline calibration (default mi)
  --hop S / --window S  frame hop / window (default: the recording's, else 0.08 / 1.0)
  --port N            serve the intents on a WebSocket (as neurox run does)
  --json-out FILE     write the intents as JSON lines
  --compare           compare with the intents recorded live (neurox-intents); exit 3 if they differ
  --lenient           replay a damaged file up to the damage (default: fail naming the byte offset)
  --quiet             do not print intents
${ELECTRODE_HELP}`;

export async function replayCli(argv: string[]): Promise<number> {
  try {
    return await replay(argv);
  } catch (e) {
    // Bad input: one clear line naming the file (and byte offset), no stack.
    if (e instanceof XdfFormatError || e instanceof EdfFormatError || e instanceof ReplayError || (e as Error).message?.startsWith('cannot read decoder profile')) {
      process.stderr.write(`neurox replay: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}

async function replay(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    'replay',
    argv,
    {
      realtime: { type: 'boolean' },
      speed: { type: 'string' },
      publish: { type: 'boolean' },
      ...DECODER_OPTIONS,
      ...ELECTRODE_OPTIONS,
      hop: { type: 'string' },
      window: { type: 'string' },
      port: { type: 'string' },
      'json-out': { type: 'string' },
      compare: { type: 'boolean' },
      lenient: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('neurox replay: give exactly one recording file (see: neurox replay --help)');
  const file = positionals[0]!;
  const electrodes = loadElectrodeTable('replay', values);
  const auto = profilePathFor(file);
  decoderChoice('replay', values);
  // An explicit --decoder wins over the profile next to the recording.
  const profile = values.profile ?? (values.decoder === undefined && existsSync(auto) ? auto : undefined);
  const decoder = await loadDecoder('replay', { ...values, profile, paradigm: values.decoder === 'diver-s' || profile ? values.paradigm : undefined });
  const realtime = !!(values.realtime || values.publish);
  const speed = num('speed', values.speed, 1, (x) => x > 0 && x <= 1000);
  const hop = values.hop === undefined ? undefined : num('hop', values.hop, 0.08, (x) => x > 0 && x <= 2);
  const window = values.window === undefined ? undefined : num('window', values.window, 1, (x) => x > 0 && x <= 30);

  let server: IntentServer | undefined;
  if (values.port !== undefined) {
    const port = num('port', values.port, 8765, (x) => Number.isInteger(x) && x >= 0 && x < 65536);
    server = new IntentServer({
      port,
      hello: () => ({ server: `${SERVER_NAME} (replay)`, model: { name: decoder?.name ?? 'baseline-bandpower-lda', labels: decoder?.labels ?? [], backend: decoder?.backend ?? 'js' }, streams: [] }),
    });
    const bound = await server.listen();
    process.stdout.write(`neurox: replaying ${file}; intents on ws://127.0.0.1:${bound}\n`);
    server.sendStatus({ state: 'running' });
  }
  let out: WriteStream | undefined;
  if (values['json-out']) out = createWriteStream(values['json-out']);
  const publisher = values.publish ? new Publisher() : undefined;
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  let printed = 0;
  try {
    const r = await replayRecording(file, {
      decoder,
      calibration: { paradigm: values.paradigm ?? 'mi' },
      hop,
      window,
      realtime,
      speed,
      lenient: values.lenient,
      mapStream: electrodeMapper(electrodes),
      badChannels: values['bad-channels'] || undefined,
      signal: ac.signal,
      onChunk: publisher ? (c) => publisher.push(c) : undefined,
      onIntent: (i: Intent) => {
        server?.sendIntent(i);
        out?.write(`${JSON.stringify(i)}\n`);
        if (!values.quiet && (realtime || printed < 20 || i.seq % 50 === 0)) {
          printed++;
          const p = Object.entries(i.probs).map(([k, v]) => `${k}=${v.toFixed(3)}`).join(' ');
          process.stdout.write(`intent #${i.seq} t=${i.tFrame.toFixed(3)} ${i.label} conf ${i.confidence.toFixed(3)} [${p}]\n`);
        }
      },
    });
    for (const w of r.warnings) process.stderr.write(`neurox replay: warning: ${w}\n`);
    process.stdout.write(
      `neurox: replayed ${file}: ${r.streams.length} streams, ${r.samples} samples, ${r.gaps} gaps, ${r.intents.length} intents ` +
        `(${r.span.toFixed(1)} s of recording in ${r.wallSeconds.toFixed(2)} s; decoder ${decoder ? `${decoder.name}${profile ? ` from ${profile}` : ''}` : 'calibrated from the recording'})\n`,
    );
    if (!decoder && !r.intents.length) process.stdout.write('neurox: no intents: the decoder never calibrated (no profile, no calib:end cue block in the recording)\n');
    if (values.compare) {
      const c = compareIntents(r.intents, r.recordedIntents);
      process.stdout.write(
        `neurox: parity with the live run: ${c.compared}/${c.recorded} recorded intents compared, ${c.labelMismatches} label mismatches, ` +
          `max |Δp| ${c.maxProbDiff.toExponential(2)}, ${c.missing.length} missing, ${c.extra.length} extra → ${c.equal ? 'EQUAL' : 'DIFFERENT'}\n`,
      );
      if (c.recorded === 0) process.stdout.write('neurox: the recording holds no live intents to compare with\n');
      if (!c.equal) return 3;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    publisher?.close();
    await decoder?.close();
    if (out) await new Promise<void>((r) => out!.end(r));
    if (server) await server.close();
  }
}

/** Re-publishes replayed chunks as LSL outlets, shifted onto the current clock (relative timing kept). */
class Publisher {
  private outlets = new Map<StreamId, StreamOutlet>();
  private shift: number | undefined;

  push(c: Chunk): void {
    if (c.kind === 'stream') {
      if (this.outlets.has(c.stream)) return;
      const m = c.meta;
      const o = new StreamOutlet({
        name: m.name,
        type: m.type,
        channelCount: m.channelCount,
        srate: m.srate,
        format: m.format === 'int64' ? 'double64' : m.format,
        sourceId: m.sourceId || `replay-${m.name}`,
        channels: m.channels,
        desc: { replayOf: m.uid || m.name },
      });
      this.outlets.set(c.stream, o);
      log.info({ stream: m.name, type: m.type }, 'publishing');
      return;
    }
    if (c.kind !== 'signal' && c.kind !== 'marker') return;
    const o = this.outlets.get(c.stream);
    if (!o || c.timestamps.length === 0) return;
    this.shift ??= localClock() - c.timestamps[c.timestamps.length - 1]!;
    const ts = Float64Array.from(c.timestamps, (t) => t + this.shift!);
    if (c.kind === 'marker') o.pushStrings(c.values ?? c.markers, ts);
    else o.pushChunk(c.raw ?? c.data, ts);
  }

  close(): void {
    for (const o of this.outlets.values()) o.close();
    this.outlets.clear();
  }
}
