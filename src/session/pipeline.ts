/**
 * The session pipeline: the composition of the stages of the data-flow line,
 *
 *   repair → clock → dsp → align → [tokenize → model] → decode → emit
 *                                          ▲                       │
 *                                          └──────── adapt ◄───────┘ feedback
 *
 * one chunk at a time with an explicit `now`. Live runs (LSL) and replays
 * (XDF/EDF, evaluation) feed it the same acquired chunks, for every decoder, so
 * online/offline parity holds by construction; no I/O happens here. A model
 * decoder tokenizes and steps inside its ordered queue (off the event loop); its
 * intents come out in order through `onIntent`, as the baseline's do.
 */
import type { NonFiniteRepair } from '../acquire/repair.ts';
import { AdaptStage, type Feedback, type FeedbackRecord } from '../adapt/stage.ts';
import type { Frame } from '../align/framer.ts';
import type { DspOptions } from '../dsp/chain.ts';
import type { BadChannelEvent } from '../dsp/badchannels.ts';
import type { ClockOptions } from '../clock/clock.ts';
import { AlignStage, ClockStage, DspStage, RepairStage } from './stages.ts';
import { BaselineDecoder, type BaselineOptions } from '../decode/baseline.ts';
import type { CalibrationOptions } from '../decode/calibration.ts';
import { BaselineFrameDecoder, type FrameDecoder } from '../decode/frame-decoder.ts';
import { IntentStage, type Decoded } from '../emit/intents.ts';
import { logger } from '../log.ts';
import type { Chunk, Intent } from '../types.ts';
import { localClock } from '../util/clock.ts';

const log = logger('pipeline');

export interface PipelineOptions {
  hop?: number;
  window?: number;
  /** Seconds a silent stream may hold frames back (live); replay uses no limit. */
  maxLateness?: number;
  clock?: ClockOptions;
  /** The dsp stage (notch, band-pass, montage, resample); none by default. */
  dsp?: DspOptions;
  /** The decoder: any FrameDecoder, or a BaselineDecoder (calibrated, or calibrated live). Default: a fresh baseline. */
  decoder?: FrameDecoder | BaselineDecoder;
  decoderOptions?: BaselineOptions;
  calibration?: CalibrationOptions;
  abstainBelow?: number;
  /**
   * Oldest a frame may be when it reaches the decoder (s, from the arrival of its
   * last sample; default 4 hops). Older frames, and frames whose samples end in a
   * gap, are not decoded into intents: after an outage or a stall they would be
   * sent as if fresh. Replay measures age on its virtual clock, so it drops the
   * same frames. (A model still steps them, so its context stays contiguous.)
   */
  maxFrameAge?: number;
  /** Called when live calibration completes (the decoder is then ready). */
  onCalibrated?: (d: FrameDecoder) => void;
}

export type { BadChannelEvent };

export interface PipelineOutput {
  /** Chunks after the clock and dsp stages (common clock). */
  chunks: Chunk[];
  frames: Frame[];
  /** Intents completed synchronously by this call (a model's come later, through onIntent). */
  intents: Intent[];
}

export class Pipeline {
  readonly decoder: FrameDecoder;
  readonly repairStage = new RepairStage();
  private readonly clock: ClockStage;
  private readonly dsp: DspStage;
  private readonly align: AlignStage;
  readonly emitter: IntentStage;
  readonly adapt = new AdaptStage();
  private readonly maxFrameAge: number;
  private decodeErrors = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly intentFns: ((i: Intent) => void)[] = [];
  private readonly feedbackFns: ((f: FeedbackRecord) => void)[] = [];
  private readonly badFns: ((e: BadChannelEvent) => void)[] = [];
  /** Frames not decoded because they were stale (too old, or cut before a gap). */
  staleFrames = 0;

  constructor(private readonly opts: PipelineOptions = {}) {
    const d = opts.decoder;
    const onCal = (b: BaselineDecoder) => opts.onCalibrated?.(this.decoder);
    this.decoder = d === undefined
      ? BaselineFrameDecoder.fresh(opts.decoderOptions, opts.calibration, onCal)
      : d instanceof BaselineDecoder ? new BaselineFrameDecoder(d, opts.calibration, onCal) : d;
    this.clock = new ClockStage(opts.clock);
    this.dsp = new DspStage(opts.dsp, { onBadChannel: (e) => this.badFns.forEach((fn) => fn(e)) });
    this.align = new AlignStage({ hop: opts.hop, window: opts.window, maxLateness: opts.maxLateness });
    this.emitter = new IntentStage(opts.abstainBelow ?? 0);
    this.maxFrameAge = opts.maxFrameAge ?? 4 * (opts.hop ?? 0.08);
  }

