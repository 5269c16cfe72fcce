/**
 * The simulator's artifacts: mains interference, slow baseline drift, eye blinks,
 * electrode pops and channel dropouts. Each keeps its own state and draws from the
 * generator's artifact stream in a fixed order, so output stays bit-identical for
 * a seed. Sizes and sources: docs/devices.md, "Signal model".
 */
import type { Rng } from '../src/util/random.ts';
import type { ScheduleEvent } from './schedule.ts';
import type { Note, Src } from './sources.ts';

/** Mains at `lineFreq` plus harmonics: one shared waveform, per-channel gains. */
export class Mains {
  /** per-channel gain of the fundamental and of the harmonics */
  readonly a: Float64Array;
  readonly b: Float64Array;
  private readonly harm: { k: number; a: number; ph: number }[] = [];

  /** Draws the gains and harmonic phases from the static stream `rs`. */
  constructor(C: number, lineRms: number, private readonly lineFreq: number, private readonly fs: number, rs: Rng) {
    this.a = new Float64Array(C);
    this.b = new Float64Array(C);
    // log-normal gains: electrode impedances differ
    for (let c = 0; c < C; c++) {
      this.a[c] = lineRms * Math.SQRT2 * Math.exp(0.5 * rs.gauss() - 0.125);
      this.b[c] = this.a[c] * rs.range(0.4, 1.4);
    }
    const harmAmp = [0, 0, 0.35, 0.2, 0.1, 0.06];
    for (let k = 2; k <= 5; k++) {
      if (k * lineFreq < fs / 2 - 5) this.harm.push({ k, a: harmAmp[k], ph: rs.range(0, 2 * Math.PI) });
    }
  }

  /** L1 ← fundamental, LH ← harmonics over the block of B samples at `start` (exact functions of the sample index). */
  waveforms(start: number, B: number, L1: Float64Array, LH: Float64Array): void {
    const fs = this.fs;
    const t0 = start / fs, t1 = (start + B) / fs;
    const om = (2 * Math.PI * this.lineFreq) / fs;
    const per = fs * 100; // 100 s: an integer number of mains cycles, keeps the phase argument small
    const mod0 = 1 + 0.2 * Math.sin((2 * Math.PI * t0) / 37);
    const mod1 = 1 + 0.2 * Math.sin((2 * Math.PI * t1) / 37);
    for (let k = 0; k < B; k++) {
      const ph = om * ((start + k) % per);
      const m = mod0 + ((mod1 - mod0) * k) / B;
      L1[k] = m * Math.sin(ph);
      let h = 0;
      for (const H of this.harm) h += H.a * Math.sin(H.k * ph + H.ph);
      LH[k] = m * h;
    }
  }
}

/** Per-channel drift: AR(1) per block with a 20 s time constant, volatility varying over ~97 s. */
export class Drift {
  /** level of each channel at the start of the next block */
  readonly level: Float64Array;
  private readonly phase: Float64Array;
  private readonly rho: number;
  private readonly step: number;

  /** Draws the initial levels and volatility phases from the static stream `rs`. */
  constructor(C: number, driftRms: number, B: number, fs: number, rs: Rng) {
    this.level = new Float64Array(C);
    this.phase = new Float64Array(C);
    const blockSec = B / fs;
    this.rho = Math.exp(-blockSec / 20);
    this.step = driftRms * Math.sqrt(1 - this.rho * this.rho);
    for (let c = 0; c < C; c++) {
      this.level[c] = driftRms * rs.gauss();
      this.phase[c] = rs.range(0, Math.PI);
    }
  }

  /** Channel c's level at the end of the block starting at t0 (s); becomes its new level. */
  advance(c: number, t0: number, rng: Rng): number {
    const vol = 0.4 + 1.2 * Math.sin((2 * Math.PI * t0) / 97 + this.phase[c]) ** 2;
    const d1 = this.rho * this.level[c] + this.step * vol * rng.gauss();
    this.level[c] = d1;
    return d1;
  }
}

/** Eye blinks: Poisson onsets with a 0.6 s refractory time, none while the eyes are closed. */
export class Blinks {
  private next: number;

  /** Draws the first onset from the artifact stream `rng`. */
  constructor(private readonly perMin: number, private readonly fs: number, private readonly rng: Rng) {
    this.next = perMin > 0 ? Math.floor(rng.exp((fs * 60) / perMin)) : Infinity;
  }

