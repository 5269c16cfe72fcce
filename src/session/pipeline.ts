/**
 * The synchronous core of a session: clock → align → decode, one chunk at a time.
 * Live runs (LSL) and replays (XDF) feed it the same acquired chunks, so
 * online/offline parity holds by construction; no I/O happens here.
 */
import { NonFiniteRepair } from '../acquire/repair.ts';
import { Framer, type Frame } from '../align/framer.ts';
import { DspChain, type DspOptions } from '../dsp/chain.ts';
import { ClockCorrector, type ClockOptions } from '../clock/clock.ts';
import { BaselineDecoder, type BaselineOptions } from '../decode/baseline.ts';
import { CalibrationCollector, type CalibrationOptions } from '../decode/calibration.ts';
import { logger } from '../log.ts';
import type { Chunk, Intent } from '../types.ts';
import { localClock } from '../util/clock.ts';
import { collectFrame, fitFromCollector } from './calibrate.ts';

const log = logger('pipeline');

export interface PipelineOptions {
  hop?: number;
  window?: number;
  /** Seconds a silent stream may hold frames back (live); replay uses no limit. */
  maxLateness?: number;
  clock?: ClockOptions;
  /** The dsp stage (notch, band-pass, montage, resample); none by default. */
  dsp?: DspOptions;
  decoder?: BaselineDecoder;
  decoderOptions?: BaselineOptions;
  calibration?: CalibrationOptions;
  abstainBelow?: number;
  /**
   * Oldest a frame may be when it reaches the decoder (s, from the arrival of its
   * last sample; default 4 hops). Older frames, and frames whose samples end in a
   * gap, are not decoded into intents: after an outage or a stall they would be
   * sent as if fresh. Replay measures age on its virtual clock, so it drops the
   * same frames.
   */
  maxFrameAge?: number;
  /** Decode frames with the baseline decoder here (default true); false when a model decodes them elsewhere. */
  decodeFrames?: boolean;
  /** Called when live calibration completes. */
  onCalibrated?: (d: BaselineDecoder) => void;
}

export interface PipelineOutput {
  /** Chunks after the clock and dsp stages (common clock). */
  chunks: Chunk[];
  frames: Frame[];
  intents: Intent[];
}

export class Pipeline {
  readonly decoder: BaselineDecoder;
  private readonly clock: ClockCorrector;
  private readonly dsp: DspChain;
  private readonly framer: Framer;
  private readonly collector: CalibrationCollector;
  readonly repair = new NonFiniteRepair();
  private seq = 0;
  private decodeErrors = 0;
  private readonly maxFrameAge: number;
  /** Frames not decoded because they were stale (too old, or cut before a gap). */
  staleFrames = 0;

  constructor(private readonly opts: PipelineOptions = {}) {
    this.decoder = opts.decoder ?? new BaselineDecoder(opts.decoderOptions);
    this.clock = new ClockCorrector(opts.clock);
    this.dsp = new DspChain(opts.dsp);
    this.framer = new Framer({ hop: opts.hop, window: opts.window, maxLateness: opts.maxLateness });
    this.collector = new CalibrationCollector(opts.calibration);
    this.maxFrameAge = opts.maxFrameAge ?? 4 * (opts.hop ?? 0.08);
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

  /** Feed one acquired chunk (raw LSL timestamps); `now` is the local clock (s). */
  push(c: Chunk, now = localClock()): PipelineOutput {
    const chunks = this.clock.process(c.kind === 'signal' ? this.repair.process(c) : c).flatMap((k) => this.dsp.process(k));
    const frames: Frame[] = [];
    for (const k of chunks) frames.push(...this.framer.push(k, k.kind === 'signal' ? (k.arrivedAt ?? now) : now));
    return { chunks, frames, intents: this.decode(frames, now) };
  }

  /** Cut frames that are due even though a stream went silent (live timer). */
  tick(now = localClock()): PipelineOutput {
    const frames = this.framer.drain(now);
    return { chunks: [], frames, intents: this.decode(frames, now) };
  }

  private decode(frames: Frame[], now: number): Intent[] {
    const out: Intent[] = [];
    if (this.opts.decodeFrames === false) return out;
    for (const f of frames) {
      if (this.isStale(f, now)) {
        if (this.staleFrames++ % 100 === 0) log.warn({ age: +(now - f.arrivedAt).toFixed(3), tEnd: f.tEnd, stale: this.staleFrames }, 'stale frame not decoded');
        continue;
      }
      if (!this.decoder.calibrated) {
        this.calibrateWith(f);
        continue;
      }
      let d;
      try {
        const x = this.decoder.features(f);
        if (!x) continue;
        d = this.decoder.decodeFeatures(x);
      } catch (e) {
        // A decoder that cannot read this stream (wrong channels, wrong rate) must not
        // stop acquisition: say why, now and then, and keep going.
        if (this.decodeErrors++ % 100 === 0) log.error({ err: (e as Error).message, errors: this.decodeErrors }, 'frame could not be decoded');
        continue;
      }
      // Emission time is taken after the decoder ran: the latency includes its work.
      const tEmit = Math.max(now, localClock());
      out.push({
        seq: this.seq++,
        label: d.label,
        probs: d.probs,
        confidence: d.confidence,
        tFrame: f.tEnd,
        tEmit,
        latencyMs: (tEmit - f.arrivedAt) * 1000,
        model: this.decoder.name,
        abstained: d.confidence < (this.opts.abstainBelow ?? 0),
      });
    }
    return out;
  }

  private calibrateWith(f: Frame): void {
    try {
      collectFrame(this.decoder, this.collector, f);
    } catch (e) {
      if (this.decodeErrors++ % 100 === 0) log.error({ err: (e as Error).message }, 'calibration frame could not be used');
      return;
    }
    if (!this.collector.ended) return;
    try {
      const p = fitFromCollector(this.decoder, this.collector, f);
      log.info({ trainAccuracy: p.trainAccuracy, counts: this.collector.counts(), shrinkage: p.lda.shrinkage }, 'decoder calibrated');
      this.opts.onCalibrated?.(this.decoder);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'calibration failed; still collecting');
      this.collector.ended = false;
    }
  }
}
