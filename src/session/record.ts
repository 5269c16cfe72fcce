/**
 * The recorder: every acquired chunk (before the clock stage) into an XDF file,
 * the way LabRecorder writes it, plus three neurox streams:
 *
 * - `neurox-gaps`    (type `neurox.gaps`): one JSON GapEvent per sample, timestamp = tStart
 *                     (the stream's own clock, like its samples);
 * - `neurox-intents` (type `neurox.intents`): one JSON Intent per sample, timestamp = tEmit;
 * - `neurox-events`  (type `neurox.events`): adaptation / safety / session events (JSON).
 *
 * Acquired streams keep their full LSL info XML as StreamHeader, samples in their
 * native format (the chunk's `raw` array when the stream is double or integer),
 * marker strings as they arrived, and every lsl_time_correction measurement as a
 * ClockOffset chunk. A stream that is re-opened after a loss keeps its XDF stream.
 *
 * Appends only encode into memory; XdfWriter writes in the background, so the
 * recorder never blocks acquisition.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { XdfWriter, type XdfWriterOptions, type XdfWriterStats } from '../../adapters/xdf/index.ts';
import type { BaselineDecoder } from '../decode/baseline.ts';
import { logger } from '../log.ts';
import type { Chunk, GapEvent, Intent, StreamId, StreamMeta } from '../types.ts';
import { localClock } from '../util/clock.ts';

const log = logger('recorder');

/** Names and types of the streams the recorder adds itself (replay does not feed them to the pipeline). */
export const NEUROX_STREAMS = {
  gaps: { name: 'neurox-gaps', type: 'neurox.gaps' },
  intents: { name: 'neurox-intents', type: 'neurox.intents' },
  events: { name: 'neurox-events', type: 'neurox.events' },
} as const;

/** Streams whose type starts with this prefix were written by neurox, not acquired. */
export const NEUROX_TYPE_PREFIX = 'neurox.';

/** The decoder profile saved next to a recording. */
export function profilePathFor(file: string): string {
  return `${file}.decoder.json`;
}

/** A session event for `neurox-events` (adaptation, safety, session life cycle). */
export interface SessionEvent {
  type: string;
  [k: string]: unknown;
}

export interface RecorderOptions extends XdfWriterOptions {
  /** Session id written to the file header. */
  session?: string;
}

export interface RecorderStats extends XdfWriterStats {
  streams: number;
  signalSamples: number;
  markers: number;
  clockOffsets: number;
  gaps: number;
  intents: number;
  events: number;
  /** Chunks that could not be written (unknown stream, shape mismatch); logged. */
  dropped: number;
}

export class SessionRecorder {
  private readonly ids = new Map<StreamId, number>();
  private readonly metas = new Map<StreamId, StreamMeta>();
  private gapsId: number;
  private intentsId: number;
  private eventsId: number;
  private closing: Promise<void> | undefined;
  private failed = false;
  private n = { signalSamples: 0, markers: 0, clockOffsets: 0, gaps: 0, intents: 0, events: 0, dropped: 0 };

  private constructor(
    readonly path: string,
    private readonly w: XdfWriter,
  ) {
    const own = (s: { name: string; type: string }) =>
      w.addStream({ info: { name: s.name, type: s.type, channel_count: 1, nominal_srate: 0, channel_format: 'string', source_id: s.name } });
    this.gapsId = own(NEUROX_STREAMS.gaps);
    this.intentsId = own(NEUROX_STREAMS.intents);
    this.eventsId = own(NEUROX_STREAMS.events);
  }

  /** Create the file (and its folder) and write the file header and the neurox stream headers. */
  static async open(path: string, opts: RecorderOptions = {}): Promise<SessionRecorder> {
    mkdirSync(dirname(path), { recursive: true });
    const { session, ...wopts } = opts;
    const w = await XdfWriter.open(path, {
      ...wopts,
      headerFields: { writer: 'neurox 0.1.0', ...(session ? { session } : {}), ...(wopts.headerFields ?? {}) },
    });
    const r = new SessionRecorder(path, w);
    log.info({ file: path }, 'recording');
    return r;
  }

  /** XDF stream id of an acquired stream (undefined before its StreamOpened). */
  xdfStreamId(id: StreamId): number | undefined {
    return this.ids.get(id);
  }

