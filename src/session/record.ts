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
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { XdfWriter, type XdfWriterOptions, type XdfWriterStats } from '../../adapters/xdf/index.ts';
import type { FrameDecoder } from '../decode/frame-decoder.ts';
import { logger } from '../log.ts';
import type { Chunk, GapEvent, Intent, StreamId, StreamMeta } from '../types.ts';
import { localClock } from '../util/clock.ts';
import { SERVER_NAME } from '../version.ts';

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
  /** Seconds between attempts to resume into a new file after a write failure (default 2). */
  retryEvery?: number;
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
  /** Signal samples acquired while the recording had failed (marked as gaps in the next file). */
  notRecorded: number;
  /** Files written so far (a failure and resume starts a new one). */
  files: string[];
}

/** What the recorder tells its owner: a write failure, and the file it resumed into. */
export interface RecorderEvents {
  failed: [{ file: string; error: string }];
  resumed: [{ file: string; previous: string }];
}

/** Samples of one stream that arrived while the recording was failing. */
interface Lost {
  first: number;
  last: number;
  n: number;
}

/**
 * A session's recording. When the file cannot be written (disk full, I/O error)
 * the recorder says so ('failed'), keeps counting what it could not store, and
 * tries every `retryEvery` seconds to go on in a new file (`<name>-2.xdf`, …);
 * the new file starts with every stream's header again, an event naming the
 * failure, and a `not-recorded` gap per stream covering what was lost.
 */
export class SessionRecorder extends EventEmitter<RecorderEvents> {
  private readonly ids = new Map<StreamId, number>();
  private readonly metas = new Map<StreamId, StreamMeta>();
  private gapsId = 0;
  private intentsId = 0;
  private eventsId = 0;
  private closing: Promise<void> | undefined;
  private failure: string | undefined;
  private retry: NodeJS.Timeout | undefined;
  private durable: NodeJS.Timeout;
  /** Newest timestamp appended per stream, and the newest known to be in the file. */
  private readonly appendedTs = new Map<StreamId, number>();
  private durableTs = new Map<StreamId, number>();
  private readonly lost = new Map<StreamId, Lost>();
  private readonly files: string[] = [];
  private n = { signalSamples: 0, markers: 0, clockOffsets: 0, gaps: 0, intents: 0, events: 0, dropped: 0, notRecorded: 0 };

  private constructor(
    path: string,
    private w: XdfWriter,
    private readonly opts: RecorderOptions,
  ) {
    super();
    this.path = path;
    this.files.push(path);
    this.addOwnStreams();
    // Once a second: what was appended before a completed flush is in the file.
    this.durable = setInterval(() => {
      if (this.failure || this.closing) return;
      const snap = new Map(this.appendedTs);
      const w0 = this.w;
      void w0.flush().then(() => {
        if (!w0.failed && w0 === this.w) this.durableTs = snap;
      });
    }, 1000);
    this.durable.unref();
  }

  /** The file being written now (changes when the recorder resumes after a failure). */
  path: string;

  private addOwnStreams(): void {
    const own = (s: { name: string; type: string }) =>
      this.w.addStream({ info: { name: s.name, type: s.type, channel_count: 1, nominal_srate: 0, channel_format: 'string', source_id: s.name } });
    this.gapsId = own(NEUROX_STREAMS.gaps);
    this.intentsId = own(NEUROX_STREAMS.intents);
    this.eventsId = own(NEUROX_STREAMS.events);
  }

  private static writer(path: string, opts: RecorderOptions): Promise<XdfWriter> {
    const { session, retryEvery: _r, ...wopts } = opts;
    return XdfWriter.open(path, {
      ...wopts,
      headerFields: { writer: SERVER_NAME, ...(session ? { session } : {}), ...(wopts.headerFields ?? {}) },
    });
  }

  /** Create the file (and its folder) and write the file header and the neurox stream headers. */
  static async open(path: string, opts: RecorderOptions = {}): Promise<SessionRecorder> {
    mkdirSync(dirname(path), { recursive: true });
    const w = await SessionRecorder.writer(path, opts);
    if (w.failed) {
      await w.close().catch(() => undefined);
      throw new Error(`cannot record to ${path}: ${w.failed.message}`);
    }
    const r = new SessionRecorder(path, w, opts);
    log.info({ file: path }, 'recording');
    return r;
  }

  /** The write error while the recording is failing; undefined while it records. */
  get failed(): string | undefined {
    return this.failure;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err.message;
    log.error({ file: this.path, err: err.message }, 'recording stopped: write error; will resume into a new file when it can');
    this.emit('failed', { file: this.path, error: err.message });
    this.retry = setInterval(() => void this.tryResume(), (this.opts.retryEvery ?? 2) * 1000);
    this.retry.unref();
  }

  private resuming = false;

