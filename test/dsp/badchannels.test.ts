/**
 * Bad-channel and artifact detection on simulated 64-channel EEG (250 Hz, 10-10 positions from
 * the eeg64 device profile). The simulator here: 12 spatially smooth sources (1/f-like noise from
 * three AR(1) processes, posterior alpha), mixed to the scalp with Gaussian distance weights,
 * plus sensor noise, a small 50 Hz line component and per-channel DC offsets; seeded PRNG.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getProfile } from '../../devices/profiles.ts';
import { BadChannelDetector, ArtifactDetector, mulberry32, gaussian, type BadChannelEvent } from '../../src/dsp/index.ts';
import type { ChannelInfo, SignalChunk } from '../../src/types.ts';

const FS = 250;
const CH: ChannelInfo[] = getProfile('eeg64-160').channels;
const C = CH.length;

class EegSim {
  private g: () => number;
  private src: { pos: [number, number, number]; ar: number[]; alpha: boolean }[] = [];
  private w: Float64Array;
  private dc: Float64Array;
  private n = 0;
  constructor(seed: number) {
    this.g = gaussian(mulberry32(seed));
    const r = mulberry32(seed + 1);
    for (let k = 0; k < 12; k++) {
      const th = Math.acos(r() * 0.9), ph = 2 * Math.PI * r();
      this.src.push({ pos: [Math.sin(th) * Math.cos(ph), Math.sin(th) * Math.sin(ph), Math.cos(th)], ar: [0, 0, 0], alpha: Math.sin(th) * Math.sin(ph) < -0.2 });
    }
    this.w = new Float64Array(C * 12);
    for (let c = 0; c < C; c++) {
      const p = CH[c]!.pos!;
      let s = 0;
      for (let k = 0; k < 12; k++) {
        const q = this.src[k]!.pos;
        const d2 = (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2;
        const w = Math.exp(-d2 / (2 * 0.45 ** 2));
        this.w[c * 12 + k] = w; s += w * w;
      }
      const gain = (0.8 + 0.4 * r()) / Math.sqrt(s);
      for (let k = 0; k < 12; k++) this.w[c * 12 + k]! *= gain;
    }
    this.dc = Float64Array.from({ length: C }, () => 50 * (r() - 0.5));
  }
  next(n: number): Float32Array {
    const x = new Float32Array(n * C);
    const s = new Float64Array(12);
    for (let i = 0; i < n; i++, this.n++) {
      const t = this.n / FS;
      for (let k = 0; k < 12; k++) {
        const src = this.src[k]!;
        src.ar[0] = 0.999 * src.ar[0]! + 0.6 * this.g();
        src.ar[1] = 0.97 * src.ar[1]! + 2.5 * this.g();
        src.ar[2] = 0.6 * src.ar[2]! + 6 * this.g();
        s[k] = src.ar[0]! + src.ar[1]! + src.ar[2]! + (src.alpha ? 15 * Math.sin(2 * Math.PI * 10 * t + k) * (1 + Math.sin(2 * Math.PI * 0.2 * t + k)) : 0);
      }
      const line = 1.0 * Math.sin(2 * Math.PI * 50 * t);
      for (let c = 0; c < C; c++) {
        let v = this.dc[c]! + line + 3 * this.g();
        for (let k = 0; k < 12; k++) v += this.w[c * 12 + k]! * s[k]!;
        x[i * C + c] = v;
      }
    }
    return x;
  }
}

const chunk = (data: Float32Array, i0: number): SignalChunk => {
  const n = data.length / C;
  return { kind: 'signal', stream: 'eeg', data, timestamps: Float64Array.from({ length: n }, (_, j) => (i0 + j) / FS), channels: CH, srate: FS };
};
const idx = (l: string) => CH.findIndex((c) => c.label === l);

test('flat, railing and noisy channels are flagged within 2 s, with reasons; a channel recovers', () => {
  const sim = new EegSim(42);
  const det = new BadChannelDetector();
  const g = gaussian(mulberry32(9));
  const t0 = 20, t1 = 40, T = 50;
  const [flat, rail, noisy, hum] = [idx('Cz'), idx('O1'), idx('T7'), idx('P4')];
  const events: BadChannelEvent[] = [];
  const step = 25;
  for (let i0 = 0; i0 < T * FS; i0 += step) {
    const x = sim.next(step);
    for (let i = 0; i < step; i++) {
      const t = (i0 + i) / FS;
      if (t >= t0 && t < t1) {
        x[i * C + flat] = 12.5; // disconnected: constant
        x[i * C + rail] = 3276.7; // amplifier rail
        x[i * C + noisy] = x[i * C + noisy]! + 150 * g(); // noisy contact
        x[i * C + hum] = x[i * C + hum]! + 120 * Math.sin(2 * Math.PI * 50 * t); // line-noise pickup
      }
    }
    events.push(...det.process(chunk(x, i0)));
  }
  const report = events.map((e) => `${e.label} ${e.bad ? 'BAD' : 'ok'} [${e.reasons.join(',')}] at ${e.t.toFixed(2)} s`);
  process.stdout.write(`# events: ${report.join('; ')}\n`);
  const first = (ch: number, bad: boolean) => events.find((e) => e.index === ch && e.bad === bad);
  for (const [ch, reason] of [[flat, 'flat'], [rail, 'railing'], [noisy, 'high-variance'], [hum, 'line-noise']] as const) {
    const e = first(ch, true);
    assert.ok(e, `${CH[ch]!.label} not flagged`);
    assert.ok(e.t - t0 <= 2, `${CH[ch]!.label} flagged after ${e.t - t0} s`);
    assert.ok(e.t >= t0, `${CH[ch]!.label} flagged before the fault`);
    assert.ok(e.reasons.includes(reason), `${CH[ch]!.label}: reasons ${e.reasons}`);
    const r = first(ch, false);
    assert.ok(r && r.t > t1 && r.t - t1 <= 4, `${CH[ch]!.label} did not recover within 4 s`);
    process.stdout.write(`# ${CH[ch]!.label} (${reason}): flagged ${(e.t - t0).toFixed(2)} s after onset, recovered ${(r.t - t1).toFixed(2)} s after the end\n`);
  }
  const others = events.filter((e) => ![flat, rail, noisy, hum].includes(e.index));
  assert.deepEqual(others.map((e) => e.label), [], 'healthy channels flagged');
});

test('false positives: healthy simulated channels are never flagged over 10 minutes', () => {
  const sim = new EegSim(7);
  const det = new BadChannelDetector();
  const events: BadChannelEvent[] = [];
  const step = 125;
  const T = 600;
  const t = Date.now();
  for (let i0 = 0; i0 < T * FS; i0 += step) events.push(...det.process(chunk(sim.next(step), i0)));
  process.stdout.write(`# 10 min × 64 ch @ ${FS} Hz: ${events.length} bad-channel events (${((Date.now() - t) / 1000).toFixed(1)} s)\n`);
  assert.deepEqual(events.map((e) => `${e.label}:${e.reasons}`), []);
});

test('artifact flags: amplitude, gradient and blinks on frontal channels, per frame', () => {
  const sim = new EegSim(3);
  const det = new ArtifactDetector({ frameSec: 0.1 });
  const x = sim.next(FS * 12);
  const c3 = idx('C3');
  // blink at 4 s: 300 ms raised-cosine, 150 µV on Fp1/Fpz/Fp2, 60 % on AF7/AF3/AFz/AF4/AF8
  const blinkGain: Record<string, number> = { Fp1: 1, Fpz: 1, Fp2: 1, AF7: 0.6, AF3: 0.6, AFz: 0.6, AF4: 0.6, AF8: 0.6 };
  const L = Math.round(0.3 * FS);
  for (let i = 0; i < L; i++) {
    const b = 150 * 0.5 * (1 - Math.cos((2 * Math.PI * i) / L));
    for (const [lab, gn] of Object.entries(blinkGain)) x[(4 * FS + i) * C + idx(lab)]! += gn * b;
  }
  // step artifact (electrode pop) at 8 s on C3: +400 µV jump, decaying
  for (let i = 8 * FS; i < 9 * FS; i++) x[i * C + c3]! += 400 * Math.exp(-(i - 8 * FS) / (0.3 * FS));
  const frames = det.process(chunk(x, 0));
  assert.equal(frames.length, 120);
  const blinkFrames = frames.filter((f) => f.blink).map((f) => f.t0);
  const gradFrames = frames.filter((f) => f.gradient.includes('C3')).map((f) => f.t0);
  const ampFrames = frames.filter((f) => f.amplitude.includes('C3')).map((f) => f.t0);
  process.stdout.write(`# blink frames at ${blinkFrames.map((t) => t.toFixed(1))}; C3 gradient at ${gradFrames.map((t) => t.toFixed(1))}; C3 amplitude at ${ampFrames.map((t) => t.toFixed(1))}\n`);
  assert.ok(blinkFrames.length >= 1 && blinkFrames.every((t) => t >= 3.9 && t <= 4.5), `blink frames ${blinkFrames}`);
  assert.deepEqual(gradFrames.map((t) => Math.round(t * 10) / 10), [8]);
  assert.ok(ampFrames.length >= 1 && ampFrames.every((t) => t >= 7.9 && t < 9), `amplitude frames ${ampFrames}`);
  assert.ok(frames.filter((f) => f.t0 < 3.5 || (f.t0 > 5 && f.t0 < 7.5)).every((f) => !f.blink && f.amplitude.length === 0 && f.gradient.length === 0), 'false artifact flags');
});
