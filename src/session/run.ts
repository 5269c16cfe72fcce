/**
 * `neurox run`: LSL streams → acquire → Pipeline (clock → align → decode) → intents
 * on a WebSocket. Raw acquired chunks can be observed (recording) before the clock.
 */
import { merge, type Subscription } from 'rxjs';
import { closeAllInlets, lslSource } from '../../adapters/lsl/source.ts';
import type { StreamQuery } from '../../adapters/lsl/resolve.ts';
import { IntentServer, type ClientLimits } from '../../adapters/ws/server.ts';
import type { ControlAction, EventMessage, StatusMessage } from '../../adapters/ws/protocol.ts';
import { HealthTracker } from '../../adapters/ws/health.ts';
import type { BaselineDecoder, BaselineOptions } from '../decode/baseline.ts';
import type { DspOptions } from '../dsp/chain.ts';
import type { CalibrationOptions } from '../decode/calibration.ts';
import { logger } from '../log.ts';
import type { Chunk, Intent, StreamMeta } from '../types.ts';
import type { FrameDecoder } from '../decode/frame-decoder.ts';
import type { FeedbackRecord } from '../adapt/stage.ts';
import type { BadChannelEvent } from '../dsp/badchannels.ts';
import { SERVER_NAME } from '../version.ts';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { localClock } from '../util/clock.ts';
import { Pipeline, type PipelineOutput } from './pipeline.ts';

const log = logger('session');

export interface RunOptions {
  /** Which signal streams to decode (default: type='EEG'). */
  signal?: StreamQuery;
  /** Marker streams (cues, labels); default type='Markers'. `null` to ignore markers. */
  markers?: StreamQuery | null;
  port?: number;
  host?: string;
  hop?: number;
  window?: number;
  /** The dsp stage between clock and align (none by default). */
  dsp?: DspOptions;
  /** The decoder: a FrameDecoder (DIVER-S, any ONNX step model, …) or a calibrated baseline; otherwise the baseline calibrates live. */
  decoder?: FrameDecoder | BaselineDecoder;
  decoderOptions?: BaselineOptions;
  calibration?: CalibrationOptions;
  /** Where to save the decoder profile once the decoder is ready (after live calibration, or at start). */
  saveProfile?: string;
  /** Intents with confidence below this are marked abstained. */
  abstainBelow?: number;
  /** Seconds to wait for the signal stream before failing (default: forever). */
  resolveTimeout?: number;
  /** A server already listening (so the port is checked before anything else starts); else one is made. */
  server?: IntentServer;
  /** Origins allowed besides this machine's pages, tokens and per-client limits for a server made here. */
  allowedOrigins?: string[];
  tokens?: string[];
  clientLimits?: Partial<ClientLimits>;
  /** Oldest a frame may be when decoded (s); see PipelineOptions.maxFrameAge. */
  maxFrameAge?: number;
  /** Seconds between health summaries (log line; status again while a warning lasts). Default 10. */
  healthEvery?: number;
  /**
   * Rewrites a stream's metadata before the pipeline sees it (e.g. electrode
   * positions from a BIDS electrodes.tsv); the recording keeps the stream as acquired.
   */
  mapStream?: (meta: StreamMeta) => StreamMeta;
  /** Seconds between `health` topic messages (default 1; each client gets them at its rate up to this). */
  healthTopicEvery?: number;
}

/** What a control action does in this session; throw to refuse it with a reason. */
export type ControlFn = () => void | Promise<void>;

export interface RunningSession {
  port: number;
  server: IntentServer;
  pipeline: Pipeline;
  /** Called for every intent emitted (in addition to the socket). */
  onIntent(fn: (i: Intent) => void): void;
  /** Called for every app feedback, matched to its intent by the adapt stage. */
  onFeedback(fn: (f: FeedbackRecord) => void): void;
  /** Called when the bad-channel detector flags or clears a channel. */
  onBadChannel(fn: (e: BadChannelEvent) => void): void;
  /** Called for every acquired chunk before the clock stage (what a recorder stores). */
  onRawChunk(fn: (c: Chunk) => void): void;
  streams: Map<string, StreamMeta>;
  /**
   * Set (or clear, with undefined) a lasting problem that apps must know about:
   * sent at once in a status, and again with every health summary while it lasts.
   */
  setWarning(key: string, text: string | undefined, extra?: Partial<StatusMessage>): void;
  /** Handle a control action (recording, calibration, outputs); adaptation is handled here. */
  onControl(action: ControlAction, fn: ControlFn): void;
  /** Publish an event (calibration, adaptation, safety, recording) to apps. */
  event(e: Omit<EventMessage, 'type' | 't'>): void;
  stop(): Promise<void>;
}