  /** Open the next file; on success, re-declare every stream and mark what was lost. */
  private async tryResume(): Promise<void> {
    if (this.resuming || this.closing || !this.failure) return;
    this.resuming = true;
    const next = nextPath(this.files[0]!, this.files.length + 1);
    try {
      const w = await SessionRecorder.writer(next, this.opts);
      if (w.failed) {
        await w.close().catch(() => undefined);
        rmSync(next, { force: true });
        return;
      }
      const previous = this.path;
      const old = this.w;
      this.w = w;
      this.path = next;
      this.files.push(next);
      this.addOwnStreams();
      for (const [id, meta] of this.metas) this.ids.set(id, w.addStream({ xml: meta.xml }));
      const error = this.failure;
      this.failure = undefined;
      if (this.retry) clearInterval(this.retry);
      this.retry = undefined;
      this.event({ type: 'recording-resumed', previous, error, notRecorded: Object.fromEntries([...this.lost].map(([k, v]) => [k, v.n])) });
      for (const [stream, l] of this.lost) {
        // From the last sample known to be in the old file: samples still queued when it failed are covered too.
        const from = this.durableTs.get(stream) ?? l.first;
        this.gap({ kind: 'gap', stream, tStart: Math.min(from, l.first), tEnd: l.last, missingSamples: l.n, reason: 'not-recorded' });
      }
      this.lost.clear();
      this.durableTs = new Map(this.appendedTs);
      await w.flush();
      if (w.failed) {
        this.fail(w.failed);
        return;
      }
      log.warn({ file: next, previous }, 'recording resumed into a new file');
      this.emit('resumed', { file: next, previous });
      void old.close().catch(() => undefined);
    } catch (e) {
      log.debug({ err: (e as Error).message }, 'recording not resumed yet');
      rmSync(next, { force: true });
    } finally {
      this.resuming = false;
    }
  }

  /** XDF stream id of an acquired stream (undefined before its StreamOpened). */
  xdfStreamId(id: StreamId): number | undefined {
    return this.ids.get(id);
  }

  /** Record one acquired chunk (raw LSL timestamps, before the clock stage). Never throws. */
  write(c: Chunk): void {
    if (this.closing) return;
    if (c.kind === 'stream') this.metas.set(c.stream, c.meta);
    if (this.failure || this.w.failed) {
      this.notRecorded(c);
      if (!this.failure && this.w.failed) this.fail(this.w.failed);
      return;
    }
    try {
      this.writeUnsafe(c);
    } catch (e) {
      // A write error of the file itself stops this file (XdfWriter rethrows it on every append).
      if (this.w.failed) {
        this.fail(this.w.failed);
        this.notRecorded(c);
      } else {
        this.n.dropped++;
        log.error({ file: this.path, stream: c.stream, kind: c.kind, err: (e as Error).message }, 'chunk not recorded');
      }
    }
  }

  private notRecorded(c: Chunk): void {
    if (c.kind !== 'signal' || c.timestamps.length === 0) return;
    const n = c.timestamps.length;
    const l = this.lost.get(c.stream);
    if (l) {
      l.last = c.timestamps[n - 1]!;
      l.n += n;
    } else this.lost.set(c.stream, { first: c.timestamps[0]!, last: c.timestamps[n - 1]!, n });
    this.n.notRecorded += n;
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
        if (c.timestamps.length) this.appendedTs.set(c.stream, c.timestamps[c.timestamps.length - 1]!);
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
    if (this.closing || this.failure) return;
    this.w.appendSamples(this.gapsId, [JSON.stringify(g)], new Float64Array([g.tStart]), 1);
    this.n.gaps++;
  }

  /** Record an emitted intent (timestamp = tEmit). */
  intent(i: Intent): void {
    if (this.closing || this.failure) return;
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
    if (this.closing || this.failure) return;
    try {
      this.w.appendSamples(this.eventsId, [JSON.stringify(e)], new Float64Array([t]), 1);
      this.n.events++;
    } catch (err) {
      this.n.dropped++;
      log.error({ err: (err as Error).message }, 'event not recorded');
    }
  }

  /** Save a ready decoder's profile as `<file>.decoder.json` (what replay loads with `--profile`, or by default). */
  saveDecoder(dec: FrameDecoder): string | undefined {
    const profile = dec.ready ? dec.profile() : undefined;
    if (!profile) return undefined;
    const p = profilePathFor(this.files[0]!);
    writeFileSync(p, JSON.stringify(profile, null, 1));
    log.info({ file: p }, 'decoder profile saved next to the recording');
    return p;
  }

  stats(): RecorderStats {
    return { ...this.w.stats(), ...this.n, streams: this.ids.size, files: [...this.files] };
  }

  /** Push buffered data to the file now. */
  flush(): Promise<void> {
    return this.w.flush();
  }

  /** Write footers and close the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.durable);
      if (this.retry) clearInterval(this.retry);
      try {
        await this.w.close();
      } catch (e) {
        log.error({ file: this.path, err: (e as Error).message }, 'recording closed with a write error');
      }
      log.info({ file: this.path, ...this.stats() }, 'recording closed');
    })();
    return this.closing;
  }
}

/** `name.xdf` → `name-2.xdf`, `name-3.xdf`, … */
function nextPath(first: string, k: number): string {
  return /\.xdf$/i.test(first) ? first.replace(/\.xdf$/i, `-${k}.xdf`) : `${first}-${k}`;
}

/** `recordings/YYYYmmdd-HHMMSS.xdf` (local time). */
export function defaultRecordingPath(dir = 'recordings', d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${dir}/${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.xdf`;
}
