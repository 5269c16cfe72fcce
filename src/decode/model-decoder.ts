/**
 * DIVER-S as a decoder: each frame's new samples go through the model's featurizer
 * and one KV-cached ONNX step (in the model's worker thread); the paradigm's task
 * adapter gives the intent probabilities. Steps run strictly in frame order.
 */
import type { Frame, FrameStream } from '../align/framer.ts';
import { loadModel, type ModelRunner } from '../model/index.ts';
import { FrameFeaturizer } from '../tokenize/index.ts';
import type { Decoded } from './baseline.ts';

export class ModelDecoder {
  readonly name: string;
  private featurizer: FrameFeaturizer | undefined;
  private key = '';

  private constructor(
    private readonly runner: ModelRunner,
    readonly paradigm: string,
    private readonly rest: string | undefined,
  ) {
    this.name = `${runner.info.name}:${paradigm}`;
  }

  /** Load an ONNX step model and pick its task adapter (e.g. 'mi'). */
  static async load(path: string, paradigm: string, opts: { device?: 'cpu' | 'gpu'; includeRest?: boolean } = {}): Promise<ModelDecoder> {
    const runner = await loadModel(path, { device: opts.device ?? 'cpu' });
    if (!runner.adapters.some((a) => a.name === paradigm)) {
      await runner.close();
      throw new Error(`${path} has no '${paradigm}' adapter (has ${runner.adapters.map((a) => a.name).join(', ')})`);
    }
    return new ModelDecoder(runner, paradigm, opts.includeRest ? undefined : 'rest');
  }

  get backend(): string {
    return this.runner.info.backend;
  }

  /** Labels as intents carry them (paradigm prefix removed). */
  get labels(): string[] {
    const a = this.runner.adapters.find((x) => x.name === this.paradigm)!;
    return this.runner.labels.slice(a.start, a.end).map((l) => l.slice(this.paradigm.length + 1)).filter((l) => l !== this.rest);
  }

  private pick(frame: Frame): FrameStream | undefined {
    for (const s of frame.streams.values()) if (s.channels.length > 0) return s;
    return undefined;
  }

  /**
   * Feed the frame (synchronously: the window is read now) and return the step's
   * result. Frames without new samples of the stream decode to undefined.
   */
  decode(frame: Frame): Promise<Decoded | undefined> {
    const s = this.pick(frame);
    if (!s || !s.present || s.newSamples === 0) return Promise.resolve(undefined);
    const key = `${s.ringId}|${s.srate}|${s.channels.length}`;
    if (key !== this.key) {
      this.featurizer = new FrameFeaturizer(s.channels, s.srate);
      this.runner.reset();
      this.key = key;
    }
    const C = s.channels.length;
    // a view, not a copy: the featurizer reads the samples before push returns
    const inputs = this.featurizer!.push(s.window.subarray((s.windowSamples - s.newSamples) * C));
    return this.runner.step(inputs).then((r) => {
      const all = this.runner.paradigmProbs(r, this.paradigm);
      // Renormalise over the intent labels (the adapter's rest class is not an intent).
      const probs: Record<string, number> = {};
      let tot = 0;
      for (const [k, v] of Object.entries(all)) {
        const label = k.slice(this.paradigm.length + 1);
        if (label === this.rest) continue;
        probs[label] = v;
        tot += v;
      }
      let best = '';
      for (const k of Object.keys(probs)) {
        probs[k]! /= tot || 1;
        if (!best || probs[k]! > probs[best]!) best = k;
      }
      return { label: best, probs, confidence: probs[best] ?? 0 };
    });
  }

  /** Forget the stream: the next frame starts a fresh featurizer and an empty KV cache. */
  reset(): void {
    this.key = '';
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
