/**
 * Per-frame artifact flags on EEG-like signals (µV):
 *
 * - amplitude: |x| above `amplitudeUv` (default 150 µV) after an internal 0.5 Hz high-pass;
 * - gradient : |x[n] − x[n−1]| above `gradientUvPerMs` × (1000 / fs) (default 50 µV/ms, the usual EEG step criterion);
 * - blink    : the mean of the frontal-pole channels (Fp1/Fpz/Fp2, or type EOG), high-passed at
 *              0.5 Hz and low-passed at 10 Hz, rises above `blinkUv` (default 75 µV) — the
 *              positive frontal deflection of an eye blink.
 *
 * Frames are consecutive blocks of `frameSec` (default 0.08 s) counted from the start (or the
 * last reset), so flags do not depend on chunking.
 */
import type { ChannelInfo, SignalChunk } from '../types.ts';
import { butterSos } from './design.ts';
import { SosFilter } from './sos.ts';
import { channelKey, nSamples } from './chunk.ts';

export interface ArtifactOptions {
  frameSec?: number;
  amplitudeUv?: number;
  gradientUvPerMs?: number;
  blinkUv?: number;
  /** Labels (case-insensitive, dots ignored) used for blink detection. */
  frontal?: string[];
}

export interface ArtifactFrame {
  type: 'artifact-frame';
  stream: string;
  /** Timestamps of the first and last sample of the frame. */
  t0: number;
  t1: number;
  amplitude: string[];
  gradient: string[];
  blink: boolean;
  /** Peak of the frontal blink signal in the frame (µV), NaN without frontal channels. */
  blinkPeakUv: number;
}

const DEFAULT_FRONTAL = ['FP1', 'FPZ', 'FP2'];
const norm = (l: string): string => l.replace(/\./g, '').trim().toUpperCase();

export class ArtifactDetector {
  private readonly o: Required<ArtifactOptions>;
  private key = '';
  private fs = 0;
  private C = 0;
  private channels: ChannelInfo[] = [];
  private frameN = 0;
  private hp: SosFilter | null = null;
  private blinkF: SosFilter | null = null;
  private frontal: number[] = [];
  private row = new Float64Array(0);
  private prev = new Float64Array(0);
  private havePrev = false;
  private inFrame = 0;
  private t0 = 0;
  private amp = new Uint8Array(0);
  private grad = new Uint8Array(0);
  private blinkPeak = -Infinity;
  private stream = '';
  private b = new Float64Array(1);

  constructor(opts: ArtifactOptions = {}) {
    this.o = { frameSec: 0.08, amplitudeUv: 150, gradientUvPerMs: 50, blinkUv: 75, frontal: DEFAULT_FRONTAL, ...opts };
  }

  reset(): void {
    this.hp?.reset();
    this.blinkF?.reset();
    this.havePrev = false;
    this.inFrame = 0;
    this.amp.fill(0);
    this.grad.fill(0);
    this.blinkPeak = -Infinity;
  }

  private configure(chunk: SignalChunk): void {
    this.fs = chunk.srate;
    this.C = chunk.channels.length;
    this.channels = chunk.channels;
    this.stream = chunk.stream;
    this.key = channelKey(chunk.channels);
    this.frameN = Math.max(1, Math.round(this.o.frameSec * this.fs));
    this.hp = new SosFilter(butterSos({ order: 2, cutoff: 0.5, btype: 'highpass', fs: this.fs }));
    this.blinkF = new SosFilter([
      ...butterSos({ order: 2, cutoff: 0.5, btype: 'highpass', fs: this.fs }),
      ...butterSos({ order: 2, cutoff: Math.min(10, this.fs / 4), btype: 'lowpass', fs: this.fs }),
    ]);
    const want = new Set(this.o.frontal.map(norm));
    this.frontal = chunk.channels.map((c, i) => (want.has(norm(c.label)) || (c.type ?? '').toUpperCase() === 'EOG' ? i : -1)).filter((i) => i >= 0);
    this.row = new Float64Array(this.C);
    this.prev = new Float64Array(this.C);
    this.amp = new Uint8Array(this.C);
    this.grad = new Uint8Array(this.C);
    this.reset();
  }

  process(chunk: SignalChunk): ArtifactFrame[] {
    if (chunk.srate !== this.fs || channelKey(chunk.channels) !== this.key) this.configure(chunk);
    const { C } = this;
    const n = nSamples(chunk);
    const x = chunk.data;
    const gThr = this.o.gradientUvPerMs * (1000 / this.fs);
    const frames: ArtifactFrame[] = [];
    for (let i = 0; i < n; i++) {
      if (this.inFrame === 0) this.t0 = chunk.timestamps[i]!;
      for (let c = 0; c < C; c++) this.row[c] = x[i * C + c]!;
      for (let c = 0; c < C; c++) {
        if (this.havePrev && Math.abs(this.row[c]! - this.prev[c]!) > gThr) this.grad[c] = 1;
        this.prev[c] = this.row[c]!;
      }
      this.havePrev = true;
      if (this.frontal.length) {
        let s = 0;
        for (const c of this.frontal) s += this.row[c]!;
        this.b[0] = s / this.frontal.length;
        this.blinkF!.processF64(this.b, 1);
        if (this.b[0]! > this.blinkPeak) this.blinkPeak = this.b[0]!;
      }
      this.hp!.processF64(this.row, C);
      for (let c = 0; c < C; c++) if (Math.abs(this.row[c]!) > this.o.amplitudeUv) this.amp[c] = 1;
      if (++this.inFrame === this.frameN) {
        frames.push({
          type: 'artifact-frame',
          stream: this.stream,
          t0: this.t0,
          t1: chunk.timestamps[i]!,
          amplitude: this.channels.filter((_, c) => this.amp[c]).map((ch) => ch.label),
          gradient: this.channels.filter((_, c) => this.grad[c]).map((ch) => ch.label),
          blink: this.frontal.length > 0 && this.blinkPeak > this.o.blinkUv,
          blinkPeakUv: this.frontal.length ? this.blinkPeak : NaN,
        });
        this.inFrame = 0;
        this.amp.fill(0);
        this.grad.fill(0);
        this.blinkPeak = -Infinity;
      }
    }
    return frames;
  }
}
