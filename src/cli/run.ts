/** `neurox run`: the runtime against whatever LSL streams are on the network. */
import { BaselineDecoder } from '../decode/baseline.ts';
import { logger } from '../log.ts';
import { defaultRecordingPath, SessionRecorder } from '../session/record.ts';
import { runSession, type RunningSession } from '../session/run.ts';
import { num, parse, UsageError } from './args.ts';
import { calibrateFromSimulator } from './sim-calibration.ts';
import { parseDspOptions, type DspOptions } from '../dsp/chain.ts';
import { ModelDecoder } from '../decode/model-decoder.ts';
import { defaultModelPath } from '../model/paths.ts';

const log = logger('cli.run');

const HELP = `neurox run [options]
  --type TYPE            signal stream type to decode (default EEG)
  --name NAME            signal stream name (instead of --type)
  --source-id ID         signal stream source_id (markers then default to source_id ID-markers)
  --markers-type TYPE    marker stream type (default Markers); --no-markers to ignore
  --port N               WebSocket port (default 8765; 0 = any free port)
  --host ADDR            bind address (default 127.0.0.1)
  --hop S                frame hop in seconds (default 0.08)
  --window S             analysis window in seconds (default 1.0)
  --profile FILE         load a saved decoder profile
  --save-profile FILE    save the decoder profile after live calibration
  --calibrate-sim DEVICE calibrate from the simulator's labelled block for DEVICE (with --seed)
  --seed N               simulator seed for --calibrate-sim (default 1)
  --decoder NAME         baseline (default: band power + shrinkage LDA) or diver-s (the ONNX model)
  --model FILE           ONNX step model for --decoder diver-s (default models/diver-s.int8.onnx)
  --paradigm P           model task adapter: mi (default), ssvep, p300, speech
  --device cpu|gpu       ONNX Runtime device for the model (gpu falls back to cpu with a log line)
  --notch 50|60          notch the line frequency and its harmonics
  --bandpass LO,HI       causal Butterworth band-pass (order 4)
  --montage car|bipolar  re-reference (bipolar: adjacent contacts along SEEG shafts)
  --resample HZ          polyphase resampling to HZ
  --abstain-below P      mark intents with confidence below P as abstained (default 0)
  --duration S           stop after S seconds (default: run until Ctrl-C)
  --record FILE          record the session to this XDF file
                         (default recordings/<YYYYmmdd-HHMMSS>.xdf)
  --no-record            do not record
Without --profile or --calibrate-sim the decoder calibrates live from cue markers
(mi:left / mi:right ... up to calib:end).
`;