/** Write a decoder profile (JSON) where the user asked for it. */
export function writeProfile(path: string, profile: object): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(profile, null, 1));
}

export async function runSession(opts: RunOptions = {}): Promise<RunningSession> {
  const streams = new Map<string, StreamMeta>();
  const rawFns: ((c: Chunk) => void)[] = [];
  let sendStatusRef: ((s: Omit<StatusMessage, 'type'>) => void) | undefined;
  let sessionRef: RunningSession | undefined;
  let eventRef: ((e: Omit<EventMessage, 'type' | 't'>) => void) | undefined;
  const saveProfile = (d: FrameDecoder) => {
    const p = opts.saveProfile && d.profile();
    if (p) writeProfile(opts.saveProfile!, p);
  };
  const pipeline = new Pipeline({
    hop: opts.hop,
    window: opts.window,
    dsp: opts.dsp,
    decoder: opts.decoder,
    decoderOptions: opts.decoderOptions,
    calibration: opts.calibration,
    abstainBelow: opts.abstainBelow,
    maxFrameAge: opts.maxFrameAge,
    onCalibrated: (d) => {
      saveProfile(d);
      sendStatusRef?.({ state: 'running' });
      eventRef?.({ kind: 'calibration', action: 'finished', detail: d.name });
    },
  });
  const decoder = pipeline.decoder;
  if (decoder.ready) saveProfile(decoder);
  const hello = () => ({
    server: SERVER_NAME,
    model: { name: decoder.name, labels: decoder.labels, backend: decoder.backend },
    streams: [...streams.entries()].map(([id, m]) => ({ id, name: m.name, type: m.type, channels: m.channelCount, srate: m.srate })),
  });
  let server: IntentServer;
  if (opts.server) {
    server = opts.server;
    server.setHello(hello);
  } else {
    server = new IntentServer({ port: opts.port, host: opts.host, hello, allowedOrigins: opts.allowedOrigins, tokens: opts.tokens, limits: opts.clientLimits });
    await server.listen();
  }
  const srv = server;
  const port = srv.port;
  eventRef = (e) => srv.sendEvent(e);
  // Health for the `health` topic; controls: adaptation here, the rest from whoever registers them.
  const healthTracker = new HealthTracker((id) => pipeline.badChannels(id));
  const controls = new Map<ControlAction, ControlFn>();
  const adaptation = () => ({ frozen: pipeline.adapt.state.frozen, feedback: pipeline.adapt.state.received, heads: pipeline.adapt.state.heads.length });
  srv.setControl(async (m, role) => {
    const a = m.action;
    if (a === 'adaptation.freeze' || a === 'adaptation.unfreeze' || a === 'adaptation.reset') {
      if (a === 'adaptation.reset') pipeline.adapt.reset();
      else pipeline.adapt.freeze(a === 'adaptation.freeze');
      srv.sendEvent({ kind: 'adaptation', action: a === 'adaptation.reset' ? 'reset' : a === 'adaptation.freeze' ? 'frozen' : 'unfrozen', by: role });
      sendStatus(state);
      return;
    }
    const fn = controls.get(a);
    if (!fn) throw new Error('not configured in this session');
    await fn();
  });
  // The last state sent, so warnings can be attached to it and re-sent.
  let state: Omit<StatusMessage, 'type' | 'warnings' | 'staleFrames'> = { state: 'waiting-for-streams' };
  const warnings = new Map<string, string>();
  let statusExtra: Partial<StatusMessage> = {};
  const sendStatus = (s: Omit<StatusMessage, 'type'>) => {
    state = s;
    srv.sendStatus({
      ...statusExtra, ...s, adaptation: adaptation(),
      ...(warnings.size ? { warnings: [...warnings.values()] } : {}),
      ...(pipeline.staleFrames ? { staleFrames: pipeline.staleFrames } : {}),
    });
  };
  sendStatusRef = sendStatus;
  sendStatus({ state: 'waiting-for-streams' });
  const readyState = (): Omit<StatusMessage, 'type'> =>
    decoder.ready ? { state: 'running' } : { state: 'calibrating', detail: 'waiting for calib:end on the marker stream' };

  // The emit stage's sinks: the socket, then whoever listens (recorder, terminal).
  let lastReport = 0;
  let emitted = 0;
  pipeline.onIntent((i) => {
    srv.sendIntent(i);
    healthTracker.intent(i);
    emitted++;
    if (i.tEmit - lastReport > 5) {
      lastReport = i.tEmit;
      log.info({ seq: i.seq, label: i.label, confidence: +i.confidence.toFixed(3), latencyMs: +i.latencyMs.toFixed(2), emitted }, 'intents flowing');
    }
  });
  // Feedback from apps goes into the adapt stage, matched with its intent.
  srv.on('feedback', (m) => pipeline.feedback(m));
  // Bad channels are a lasting warning while any is bad.
  pipeline.onBadChannel((e) => {
    const bad = pipeline.badChannels(e.stream);
    log.warn({ stream: e.stream, label: e.label, bad: e.bad, reasons: e.reasons }, e.bad ? 'bad channel' : 'channel recovered');
    sessionRef?.setWarning(`bad-channels:${e.stream}`, bad.length ? `bad channels on ${e.stream}: ${bad.join(', ')}` : undefined);
  });
  // Channel metadata as the pipeline sees it (after mapStream), per stream.
  const mapped = new Map<string, StreamMeta>();

  // Apps hear about dropped stale frames at once (at most once a second), not only in the health summary.
  let staleSent = 0;
  let staleSentAt = -Infinity;
  const afterPush = () => {
    if (pipeline.staleFrames !== staleSent && localClock() - staleSentAt >= 1) {
      staleSent = pipeline.staleFrames;
      staleSentAt = localClock();
      sendStatus(state);
    }
  };

  // Apps are told when the signal stream is lost and when it is back: never a silent stall.
  const onStatus = (e: { stream: string; state: 'lost' | 'resumed' | 'opened' }) => {
    if (e.state === 'lost') sendStatus({ state: 'stream-lost', detail: `no samples from ${e.stream}` });
    if (e.state === 'resumed') sendStatus(readyState());
  };
  const signal$ = lslSource(opts.signal ?? { prop: 'type', value: 'EEG' }, { resolveTimeout: opts.resolveTimeout, onStatus });
  const markers$ = opts.markers === null ? [] : [lslSource(opts.markers ?? { prop: 'type', value: 'Markers' })];
  const tick = setInterval(() => (pipeline.tick(), afterPush()), 20);
  // Health summary: one log line per interval, and the status again while a problem lasts.
  let lastStale = 0;
  const health = setInterval(() => {
    const stale = pipeline.staleFrames;
    log.info({ state: state.state, intents: emitted, staleFrames: stale, newStale: stale - lastStale, feedback: pipeline.adapt.state.received, ...srv.stats(), warnings: [...warnings.values()] }, 'health');
    if (warnings.size > 0 || stale !== lastStale) sendStatus(state);
    lastStale = stale;
  }, (opts.healthEvery ?? 10) * 1000);
  health.unref();
  const healthTopic = setInterval(() => srv.sendHealth(healthTracker.snapshot(localClock(), state.state)), (opts.healthTopicEvery ?? 1) * 1000);
  healthTopic.unref();
  const sub: Subscription = merge(signal$, ...markers$).subscribe({
    next: (c) => {
      for (const fn of rawFns) fn(c);
      healthTracker.chunk(c);
      let k = c;
      if (c.kind === 'stream') {
        const meta = opts.mapStream ? opts.mapStream(c.meta) : c.meta;
        mapped.set(c.stream, meta);
        streams.set(c.stream, meta);
        k = { ...c, meta };
        sendStatus(readyState());
      } else if (c.kind === 'signal' && opts.mapStream) {
        const meta = mapped.get(c.stream);
        if (meta && meta.channels.length === c.channels.length) k = { ...c, channels: meta.channels };
      }
      const out = pipeline.push(k);
      // The `signal` topic plots what the decoder sees: after the clock and dsp stages.
      for (const o of out.chunks) if (o.kind === 'signal') srv.signal.push(o.stream, o.channels.map((ch, j) => ch.label || `ch${j + 1}`), o.srate, o.data, o.timestamps);
      afterPush();
    },
    error: (e) => log.error({ err: (e as Error).message }, 'acquisition failed'),
  });
  const session: RunningSession = {
    port,
    server: srv,
    pipeline,
    streams,
    onIntent: (fn) => pipeline.onIntent(fn),
    onFeedback: (fn) => pipeline.onFeedback(fn),
    onBadChannel: (fn) => pipeline.onBadChannel(fn),
    onRawChunk: (fn) => rawFns.push(fn),
    setWarning(key, text, extra) {
      const had = warnings.get(key);
      if (text === undefined) warnings.delete(key);
      else warnings.set(key, text);
      if (extra) statusExtra = { ...statusExtra, ...extra };
      if (had !== text || extra) sendStatus(state);
    },
    onControl: (action, fn) => void controls.set(action, fn),
    event: (e) => srv.sendEvent(e),
    async stop() {
      clearInterval(tick);
      clearInterval(health);
      clearInterval(healthTopic);
      srv.setControl(undefined);
      sub.unsubscribe();
      await pipeline.settled();
      sendStatus({ state: 'stopped' });
      await srv.close();
      await closeAllInlets();
      await decoder.close();
    },
  };
  sessionRef = session;
  return session;
}
