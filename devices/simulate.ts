/**
 * Publish a simulated device as REAL LSL outlets: one signal stream (float32, channel
 * metadata in desc) and one irregular string marker stream with the cue schedule.
 *
 * Pacing: a timer wakes every `chunkMs`; each wake pushes every whole chunk whose last
 * sample time t0 + i/srate has passed on the LSL clock, so timer lateness is caught up
 * and the long-run rate is exact. Timestamps are t0 + sampleIndex / srate, per sample.
 */
import { StreamOutlet, localClock } from '../adapters/lsl/index.ts';
import { logger } from '../src/log.ts';
import { counterProfile, getProfile, type DeviceProfile, type Paradigm } from './profiles.ts';
import { SignalGenerator, type GeneratorOptions } from './signal-model.ts';

const log = logger('devices.simulate');

export interface SimulatorOptions {
  /** Profile name (see PROFILES) or a profile object. */
  profile: string | DeviceProfile;
  paradigm?: Paradigm;
  /** Default 1. */
  seed?: number;
  /** `counter` profile only: total channel count including COUNTER (default 256). */
  channels?: number;
  /** Override the sampling rate (any numeric profile; default: the profile's). */
  srate?: number;
  /** Chunk length in ms (default 20). */
  chunkMs?: number;
  /** Publish the marker stream (default true). */
  markers?: boolean;
  /** LSL source_id of the signal stream (markers: `${sourceId}-markers`). */
  sourceId?: string;
  /** LSL stream name (default `neurox-sim-<profile>`; markers: `<name>-markers`). */
  name?: string;
  /** Start time on the LSL clock (default: now). Share it between simulators to align them. */
  t0?: number;
  /** Stop by itself after this many seconds of stream time. */
  durationSec?: number;
  /** Generator options (artifacts, dropout, lineFreq, counterChannel, schedule, annotate). */
  generator?: Omit<GeneratorOptions, 'seed' | 'paradigm'>;
}

export interface PublishedStream {
  name: string;
  sourceId: string;
  type: string;
  channelCount: number;
  srate: number;
}

export interface Simulator {
  streams: PublishedStream[];
  /** LSL time of sample 0. */
  t0: number;
  /** Resolves when the simulator stops (stop() or durationSec). */
  done: Promise<void>;
  /** Samples pushed so far (markers profile: virtual 1 kHz ticks). */
  samplesPushed(): number;
  stop(): Promise<void>;
}

