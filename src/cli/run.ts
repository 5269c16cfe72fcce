/** `neurox run`: the runtime against whatever LSL streams are on the network. */
import { logger } from '../log.ts';
import { defaultRecordingPath, SessionRecorder } from '../session/record.ts';
import { runSession, type RunningSession } from '../session/run.ts';
import { num, parse, UsageError } from './args.ts';
import { calibrateFromSimulator } from './sim-calibration.ts';
import { parseDspOptions, type DspOptions } from '../dsp/chain.ts';
import { BaselineFrameDecoder, type FrameDecoder } from '../decode/frame-decoder.ts';
import { DECODER_HELP, DECODER_OPTIONS, decoderChoice, loadDecoder } from './decoder-options.ts';
import { ELECTRODE_HELP, ELECTRODE_OPTIONS, electrodeMapper, loadElectrodeTable } from './electrode-options.ts';
import type { ElectrodeTable } from '../../adapters/bids/electrodes.ts';
import { IntentServer, DEFAULT_CLIENT_LIMITS } from '../../adapters/ws/server.ts';
import { isLoopbackHost } from '../../adapters/ws/origin.ts';
import { parseToken, type RoleToken } from '../../adapters/ws/server.ts';
import { ROLES, type Role } from '../../adapters/ws/protocol.ts';
import { dashboardRoute } from '../../adapters/dashboard/serve.ts';
import { IntentOutlet } from '../../adapters/lsl/intent-outlet.ts';
import { injectFaultFromEnv, onFatal } from './fatal.ts';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

import type { Chunk } from '../types.ts';

const log = logger('cli.run');