  /** Record one acquired chunk (raw LSL timestamps, before the clock stage). Never throws. */
  write(c: Chunk): void {
    if (this.closing || this.failed) return;
    try {
      this.writeUnsafe(c);
    } catch (e) {
      this.n.dropped++;
      // A write error of the file itself stops the recording (XdfWriter rethrows it on every append).
      const st = this.w.stats();
      if (st.writeErrors > 0) {
        this.failed = true;
        log.error({ file: this.path, err: (e as Error).message }, 'recording stopped: write error');
      } else log.error({ file: this.path, stream: c.stream, kind: c.kind, err: (e as Error).message }, 'chunk not recorded');
    }
  }

  private writeUnsafe(c: Chunk): void {
    switch (c.kind) {
      case 'stream': {
        if (this.ids.has(c.stream)) {
          // Re-opened after a loss: same XDF stream; note it in the events stream.
          this.event({ type: 'stream-reopened', stream: c.stream, uid: c.meta.uid }, localClock());
          this.metas.set(c.stream, c.meta);
          return;
        }
        const id = this.w.addStream({ xml: c.meta.xml });
        this.ids.set(c.stream, id);
        this.metas.set(c.stream, c.meta);
        return;
      }
      case 'clock': {
        const id = this.need(c.stream);
        this.w.appendClockOffset(id, c.collectedAt, c.offset);
        this.n.clockOffsets++;
        return;
      }
      case 'signal': {
        const id = this.need(c.stream);
        const C = this.metas.get(c.stream)!.channelCount;
        this.w.appendSamples(id, c.raw ?? c.data, c.timestamps, C);
        this.n.signalSamples += c.timestamps.length;
        return;
      }
      case 'marker': {
        const id = this.need(c.stream);
        const C = this.metas.get(c.stream)!.channelCount;
        this.w.appendSamples(id, c.values ?? c.markers, c.timestamps, C);
        this.n.markers += c.timestamps.length;
        return;
      }
      case 'gap':
        this.gap(c);
        return;
    }
  }

  private need(stream: StreamId): number {
    const id = this.ids.get(stream);
    if (id === undefined) throw new Error(`no StreamOpened seen for stream ${stream}`);
    return id;
  }

  /** Record a gap (the acquire stage's GapEvent, raw clock). */
  gap(g: GapEvent): void {
    if (this.closing || this.failed) return;
    this.w.appendSamples(this.gapsId, [JSON.stringify(g)], new Float64Array([g.tStart]), 1);
    this.n.gaps++;
  }

  /** Record an emitted intent (timestamp = tEmit). */
  intent(i: Intent): void {
    if (this.closing || this.failed) return;
    try {
      this.w.appendSamples(this.intentsId, [JSON.stringify(i)], new Float64Array([i.tEmit]), 1);
      this.n.intents++;
    } catch (e) {
      this.n.dropped++;
      log.error({ err: (e as Error).message }, 'intent not recorded');
    }
  }

  /** Record an adaptation / safety / session event at local time `t`. */
  event(e: SessionEvent, t = localClock()): void {
    if (this.closing || this.failed) return;
    try {
      this.w.appendSamples(this.eventsId, [JSON.stringify(e)], new Float64Array([t]), 1);
      this.n.events++;
    } catch (err) {
      this.n.dropped++;
      log.error({ err: (err as Error).message }, 'event not recorded');
    }
  }

  /** Save a calibrated decoder's profile as `<file>.decoder.json` (what replay loads). */
  saveDecoder(dec: BaselineDecoder): string | undefined {
    if (!dec.calibrated) return undefined;
    const p = profilePathFor(this.path);
    dec.save(p);
    log.info({ file: p }, 'decoder profile saved next to the recording');
    return p;
  }

  stats(): RecorderStats {
    return { ...this.w.stats(), ...this.n, streams: this.ids.size };
  }

  /** Push buffered data to the file now. */
  flush(): Promise<void> {
    return this.w.flush();
  }

  /** Write footers and close the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.w.close();
      log.info({ file: this.path, ...this.stats() }, 'recording closed');
    })();
    return this.closing;
  }
}

/** `recordings/YYYYmmdd-HHMMSS.xdf` (local time). */
export function defaultRecordingPath(dir = 'recordings', d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${dir}/${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.xdf`;
}
