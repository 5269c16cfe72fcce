/**
 * `neurox run`: LSL streams → clock → frames → decoder → intents on a WebSocket.
 * One direction of data flow; the decoder is calibrated live from cue markers,
 * from a labelled recording, or loaded from a saved profile.
 */
import { merge, type Subscription } from 'rxjs';
import { lslSource } from '../../adapters/lsl/source.ts';
import type { StreamQuery } from '../../adapters/lsl/resolve.ts';
import { IntentServer } from '../../adapters/ws/server.ts';
import { Framer, type Frame } from '../align/framer.ts';
import { clock } from '../clock/clock.ts';
import { BaselineDecoder, type BaselineOptions } from '../decode/baseline.ts';
import { CalibrationCollector, type CalibrationOptions } from '../decode/calibration.ts';
import { logger } from '../log.ts';
import type { Chunk, Intent, StreamMeta } from '../types.ts';
import { localClock } from '../util/clock.ts';
import { collectFrame, fitFromCollector } from './calibrate.ts';

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
  /** A calibrated decoder (from a profile or a recording); otherwise calibrate live. */
  decoder?: BaselineDecoder;
  decoderOptions?: BaselineOptions;
  calibration?: CalibrationOptions;
  /** Where to save the decoder profile after live calibration. */
  saveProfile?: string;
  /** Intents with confidence below this are marked abstained. */
  abstainBelow?: number;
  /** Seconds to wait for the signal stream before failing (default: forever). */
  resolveTimeout?: number;
}

export interface RunningSession {
  port: number;
  server: IntentServer;
  /** Called for every intent emitted (in addition to the socket). */
  onIntent(fn: (i: Intent) => void): void;
  onChunk(fn: (c: Chunk) => void): void;
  decoder: BaselineDecoder;
  streams: Map<string, StreamMeta>;
  stop(): Promise<void>;
}

export async function runSession(opts: RunOptions = {}): Promise<RunningSession> {
  const decoder = opts.decoder ?? new BaselineDecoder(opts.decoderOptions);
  const streams = new Map<string, StreamMeta>();
  const server = new IntentServer({
    port: opts.port,
    host: opts.host,
    hello: () => ({
      server: 'neurox 0.1.0',
      model: { name: decoder.name, labels: decoder.labels, backend: 'js' },
      streams: [...streams.entries()].map(([id, m]) => ({ id, name: m.name, type: m.type, channels: m.channelCount, srate: m.srate })),
    }),
  });
  const port = await server.listen();
  server.sendStatus({ state: 'waiting-for-streams' });
  const intentFns: ((i: Intent) => void)[] = [];
  const chunkFns: ((c: Chunk) => void)[] = [];

  const signal$ = lslSource(opts.signal ?? { prop: 'type', value: 'EEG' }, { resolveTimeout: opts.resolveTimeout });
  const markers$ = opts.markers === null ? [] : [lslSource(opts.markers ?? { prop: 'type', value: 'Markers' })];
  const col = new CalibrationCollector(opts.calibration);
  let seq = 0;
  let lastReport = 0;
  let emitted = 0;

  const onFrame = (f: Frame) => {
    if (!decoder.calibrated) {
      collectFrame(decoder, col, f);
      if (col.ended) {
        try {
          const p = fitFromCollector(decoder, col, f);
          log.info({ trainAccuracy: p.trainAccuracy, counts: col.counts(), shrinkage: p.lda.shrinkage }, 'decoder calibrated');
          if (opts.saveProfile) decoder.save(opts.saveProfile);
          server.sendStatus({ state: 'running' });
        } catch (e) {
          log.error({ err: (e as Error).message }, 'calibration failed; still collecting');
          col.ended = false;
        }
      }
      return;
    }
    const x = decoder.features(f);
    if (!x) return;
    const d = decoder.decodeFeatures(x);
    const tEmit = localClock();
    const intent: Intent = {
      seq: seq++,
      label: d.label,
      probs: d.probs,
      confidence: d.confidence,
      tFrame: f.tEnd,
      tEmit,
      latencyMs: (tEmit - f.arrivedAt) * 1000,
      model: decoder.name,
      abstained: d.confidence < (opts.abstainBelow ?? 0),
    };
    server.sendIntent(intent);
    emitted++;
    for (const fn of intentFns) fn(intent);
    if (tEmit - lastReport > 5) {
      lastReport = tEmit;
      log.info({ seq: intent.seq, label: intent.label, confidence: +intent.confidence.toFixed(3), latencyMs: +intent.latencyMs.toFixed(2), emitted }, 'intents flowing');
    }
  };

  const chunks$ = merge(signal$, ...markers$);
  const tap = (c: Chunk) => {
    if (c.kind === 'stream') {
      streams.set(c.stream, c.meta);
      if (!decoder.calibrated) server.sendStatus({ state: 'calibrating', detail: 'waiting for calib:end on the marker stream' });
      else server.sendStatus({ state: 'running' });
    }
    for (const fn of chunkFns) fn(c);
  };
  // One subscription: chunks → clock → (observers) → framer → decoder → socket.
  const framer = new Framer({ hop: opts.hop, window: opts.window });
  const tick = setInterval(() => framer.drain().forEach(onFrame), 20);
  const sub: Subscription = chunks$.pipe(clock()).subscribe({
    next: (c) => {
      tap(c);
      const arrived = c.kind === 'signal' ? c.arrivedAt : undefined;
      for (const f of framer.push(c, arrived)) onFrame(f);
    },
    error: (e) => log.error({ err: (e as Error).message }, 'acquisition failed'),
  });
  return {
    port,
    server,
    decoder,
    streams,
    onIntent: (fn) => intentFns.push(fn),
    onChunk: (fn) => chunkFns.push(fn),
    async stop() {
      clearInterval(tick);
      sub.unsubscribe();
      server.sendStatus({ state: 'stopped' });
      await server.close();
    },
  };
}