const HELP = () => `neurox run [options]
  --type TYPE            signal stream type to decode (default EEG)
  --name NAME            signal stream name (instead of --type)
  --source-id ID         signal stream source_id (markers then default to source_id ID-markers)
  --markers-type TYPE    marker stream type (default Markers); --no-markers to ignore
  --port N               WebSocket port (default 8765; 0 = any free port)
  --host ADDR            bind address (default 127.0.0.1); beyond loopback every client
                         needs a token (--token, or role tokens are made and written to .neurox/tokens)
  --token [ROLE:]T       client token with its role: observer, operator (default) or
                         clinician (repeatable); --token-file FILE reads one per line.
                         Without any, an operator and a clinician token are made at
                         start, printed once and written to .neurox/tokens (mode 0600)
  --loopback-role R      role of loopback clients without a token: observer (default:
                         read-only topics and feedback) or none (read-only topics)
  --lsl-outlet           also publish intents as an LSL string stream (type Intents)
  --lsl-probs            with --lsl-outlet: the probabilities as a float stream too
  --allow-origin ORIGIN  also accept browser pages from ORIGIN (repeatable; * for any)
  --max-client-rate N    messages per second a client may send (default ${DEFAULT_CLIENT_LIMITS.messagesPerSecond})
  --max-frame-age S      frames older than S seconds when decoded make no intent (default 4 hops)
  --health-every S       seconds between health summaries (log; status again while a warning lasts; default 10)
  --hop S                frame hop in seconds (default 0.08)
  --window S             analysis window in seconds (default 1.0)
  --save-profile FILE    save the decoder profile once it is ready (after live calibration, or at start)
  --calibrate-sim DEVICE calibrate from the simulator's labelled block for DEVICE (with --seed)
  --seed N               simulator seed for --calibrate-sim (default 1)
${DECODER_HELP}  --notch 50|60          notch the line frequency and its harmonics
  --bandpass LO,HI       causal Butterworth band-pass (order 4)
  --montage car|bipolar  re-reference (bipolar: adjacent contacts along SEEG shafts)
  --resample HZ          polyphase resampling to HZ
${ELECTRODE_HELP}  --abstain-below P      mark intents with confidence below P as abstained (default 0)
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
  token: { type: 'string', multiple: true },
  'token-file': { type: 'string' },
  'loopback-role': { type: 'string' },
  'lsl-outlet': { type: 'boolean' },
  'lsl-probs': { type: 'boolean' },
  'allow-origin': { type: 'string', multiple: true },
  'max-client-rate': { type: 'string' },
  'max-frame-age': { type: 'string' },
  'health-every': { type: 'string' },
  hop: { type: 'string' },
  window: { type: 'string' },
  ...DECODER_OPTIONS,
  ...ELECTRODE_OPTIONS,
  'save-profile': { type: 'string' },
  'calibrate-sim': { type: 'string' },
  seed: { type: 'string' },
  'abstain-below': { type: 'string' },
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

/** Everything `run` needs, validated before anything is opened, spawned or calibrated. */
interface RunPlan {
  dsp: DspOptions;
  electrodes: ElectrodeTable | undefined;
  seed: number;
  hop: number;
  window: number;
  abstainBelow: number;
  maxFrameAge: number | undefined;
  healthEvery: number;
  port: number;
  host: string;
  tokens: string[];
  rate: number;
  file: string | undefined;
}

function plan(v: RunValues): RunPlan {
  let dsp: DspOptions;
  try {
    dsp = parseDspOptions({ notch: v.notch, bandpass: v.bandpass, montage: v.montage, resample: v.resample, badChannels: v['bad-channels'] });
  } catch (e) {
    throw new UsageError(`neurox run: ${(e as Error).message}`);
  }
  decoderChoice('run', v);
  const electrodes = loadElectrodeTable('run', v);
  const host = v.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('neurox run: --host: empty address');
  const tokens = [...(v.token ?? [])];
  if (v['token-file']) {
    let read: string[];
    try {
      read = readFileSync(v['token-file'], 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    } catch (e) {
      throw new UsageError(`neurox run: --token-file: ${(e as Error).message}`);
    }
    // An empty file must not quietly fall back to tokens made at start.
    if (read.length === 0) throw new UsageError(`neurox run: --token-file: ${v['token-file']} holds no token`);
    tokens.push(...read);
  }
  if (tokens.some((t) => parseToken(t).token.length < 16)) throw new UsageError('neurox run: --token: tokens must be at least 16 characters');
  const lr = v['loopback-role'] ?? 'observer';
  if (lr !== 'none' && !(ROLES as readonly string[]).includes(lr)) throw new UsageError(`neurox run: --loopback-role: expected none or one of ${ROLES.join(', ')}`);
  const hop = num('hop', v.hop, 0.08, (x) => x > 0 && x <= 2);
  return {
    dsp,
    electrodes,
    seed: num('seed', v.seed, 1, Number.isInteger),
    hop,
    window: num('window', v.window, 1.0, (x) => x > 0 && x <= 30),
    abstainBelow: num('abstain-below', v['abstain-below'], 0, (x) => x >= 0 && x <= 1),
    maxFrameAge: v['max-frame-age'] === undefined ? undefined : num('max-frame-age', v['max-frame-age'], 0, (x) => x > 0 && x <= 60),
    healthEvery: num('health-every', v['health-every'], 10, (x) => x >= 0.5 && x <= 3600),
    port: num('port', v.port, 8765, (x) => Number.isInteger(x) && x >= 0 && x < 65536),
    host,
    tokens,
    rate: num('max-client-rate', v['max-client-rate'], DEFAULT_CLIENT_LIMITS.messagesPerSecond, (x) => x > 0 && x <= 1e6),
    file: v['no-record'] ? undefined : (v.record ?? defaultRecordingPath()),
  };
}

/** Role tokens made at start when none were given: printed once, kept in a file only the user can read. */
function makeRoleTokens(): RoleToken[] {
  const made = (['operator', 'clinician'] as Role[]).map((role) => ({ role, token: randomBytes(24).toString('base64url') }));
  mkdirSync('.neurox', { recursive: true, mode: 0o700 });
  writeFileSync('.neurox/tokens', made.map((t) => `${t.role}:${t.token}\n`).join(''), { mode: 0o600 });
  // mode applies only when the file is created: an older file keeps its bits otherwise.
  chmodSync('.neurox/tokens', 0o600);
  return made;
}

export interface StartHooks {
  /** Runs once the options are valid and the port is bound, before any decoder is loaded (start: spawn the simulator). */
  afterBind?: (port: number) => void | Promise<void>;
}

/** Build and start a session from parsed `run` options (recording it unless `no-record`). */
export async function startFromOptions(v: RunValues, hooks: StartHooks = {}): Promise<RunningSession & { recording?: string }> {
  const p = plan(v);
  // Beyond loopback every client needs a token; without configured ones, the role tokens below are made.
  if (!isLoopbackHost(p.host)) log.warn({ host: p.host }, 'listening beyond loopback: every client must present a token');
  const tokens: RoleToken[] = p.tokens.map(parseToken);
  if (tokens.length === 0) {
    tokens.push(...makeRoleTokens());
    process.stdout.write(`neurox: tokens for feedback and controls (also in .neurox/tokens): ${tokens.map((t) => `${t.role}:${t.token}`).join('  ')}\n`);
  }
  const server = new IntentServer({
    port: p.port,
    host: p.host,
    hello: () => ({ server: 'neurox', model: { name: 'none', labels: [], backend: 'js' }, streams: [] }),
    allowedOrigins: v['allow-origin'],
    tokens,
    loopbackRole: (v['loopback-role'] ?? 'observer') as Role | 'none',
    routes: [dashboardRoute()],
    limits: { messagesPerSecond: p.rate, burst: Math.max(DEFAULT_CLIENT_LIMITS.burst, 2 * p.rate) },
  });
  // The port first: a taken port fails before anything is spawned, loaded or written.
  await server.listen();
  let rec: SessionRecorder | undefined;
  try {
    await hooks.afterBind?.(server.port);
    let decoder: FrameDecoder | undefined = await loadDecoder('run', v);
    if (!decoder && v['calibrate-sim']) decoder = new BaselineFrameDecoder(calibrateFromSimulator(v['calibrate-sim'], p.seed, p.dsp));
    const { hop, window, abstainBelow, file } = p;
    const headerFields = { neurox_hop: String(hop), neurox_window: String(window), neurox_abstain_below: String(abstainBelow), neurox_dsp: JSON.stringify(p.dsp) };
    // Open the recorder before the session: no acquired chunk may arrive before it listens.
    rec = file
      ? await SessionRecorder.open(file, { headerFields })
      : undefined;
    const s = await runSession({
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
      server,
      hop,
      window,
      dsp: p.dsp,
      decoder,
      saveProfile: v['save-profile'],
      abstainBelow,
      maxFrameAge: p.maxFrameAge,
      mapStream: electrodeMapper(p.electrodes),
      healthEvery: p.healthEvery,
    });
    if (v['lsl-outlet']) {
      const outlet = new IntentOutlet({ probabilities: !!v['lsl-probs'], sourceId: `neurox-intents-${process.pid}` });
      s.onIntent((i) => outlet.push(i));
      const stop1 = s.stop.bind(s);
      s.stop = async () => (await stop1(), outlet.close());
    }
    const dec = s.pipeline.decoder;
    const source = v.profile ? `profile:${v.profile}` : v['calibrate-sim'] ? `calibrate-sim:${v['calibrate-sim']}` : dec.ready ? 'model' : 'live-calibration';
    // The recording can be stopped and started again by an operator's control; `cur` is the open one.
    let cur: SessionRecorder | undefined;
    const opened = new Map<string, Chunk>();
    const attach = (r: SessionRecorder, midSession: boolean) => {
      cur = r;
      // A recording started mid-session needs the stream headers it did not see.
      if (midSession) for (const c of opened.values()) r.write(c);
      // A recording that fails is a lasting warning for every app until it resumes.
      r.on('failed', (f) => {
        if (cur !== r) return;
        s.setWarning('recording', `recording failed: ${f.error}`, { recording: { file: f.file, state: 'failed', error: f.error } });
        s.event({ kind: 'recording', action: 'failed', detail: f.error });
      });
      r.on('resumed', (f) => {
        if (cur !== r) return;
        s.setWarning('recording', undefined, { recording: { file: f.file, state: 'recording' } });
        s.event({ kind: 'recording', action: 'resumed', detail: f.file });
      });
      s.setWarning('recording', undefined, { recording: { file: r.path, state: 'recording' } });
      r.event({ type: 'session-start', hop, window, abstainBelow, decoder: dec.name, source });
      if (dec.ready) r.saveDecoder(dec);
      log.info({ file: r.path }, 'recording the session');
    };
    s.onRawChunk((c) => {
      if (c.kind === 'stream') opened.set(c.stream, c);
      cur?.write(c);
    });
    s.onIntent((i) => cur?.intent(i));
    s.onFeedback((f) => cur?.event({ type: 'feedback', ...f }, f.receivedAt));
    s.onBadChannel((e) => cur?.event({ ...e, type: 'bad-channel' }));
    const finish = async () => {
      const r = cur;
      if (!r) return;
      cur = undefined;
      // A decoder calibrated live during the session is saved with the recording too.
      if (!decoder && dec.ready) r.saveDecoder(dec);
      r.event({ type: 'session-stop' });
      await r.close();
    };
    if (rec) attach(rec, false);
    s.onControl('record.start', async () => {
      if (cur) throw new Error(`already recording to ${cur.path}`);
      const r = await SessionRecorder.open(defaultRecordingPath(), { headerFields });
      attach(r, true);
      s.event({ kind: 'recording', action: 'started', detail: r.path });
    });
    s.onControl('record.stop', async () => {
      if (!cur) throw new Error('not recording');
      const path = cur.path;
      await finish();
      s.setWarning('recording', undefined, { recording: { file: path, state: 'stopped' } });
      s.event({ kind: 'recording', action: 'stopped', detail: path });
    });
    const stop = s.stop.bind(s);
    let stopped: Promise<void> | undefined;
    const stopAll = () =>
      (stopped ??= (async () => {
        await stop();
        await finish();
      })());
    // An uncaught error anywhere still stops the inlets and closes the file with its footers.
    const off = onFatal('session', stopAll);
    return Object.assign(s, { ...(file ? { recording: file } : {}), stop: async () => (off(), await stopAll()) });
  } catch (e) {
    await server.close();
    await rec?.close();
    throw e;
  }
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
    process.stdout.write(HELP());
    return 0;
  }
  const duration = values.duration === undefined ? undefined : num('duration', values.duration, 0, (x) => x > 0);
  const s = await startFromOptions(values);
  injectFaultFromEnv();
  process.stdout.write(`neurox: intents on ws://${values.host ?? '127.0.0.1'}:${s.port} (msgpack; subprotocol neurox.v1.json for JSON)\n`);
  if (s.recording) process.stdout.write(`neurox: recording to ${s.recording}\n`);
  const why = await untilStopped(duration);
  log.info({ why }, 'stopping');
  await s.stop();
  return 0;
}