  /** S ← the blink source `s` over the block at `start`; false when no blink is active. */
  wave(s: Src, S: Float64Array, start: number, B: number, act: ScheduleEvent[], note: Note | undefined): boolean {
    const fs = this.fs;
    // candidate onsets at the base rate, thinned while the eyes are closed
    while (this.next < start + B) {
      const tb = this.next / fs;
      let keep = 1;
      for (const e of act) if (e.cls === 'eyes-closed' && tb >= e.t && tb < e.t + e.dur) keep = 0;
      const amp = this.rng.range(0.65, 1.35);
      if (this.rng.uniform() < keep) {
        s.wavelets.push({ start: this.next, amp: amp * s.amp, freq: 0, dur: 0.6 });
        note?.(this.next, tb, 'truth:blink');
      }
      this.next += Math.max(Math.round(0.6 * fs), Math.floor(this.rng.exp((fs * 60) / this.perMin)));
    }
    if (s.wavelets.length === 0) return false;
    S.fill(0);
    const tau = 0.1;
    for (const b of s.wavelets) {
      for (let k = Math.max(0, b.start - start); k < B; k++) {
        const x = (start + k - b.start) / fs / tau;
        S[k] += b.amp * x * x * Math.exp(2 - 2 * x);
      }
    }
    s.wavelets = s.wavelets.filter((b) => (start + B - b.start) / fs < b.dur);
    return true;
  }
}

interface Pop { c: number; v: number; decay: number; start: number; floor: number }

/** Electrode pops: a step on one channel decaying exponentially (τ 0.15–0.8 s). */
export class Pops {
  private pops: Pop[] = [];
  private next: number;

  /** Draws the first onset from the artifact stream `rng`. */
  constructor(private readonly perMin: number, private readonly amp: number, private readonly fs: number, private readonly rng: Rng) {
    this.next = perMin > 0 ? Math.floor(rng.exp((fs * 60) / perMin)) : Infinity;
  }

  /** Adds the pops to X (C × B, channel-major) for the block at `start`. */
  apply(X: Float64Array, start: number, B: number, C: number, labels: string[], note: Note | undefined): void {
    const fs = this.fs;
    while (this.next < start + B) {
      const c = this.rng.int(C);
      const amp = (this.rng.uniform() < 0.5 ? -1 : 1) * this.amp * this.rng.range(0.5, 1.5);
      const tau = this.rng.range(0.15, 0.8);
      this.pops.push({ c, v: amp, decay: Math.exp(-1 / (tau * fs)), start: this.next, floor: Math.abs(amp) * 0.003 });
      note?.(this.next, this.next / fs, `truth:pop/${labels[c]}`);
      this.next += Math.max(1, Math.floor(this.rng.exp((fs * 60) / this.perMin)));
    }
    for (const p of this.pops) {
      const o = p.c * B;
      for (let k = Math.max(0, p.start - start); k < B; k++) {
        X[o + k] += p.v;
        p.v *= p.decay;
      }
    }
    if (this.pops.length) this.pops = this.pops.filter((p) => Math.abs(p.v) > p.floor);
  }
}

interface Drop { c: number; start: number; end: number }

/** Dropouts: one channel held at exactly 0 for Exp(meanSec) ∈ [0.5, 20] s. */
export class Dropouts {
  private drops: Drop[] = [];
  private next: number;

  /** Draws the first onset from the artifact stream `rng`. */
  constructor(private readonly ratePerMin: number, private readonly meanSec: number, private readonly fs: number, private readonly rng: Rng) {
    this.next = ratePerMin > 0 ? Math.floor(rng.exp((fs * 60) / ratePerMin)) : Infinity;
  }

  /** Zeroes the channels in dropout in X (C × B, channel-major) for the block at `start`. */
  apply(X: Float64Array, start: number, B: number, C: number, labels: string[], note: Note | undefined): void {
    const fs = this.fs;
    while (this.next < start + B) {
      const c = this.rng.int(C);
      const len = Math.round(Math.min(20, Math.max(0.5, this.rng.exp(this.meanSec))) * fs);
      this.drops.push({ c, start: this.next, end: this.next + len });
      note?.(this.next, this.next / fs, `truth:dropout/${labels[c]}`);
      note?.(this.next + len, (this.next + len) / fs, `truth:reconnect/${labels[c]}`);
      this.next += Math.max(1, Math.floor(this.rng.exp((fs * 60) / this.ratePerMin)));
    }
    for (const dr of this.drops) {
      const o = dr.c * B;
      const k0 = Math.max(0, dr.start - start), k1 = Math.min(B, dr.end - start);
      for (let k = k0; k < k1; k++) X[o + k] = 0;
    }
    if (this.drops.length) this.drops = this.drops.filter((dr) => dr.end > start + B);
  }
}
