/**
 * The decode stage's one contract for every decoder (the baseline, DIVER-S and
 * any ONNX step model with its signature, and the classical decoders): the
 * pipeline calls the same methods whatever it holds, live and in replay.
 *
 * A decoder that is not `ready` observes frames instead (live calibration from
 * cue markers); once ready it decodes each fresh frame, synchronously or, for a
 * model, through its ordered queue (a Promise, resolved strictly in order).
 */
import type { Frame } from '../align/framer.ts';
import type { Decoded } from './baseline.ts';
import { logger } from '../log.ts';
import { BaselineDecoder, type BaselineOptions } from './baseline.ts';
import { CalibrationCollector, type CalibrationOptions } from './calibration.ts';
import { neuralChannels } from './features.ts';
import type { ModelDecoder } from './model-decoder.ts';
import type { OrderedStage } from '../stage.ts';

const log = logger('decode');

export interface FrameDecoder {
  /** As intents carry it in `model`. */
  readonly name: string;
  readonly labels: string[];
  /** Backend as `hello` reports it (`js`, `onnxruntime-cpu`, …). */
  readonly backend: string;
  /** True once the decoder can decode (calibrated, or a model with its head). */
  readonly ready: boolean;
  /** A frame while not ready; returns true when this frame made it ready. */
  observe(frame: Frame): boolean;
  /** Decode one fresh frame (its window is read before this returns). */
  decode(frame: Frame): Decoded | undefined | Promise<Decoded | undefined>;
  /** The profile to save (JSON), once ready. */
  profile(): object | undefined;
  close(): Promise<void>;
}

/** Feed one frame to a collector; adds its features when it lies in a labelled trial. */
export function collectFrame(dec: BaselineDecoder, col: CalibrationCollector, f: Frame): void {
  const label = col.observe(f);
  if (label === undefined) return;
  const x = dec.features(f);
  if (x) col.add(x, label);
}

/** Fit the decoder from what a collector gathered; throws naming what is missing. */
export function fitFromCollector(dec: BaselineDecoder, col: CalibrationCollector, f: Frame) {
  const s = dec.pickStream(f);
  if (!s) throw new Error('calibration: no signal stream in the frames');
  const counts = col.counts();
  if (Object.keys(counts).length < 2) throw new Error(`calibration needs ≥2 classes of labelled frames, got ${JSON.stringify(counts)}`);
  const labels = neuralChannels(s.channels).map((i) => s.channels[i]!.label);
  return dec.calibrate(col.X, col.y, labels, s.srate);
}

/** The baseline (band power + shrinkage LDA), calibrated live from cue markers when it has no profile. */
export class BaselineFrameDecoder implements FrameDecoder {
  readonly backend = 'js';
  private readonly collector: CalibrationCollector;
  private errors = 0;

  constructor(readonly inner: BaselineDecoder = new BaselineDecoder(), calibration?: CalibrationOptions, private readonly onCalibrated?: (d: BaselineDecoder) => void) {
    this.collector = new CalibrationCollector(calibration);
  }

  static fresh(opts?: BaselineOptions, calibration?: CalibrationOptions, onCalibrated?: (d: BaselineDecoder) => void): BaselineFrameDecoder {
    return new BaselineFrameDecoder(new BaselineDecoder(opts), calibration, onCalibrated);
  }

  get name(): string { return this.inner.name; }
  get labels(): string[] { return this.inner.labels; }
  get ready(): boolean { return this.inner.calibrated; }

  observe(f: Frame): boolean {
    try {
      collectFrame(this.inner, this.collector, f);
    } catch (e) {
      if (this.errors++ % 100 === 0) log.error({ err: (e as Error).message }, 'calibration frame could not be used');
      return false;
    }
    if (!this.collector.ended) return false;
    try {
      const p = fitFromCollector(this.inner, this.collector, f);
      log.info({ trainAccuracy: p.trainAccuracy, counts: this.collector.counts(), shrinkage: p.lda.shrinkage }, 'decoder calibrated');
      this.onCalibrated?.(this.inner);
      return true;
    } catch (e) {
      log.error({ err: (e as Error).message }, 'calibration failed; still collecting');
      this.collector.ended = false;
      return false;
    }
  }

  decode(f: Frame): Decoded | undefined {
    const x = this.inner.features(f);
    return x ? this.inner.decodeFeatures(x) : undefined;
  }

  profile(): object | undefined {
    return this.inner.toProfile();
  }

  async close(): Promise<void> {}
}

export interface ModelStageState {
  /** Frames pushed and frames whose step came back. */
  pushed: number;
  done: number;
  /** Resolves when every frame pushed so far has come back. */
  tail: Promise<void>;
}

/**
 * The model stage in the ordered, queued form of the stage contract: a frame's
 * window is tokenized when it is pushed, the KV-cached step runs in the model's
 * worker, and results come back strictly in push order.
 */
export class ModelStage implements OrderedStage<Frame, Decoded, ModelStageState> {
  readonly name = 'model';
  readonly state: ModelStageState = { pushed: 0, done: 0, tail: Promise.resolve() };

  constructor(readonly model: ModelDecoder) {}

  push(f: Frame): Promise<Decoded[]> {
    const p = this.model.decode(f);
    this.state.pushed++;
    const out = p.then((d) => {
      this.state.done++;
      return d ? [d] : [];
    });
    this.state.tail = this.state.tail.then(() => out.then(() => undefined, () => undefined));
    return out;
  }

  settled(): Promise<void> {
    return this.state.tail;
  }

  reset(): void {
    this.model.reset();
  }
}

/** DIVER-S (or another ONNX step model): ready at once, decodes through the model stage's ordered queue. */
export class ModelFrameDecoder implements FrameDecoder {
  readonly ready = true;
  readonly stage: ModelStage;

  /** @param profileFields what the saved profile records besides the model (path, hash, device). */
  constructor(readonly inner: ModelDecoder, private readonly profileFields: object = {}) {
    this.stage = new ModelStage(inner);
  }

  get name(): string { return this.inner.name; }
  get labels(): string[] { return this.inner.labels; }
  get backend(): string { return `onnxruntime-${this.inner.backend}`; }

  observe(): boolean {
    return false;
  }

  decode(f: Frame): Promise<Decoded | undefined> {
    return this.stage.push(f).then((d) => d[0]);
  }

  profile(): object {
    return { ...this.profileFields, paradigm: this.inner.paradigm, labels: this.labels };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