  /** Called with every intent, in seq order, whatever the decoder. */
  onIntent(fn: (i: Intent) => void): void {
    this.intentFns.push(fn);
  }

  /** Called when the dsp stage's bad-channel detector flags or clears a channel (`--bad-channels`). */
  onBadChannel(fn: (e: BadChannelEvent) => void): void {
    this.badFns.push(fn);
  }

  /** Channels of a stream the detector holds bad now. */
  badChannels(stream: string): string[] {
    return this.dsp.state.badChannels(stream);
  }

  /** Called with every feedback the adapt stage matched. */
  onFeedback(fn: (f: FeedbackRecord) => void): void {
    this.feedbackFns.push(fn);
  }

  /** Feedback from an app (or an error-potential detector) into the adapt stage. */
  feedback(fb: Feedback, now = localClock()): FeedbackRecord {
    const [rec] = this.adapt.push(fb, now);
    for (const fn of this.feedbackFns) fn(rec!);
    return rec!;
  }

  /** Resolves when every frame pushed so far has been decoded (model queue drained). */
  settled(): Promise<void> {
    return this.queue;
  }

  /** The repair stage's state (NaN/Inf counts per stream). */
  get repair(): NonFiniteRepair {
    return this.repairStage.state;
  }

  /** Feed one acquired chunk (raw LSL timestamps); `now` is the local clock (s). */
  push(c: Chunk, now = localClock()): PipelineOutput {
    const chunks = this.repairStage.push(c).flatMap((k) => this.clock.push(k)).flatMap((k) => this.dsp.push(k));
    const frames = chunks.flatMap((k) => this.align.push(k, now));
    return { chunks, frames, intents: this.decode(frames, now) };
  }

  /** Cut frames that are due even though a stream went silent (live timer). */
  tick(now = localClock()): PipelineOutput {
    const frames = this.align.drain(now);
    return { chunks: [], frames, intents: this.decode(frames, now) };
  }

  /**
   * Whether a frame is too stale to become an intent: older than maxFrameAge at
   * `now`, or a gap on one of its streams covers its end (the frame was cut before
   * the gap and its newest samples never came).
   */
  isStale(f: Frame, now: number): boolean {
    if (now - f.arrivedAt > this.maxFrameAge) return true;
    for (const s of f.streams.values()) {
      if (!s.present) continue;
      for (const g of s.gaps) if (g.tStart < f.tEnd && g.tEnd >= f.tEnd && g.missingSamples > 0) return true;
    }
    return false;
  }

  private decode(frames: Frame[], now: number): Intent[] {
    const out: Intent[] = [];
    const dec = this.decoder;
    for (const f of frames) {
      const stale = this.isStale(f, now);
      if (stale && this.staleFrames++ % 100 === 0) log.warn({ age: +(now - f.arrivedAt).toFixed(3), tEnd: f.tEnd, stale: this.staleFrames }, 'stale frame not decoded');
      if (!dec.ready) {
        if (!stale) dec.observe(f);
        continue;
      }
      let r: ReturnType<FrameDecoder['decode']>;
      try {
        r = dec.decode(f);
      } catch (e) {
        this.decodeError(e);
        continue;
      }
      const meta = { tEnd: f.tEnd, arrivedAt: f.arrivedAt, seq: f.seq };
      if (r instanceof Promise) {
        // Queued decoders: results resolve in push order; intents are made in that order.
        const pending = r;
        this.queue = this.queue.then(async () => {
          let d: Decoded | undefined;
          try {
            d = await pending;
          } catch (e) {
            this.decodeError(e);
            return;
          }
          if (d && !stale) this.publish(this.emitter.push({ frame: meta, decoded: d, model: dec.name }, localClock()));
        });
      } else if (r && !stale) {
        const is = this.emitter.push({ frame: meta, decoded: r, model: dec.name }, now);
        out.push(...is);
        this.publish(is);
      }
    }
    return out;
  }

  private publish(is: Intent[]): void {
    for (const i of is) {
      this.adapt.observe(i);
      for (const fn of this.intentFns) fn(i);
    }
  }

  private decodeError(e: unknown): void {
    // A decoder that cannot read this stream (wrong channels, wrong rate) must not
    // stop acquisition: say why, now and then, and keep going.
    if (this.decodeErrors++ % 100 === 0) log.error({ err: (e as Error).message, errors: this.decodeErrors }, 'frame could not be decoded');
  }
}