/** Resolve the profile for the given options (counter factory, srate override). */
export function resolveProfile(opts: Pick<SimulatorOptions, 'profile' | 'channels' | 'srate'>): DeviceProfile {
  let p = typeof opts.profile === 'string' ? getProfile(opts.profile) : opts.profile;
  if (p.name === 'counter' && (opts.channels !== undefined || opts.srate !== undefined)) {
    p = counterProfile(opts.channels ?? p.channels.length + 1, opts.srate ?? p.srate);
  } else {
    if (opts.channels !== undefined) throw new Error(`'channels' can only be set for the 'counter' profile (got profile '${p.name}')`);
    if (opts.srate !== undefined) {
      if (p.kind === 'markers') throw new Error(`the markers profile is irregular; 'srate' cannot be set`);
      if (!(opts.srate > 0)) throw new Error(`srate must be > 0 (got ${opts.srate})`);
      p = { ...p, srate: opts.srate };
    }
  }
  return p;
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const profile = resolveProfile(opts);
  const seed = opts.seed ?? 1;
  const paradigm = opts.paradigm ?? profile.defaultParadigm;
  const gen = new SignalGenerator(profile, { ...(opts.generator ?? {}), seed, paradigm });
  const chunkMs = opts.chunkMs ?? 20;
  if (!(chunkMs > 0 && chunkMs <= 1000)) throw new Error(`chunkMs must be in (0, 1000] (got ${chunkMs})`);
  const isMarkers = profile.kind === 'markers';
  const srate = gen.srate;
  const chunkN = Math.max(1, Math.round((chunkMs / 1000) * srate));
  const name = opts.name ?? `neurox-sim-${profile.name}`;
  const sourceId = opts.sourceId ?? `neurox-sim-${profile.name}-${seed}`;
  const desc: Record<string, string> = {
    manufacturer: 'neurox',
    model: `simulator/${profile.name}`,
    paradigm,
    seed: String(seed),
    posUnit: profile.posUnit,
    description: profile.description,
  };

  const streams: PublishedStream[] = [];
  let signal: StreamOutlet | undefined;
  let markers: StreamOutlet | undefined;
  try {
    if (!isMarkers) {
      signal = new StreamOutlet({
        name,
        type: profile.streamType,
        channelCount: gen.channels.length,
        srate,
        format: 'float32',
        sourceId,
        channels: gen.channels,
        desc,
        chunkSize: chunkN,
      });
      streams.push({ name, sourceId, type: profile.streamType, channelCount: gen.channels.length, srate });
    }
    if (isMarkers || opts.markers !== false) {
      const mName = isMarkers ? name : `${name}-markers`;
      const mId = isMarkers ? sourceId : `${sourceId}-markers`;
      markers = new StreamOutlet({ name: mName, type: 'Markers', channelCount: 1, srate: 0, format: 'string', sourceId: mId, desc });
      streams.push({ name: mName, sourceId: mId, type: 'Markers', channelCount: 1, srate: 0 });
    }
  } catch (e) {
    signal?.close();
    markers?.close();
    throw e;
  }

  const t0 = opts.t0 ?? localClock();
  const endSample = opts.durationSec !== undefined ? Math.round(opts.durationSec * srate) : Infinity;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const C = gen.channels.length;
  const buf = new Float32Array(chunkN * C);
  const ts = new Float64Array(chunkN);

  const pushMarkers = (ev = gen.events()): void => {
    if (!markers || ev.length === 0) return;
    const stamps = new Float64Array(ev.length);
    for (let i = 0; i < ev.length; i++) stamps[i] = t0 + ev[i].sampleIndex / srate;
    markers.pushStrings(ev.map((e) => e.label), stamps);
  };

  const tick = (): void => {
    timer = undefined;
    if (stopped) return;
    try {
      const due = Math.min(endSample, Math.floor((localClock() - t0) * srate) + 1); // samples with time ≤ now
      let chunks = 0;
      while (sent + chunkN <= due || (due === endSample && sent < endSample)) {
        const n = Math.min(chunkN, endSample - sent);
        if (isMarkers) {
          pushMarkers(gen.advanceTo(sent + n));
        } else {
          const out = n === chunkN ? buf : buf.subarray(0, n * C);
          gen.nextInto(out, n);
          const stamps = n === chunkN ? ts : ts.subarray(0, n);
          for (let i = 0; i < n; i++) stamps[i] = t0 + (sent + i) / srate;
          signal!.pushChunk(out, stamps);
        }
        sent += n;
        pushMarkers();
        if (++chunks >= 500) break; // very late (suspended process): yield, continue next tick
      }
      if (sent >= endSample) {
        void stop();
        return;
      }
      const nextDue = t0 + (sent + chunkN - 1) / srate;
      const delay = chunks >= 500 ? 0 : Math.max(0, (nextDue - localClock()) * 1000);
      timer = setTimeout(tick, delay);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'simulator push failed; stopping');
      void stop();
    }
  };

  const stop = async (): Promise<void> => {
    if (stopped) return done;
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    signal?.close();
    markers?.close();
    log.info({ profile: profile.name, samples: sent }, 'simulator stopped');
    resolveDone();
    return done;
  };

  log.info({ profile: profile.name, paradigm, seed, srate, channels: C, chunkN, streams }, 'simulator started');
  timer = setTimeout(tick, Math.max(0, (t0 + (chunkN - 1) / srate - localClock()) * 1000));
  return { streams, t0, done, samplesPushed: () => sent, stop };
}