export const RUN_OPTIONS = {
  type: { type: 'string' },
  name: { type: 'string' },
  'source-id': { type: 'string' },
  'markers-type': { type: 'string' },
  'no-markers': { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  hop: { type: 'string' },
  window: { type: 'string' },
  profile: { type: 'string' },
  'save-profile': { type: 'string' },
  'calibrate-sim': { type: 'string' },
  seed: { type: 'string' },
  'abstain-below': { type: 'string' },
  decoder: { type: 'string' },
  model: { type: 'string' },
  paradigm: { type: 'string' },
  device: { type: 'string' },
  notch: { type: 'string' },
  bandpass: { type: 'string' },
  montage: { type: 'string' },
  resample: { type: 'string' },
  duration: { type: 'string' },
  record: { type: 'string' },
  'no-record': { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

type RunValues = ReturnType<typeof parse<typeof RUN_OPTIONS>>['values'];

/** Build and start a session from parsed `run` options (recording it unless `no-record`). */
export async function startFromOptions(v: RunValues): Promise<RunningSession & { recording?: string }> {
  let decoder: BaselineDecoder | undefined;
  if (v.profile) decoder = BaselineDecoder.load(v.profile);
  let dsp: DspOptions;
  try {
    dsp = parseDspOptions({ notch: v.notch, bandpass: v.bandpass, montage: v.montage, resample: v.resample });
  } catch (e) {
    throw new UsageError(`neurox run: ${(e as Error).message}`);
  }
  const decoderName = v.decoder ?? 'baseline';
  if (decoderName !== 'baseline' && decoderName !== 'diver-s') throw new UsageError(`neurox run: --decoder: expected baseline or diver-s, got "${decoderName}"`);
  if (v.device !== undefined && v.device !== 'cpu' && v.device !== 'gpu') throw new UsageError(`neurox run: --device: expected cpu or gpu, got "${v.device}"`);
  const model =
    decoderName === 'diver-s'
      ? await ModelDecoder.load(v.model ?? defaultModelPath() ?? 'models/diver-s.int8.onnx', v.paradigm ?? 'mi', { device: v.device as 'cpu' | 'gpu' | undefined })
      : undefined;
  if (!model && !decoder && v['calibrate-sim']) decoder = calibrateFromSimulator(v['calibrate-sim'], num('seed', v.seed, 1, Number.isInteger), dsp);
  const hop = num('hop', v.hop, 0.08, (x) => x > 0 && x <= 2);
  const window = num('window', v.window, 1.0, (x) => x > 0 && x <= 30);
  const abstainBelow = num('abstain-below', v['abstain-below'], 0, (x) => x >= 0 && x <= 1);
  const file = v['no-record'] ? undefined : (v.record ?? defaultRecordingPath());
  // Open the recorder first: no acquired chunk may arrive before it listens.
  const rec = file
    ? await SessionRecorder.open(file, {
        headerFields: { neurox_hop: String(hop), neurox_window: String(window), neurox_abstain_below: String(abstainBelow), neurox_dsp: JSON.stringify(dsp) },
      })
    : undefined;
  let s: RunningSession;
  try {
    s = await runSession({
      signal: v['source-id']
        ? { prop: 'source_id', value: v['source-id'] }
        : v.name
          ? { prop: 'name', value: v.name }
          : { prop: 'type', value: v.type ?? 'EEG' },
      markers: v['no-markers']
        ? null
        : v['source-id'] && !v['markers-type']
          ? { prop: 'source_id', value: `${v['source-id']}-markers` }
          : { prop: 'type', value: v['markers-type'] ?? 'Markers' },
      port: num('port', v.port, 8765, (x) => Number.isInteger(x) && x >= 0 && x < 65536),
      host: v.host,
      hop,
      window,
      dsp,
      model,
      decoder,
      saveProfile: v['save-profile'],
      abstainBelow,
    });
  } catch (e) {
    await rec?.close();
    throw e;
  }
  if (!rec) return s;
  s.onRawChunk((c) => rec.write(c));
  s.onIntent((i) => rec.intent(i));
  rec.event({ type: 'session-start', hop, window, abstainBelow, decoder: model ? `model:${model.name}` : decoder ? (v.profile ? `profile:${v.profile}` : `calibrate-sim:${v['calibrate-sim']}`) : 'live-calibration' });
  if (decoder) rec.saveDecoder(decoder);
  log.info({ file }, 'recording the session');
  const stop = s.stop.bind(s);
  let stopped: Promise<void> | undefined;
  return Object.assign(s, {
    recording: file,
    stop: () =>
      (stopped ??= (async () => {
        await stop();
        // A decoder calibrated live during the session is saved with the recording too.
        if (!decoder && s.pipeline.decoder.calibrated) rec.saveDecoder(s.pipeline.decoder);
        rec.event({ type: 'session-stop' });
        await rec.close();
      })()),
  });
}

/** Resolve when Ctrl-C / SIGTERM arrives or `seconds` pass. */
export function untilStopped(seconds: number | undefined): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(why);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    if (seconds !== undefined) setTimeout(() => done('duration'), seconds * 1000).unref();
  });
}

export async function runCli(argv: string[]): Promise<number> {
  const { values } = parse('run', argv, RUN_OPTIONS);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const duration = values.duration === undefined ? undefined : num('duration', values.duration, 0, (x) => x > 0);
  const s = await startFromOptions(values);
  process.stdout.write(`neurox: intents on ws://${values.host ?? '127.0.0.1'}:${s.port} (msgpack; subprotocol neurox.v1.json for JSON)\n`);
  if (s.recording) process.stdout.write(`neurox: recording to ${s.recording}\n`);
  const why = await untilStopped(duration);
  log.info({ why }, 'stopping');
  await s.stop();
  return 0;
}
