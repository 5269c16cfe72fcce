/**
 * The baseline decoder: log band power + shrinkage LDA. Calibrated from labelled
 * frames (cue markers), saved and loaded as a JSON profile.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Frame, FrameStream } from '../align/framer.ts';
import type { StreamId } from '../types.ts';
import { BandPowerFeatures, MI_BANDS, neuralChannels, type Band } from './features.ts';
import { fitLda, predictLda, type LdaModel } from './lda.ts';
import { logger } from '../log.ts';

const log = logger('decode.baseline');

export interface BaselineOptions {
  /** Stream to decode (default: the first signal stream with channels). */
  stream?: StreamId;
  bands?: Band[];
  /** Channel labels to use (default: all neural channels). */
  channels?: string[];
  car?: boolean;
}

export interface BaselineProfile {
  kind: 'neurox-baseline-profile';
  version: 1;
  bands: Band[];
  channels: string[];
  car: boolean;
  srate: number;
  lda: LdaModel;
  calibratedAt: string;
  trainAccuracy: number;
}

export interface Decoded {
  label: string;
  probs: Record<string, number>;
  confidence: number;
}

export class BaselineDecoder {
  readonly name = 'baseline-bandpower-lda';
  private profile: BaselineProfile | undefined;
  private picks: number[] | undefined;
  private picksKey = '';
  private extractor: BandPowerFeatures | undefined;

  constructor(private readonly opts: BaselineOptions = {}) {}

  /** The fitted profile (what `save` writes), once calibrated. */
  toProfile(): BaselineProfile | undefined {
    return this.profile;
  }

  get calibrated(): boolean {
    return this.profile !== undefined;
  }

  get labels(): string[] {
    return this.profile?.lda.classes ?? [];
  }

  /** The stream this decoder reads from a frame. */
  pickStream(frame: Frame): FrameStream | undefined {
    if (this.opts.stream) return frame.streams.get(this.opts.stream);
    for (const s of frame.streams.values()) if (s.channels.length > 0) return s;
    return undefined;
  }

  /** Feature vector of a frame, or undefined when its stream is absent. */
  features(frame: Frame): Float64Array | undefined {
    const s = this.pickStream(frame);
    if (!s || !s.present) return undefined;
    return this.featuresOf(s);
  }

  featuresOf(s: FrameStream): Float64Array | undefined {
    const key = s.channels.map((c) => c.label).join('|');
    if (key !== this.picksKey) {
      if (this.profile && Math.abs(this.profile.srate - s.srate) > 1e-6)
        log.warn({ profileSrate: this.profile.srate, streamSrate: s.srate }, 'stream rate differs from the rate the decoder was calibrated at');
      const want = this.profile?.channels ?? this.opts.channels;
      this.picks = neuralChannels(s.channels, want);
      this.picksKey = key;
    }
    this.extractor ??= new BandPowerFeatures(this.profile?.bands ?? this.opts.bands ?? MI_BANDS, this.profile?.car ?? this.opts.car ?? true);
    return this.extractor.compute(s.window, s.windowSamples, s.channels.length, s.srate, this.picks!, s.ringId, s.endIndex);
  }

  /** Fit from labelled feature rows; returns training accuracy. */
  calibrate(X: Float64Array[], y: string[], channels: string[], srate: number): BaselineProfile {
    const lda = fitLda(X, y);
    let ok = 0;
    X.forEach((x, i) => {
      const p = predictLda(lda, x);
      if (lda.classes[p.indexOf(Math.max(...p))] === y[i]) ok++;
    });
    this.profile = {
      kind: 'neurox-baseline-profile',
      version: 1,
      bands: this.opts.bands ?? MI_BANDS,
      channels,
      car: this.opts.car ?? true,
      srate,
      lda,
      calibratedAt: new Date().toISOString(),
      trainAccuracy: ok / X.length,
    };
    return this.profile;
  }

  decodeFeatures(x: Float64Array): Decoded {
    if (!this.profile) throw new Error('baseline decoder is not calibrated');
    const p = predictLda(this.profile.lda, x);
    const best = p.indexOf(Math.max(...p));
    const probs: Record<string, number> = {};
    this.profile.lda.classes.forEach((c, i) => (probs[c] = p[i]!));
    return { label: this.profile.lda.classes[best]!, probs, confidence: p[best]! };
  }

  save(path: string): void {
    if (!this.profile) throw new Error('nothing to save: decoder not calibrated');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(this.profile, null, 1));
  }

  static load(path: string, opts: BaselineOptions = {}): BaselineDecoder {
    let p: BaselineProfile;
    try {
      p = JSON.parse(readFileSync(path, 'utf8')) as BaselineProfile;
    } catch (e) {
      throw new Error(`cannot read decoder profile ${path}: ${(e as Error).message}`);
    }
    if (p.kind !== 'neurox-baseline-profile' || p.version !== 1) throw new Error(`${path} is not a neurox baseline profile (v1)`);
    const d = new BaselineDecoder({ ...opts, bands: p.bands, channels: p.channels, car: p.car });
    d.profile = p;
    return d;
  }
}
