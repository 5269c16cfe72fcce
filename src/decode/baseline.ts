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
    const bad = profileProblem(p);
    if (bad) throw new Error(`${path}: invalid baseline profile: ${bad}`);
    const d = new BaselineDecoder({ ...opts, bands: p.bands, channels: p.channels, car: p.car });
    d.profile = p;
    return d;
  }
}

const numbers = (x: unknown, n?: number): boolean => Array.isArray(x) && (n === undefined || x.length === n) && x.every((v) => typeof v === 'number' && Number.isFinite(v));

/** The first field of a loaded profile that cannot work, named, or undefined (a hand-edited or truncated file must fail at load, not mid-session). */
function profileProblem(p: BaselineProfile): string | undefined {
  if (!Array.isArray(p.bands) || p.bands.length === 0 || !p.bands.every((b) => typeof b?.name === 'string' && typeof b.lo === 'number' && typeof b.hi === 'number' && b.lo >= 0 && b.lo < b.hi)) return 'field "bands" must be a non-empty list of {name, lo, hi} with 0 ≤ lo < hi';
  if (!Array.isArray(p.channels) || p.channels.length === 0 || !p.channels.every((c) => typeof c === 'string')) return 'field "channels" must be a non-empty list of channel labels';
  if (typeof p.car !== 'boolean') return 'field "car" must be true or false';
  if (typeof p.srate !== 'number' || !(p.srate > 0)) return 'field "srate" must be a positive number';
  const l = p.lda;
  if (typeof l !== 'object' || l === null) return 'field "lda" is missing';
  if (!Array.isArray(l.classes) || l.classes.length < 2 || !l.classes.every((c) => typeof c === 'string')) return 'field "lda.classes" must list at least two class labels';
  if (!numbers(l.mean)) return 'field "lda.mean" must be a list of numbers';
  const d = l.mean.length;
  if (!numbers(l.scale, d)) return `field "lda.scale" must be ${d} numbers, like lda.mean`;
  if (!Array.isArray(l.weights) || l.weights.length !== l.classes.length || !l.weights.every((w) => numbers(w, d))) return `field "lda.weights" must be ${l.classes.length} lists of ${d} numbers`;
  if (!numbers(l.bias, l.classes.length)) return `field "lda.bias" must be ${l.classes.length} numbers`;
  return undefined;
}
