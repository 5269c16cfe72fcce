/**
 * Seeded, deterministic electrophysiology generator (pure: no I/O, no clocks): per
 * internal block, a 1/f background, sources through a sparse spatial matrix, mains
 * and artifacts, then dropouts and COUNTER. Bit-identical for a seed however `next(n)`
 * is chunked. The model, its numbers and its sources: docs/devices.md, "Signal model".
 */
import type { ChannelInfo } from '../src/types.ts';
import { COUNTER_LABEL, COUNTER_MODULUS, getProfile, type DeviceKind, type DeviceProfile, type Paradigm, PARADIGMS } from './profiles.ts';
import { Rng, hashString } from '../src/util/random.ts';
import { Schedule, type ScheduleEvent, type ScheduleOptions } from './schedule.ts';
import { SpeechSynth, N_ARTIC, type Utterance } from './speech.ts';
import { Blinks, Drift, Dropouts, Mains, Pops } from './artifacts.ts';
import { PARAMS, type ModalityParams } from './modality-params.ts';
import { designPink, type Pink } from './noise-filters.ts';
import { ActiveEvents, evokedWave, gainAt, ssvepWave, trialRand, type TaskContext } from './responses.ts';
import { buildSources, pinkWave, resonatorWave, rippleWave, type Note, type Src } from './sources.ts';

// ---------------------------------------------------------------- public types

export interface ArtifactSwitches {
  /** Mains interference at `lineFreq` and harmonics. */
  line: boolean;
  /** Eye blinks (frontal, large, slow). */
  blinks: boolean;
  /** Electrode pops: step + exponential decay on one channel. */
  pops: boolean;
  /** Slow non-stationary baseline drift. */
  drift: boolean;
}

export interface DropoutOptions {
  /** Dropout onsets per minute, over all channels (default 1). */
  ratePerMin?: number;
  /** Mean flat duration, s (exponential, clamped to [0.5, 20]; default 4). */
  meanSec?: number;
}

export interface GeneratorOptions {
  seed: number;
  /** Default: the profile's default paradigm. */
  paradigm?: Paradigm;
  schedule?: Partial<ScheduleOptions>;
  /** Channels go flat (exactly 0) for a while. Default off. */
  dropout?: boolean | DropoutOptions;
  /** All artifacts on/off (default true), or per kind. */
  artifacts?: boolean | Partial<ArtifactSwitches>;
  /** Mains frequency, 50 (default) or 60 Hz. */
  lineFreq?: 50 | 60;
  /** Append the COUNTER channel (default: profile.counter). */
  counterChannel?: boolean;
  /** Also emit ground-truth `truth:*` events (blinks, pops, dropouts, ripples, speech on/offsets). Default false. */
  annotate?: boolean;
}

/** A marker: `sampleIndex` in the stream, `t` = sampleIndex / srate seconds since start. */
export interface SimEvent {
  sampleIndex: number;
  t: number;
  label: string;
}

// ---------------------------------------------------------------- generator

/** X[idx[j], :] += w[j] · S for every non-zero of one source's spatial column (hot loop, kept small for V8). */
function mixAdd(X: Float64Array, S: Float64Array, idx: Int32Array, w: Float64Array, B: number): void {
  for (let j = 0; j < idx.length; j++) {
    const o = idx[j] * B, wj = w[j];
    // B is a power of two ≥ 8: unrolled by 4 (≈2× faster in V8)
    for (let k = 0; k < B; k += 4) {
      X[o + k] += wj * S[k];
      X[o + k + 1] += wj * S[k + 1];
      X[o + k + 2] += wj * S[k + 2];
      X[o + k + 3] += wj * S[k + 3];
    }
  }
}

function internalBlock(fs: number): number {
  const b = 2 ** Math.round(Math.log2(fs / 32));
  return Math.max(8, Math.min(512, b));
}

/** The generator of one device profile: `next(n)` samples, `events()` the markers they carry. */
export class SignalGenerator {
  readonly profile: DeviceProfile;
  readonly paradigm: Paradigm;
  readonly seed: number;
  /** Output channels (profile channels + COUNTER when enabled). */
  readonly channels: ChannelInfo[];
  /** Sampling rate of `next()` (markers profile: a virtual 1000 Hz clock). */
  readonly srate: number;
  readonly schedule: Schedule;
  readonly hasCounter: boolean;

  private readonly fs: number;
  private readonly C: number; // signal channels
  private readonly Cout: number;
  private readonly B: number;
  private readonly kind: DeviceKind;
  private readonly P: ModalityParams | null;
  private readonly art: ArtifactSwitches;
  private readonly dropout: Required<DropoutOptions> | null;
  private readonly annotate: boolean;
  private readonly lineFreq: number;

  private readonly rngChan: Rng;
  private readonly rngSrc: Rng;
  private readonly rngArt: Rng;

  private readonly sources: Src[] = [];
  private readonly chanPink: Pink | null = null;
  private readonly chanState: Float64Array;
  private readonly pinkP8 = new Float64Array(8);
  private readonly pinkG8 = new Float64Array(8);
  private readonly mains: Mains | null = null;
  private readonly drift: Drift | null = null;
  private readonly blinks: Blinks | null = null;
  private readonly pops: Pops | null = null;
  private readonly drops: Dropouts | null = null;
  /** ground-truth annotations go to `pending` (only with `annotate`) */
  private readonly note: Note | undefined;

  // buffers
  private readonly X: Float64Array; // C × B, channel-major
  private readonly noise: Float64Array; // C × B
  private readonly S: Float64Array; // B
  private readonly L1: Float64Array; // B
  private readonly LH: Float64Array; // B
  private readonly rowBuf: Float32Array; // B × Cout
  private rowPos: number; // next unread row in rowBuf
  private blockStart = 0; // sample index of rowBuf row 0
  private emitted = 0;
  private evCursor = 0; // next schedule event to turn into a marker
  private pending: SimEvent[] = [];
  private readonly active: ActiveEvents;
  private readonly task: TaskContext;
  private readonly synth: SpeechSynth | null = null;
  private readonly chanLabels: string[];


  constructor(profile: DeviceProfile, opts: GeneratorOptions) {
    if (!opts || !Number.isFinite(opts.seed)) throw new Error('SignalGenerator: opts.seed (a finite number) is required');
    const paradigm = opts.paradigm ?? profile.defaultParadigm;
    if (!PARADIGMS.includes(paradigm)) throw new Error(`unknown paradigm '${paradigm}'; valid: ${PARADIGMS.join(', ')}`);
    this.profile = profile;
    this.paradigm = paradigm;
    this.seed = opts.seed;
    this.kind = profile.kind;
    this.fs = profile.srate > 0 ? profile.srate : 1000;
    this.srate = this.fs;
    this.schedule = new Schedule(paradigm, opts.seed, opts.schedule);
    this.active = new ActiveEvents(this.schedule);
    this.task = { paradigm, seed: opts.seed, featBuf: new Float64Array(N_ARTIC) };
    const artAll = opts.artifacts ?? true;
    const a = typeof artAll === 'boolean' ? { line: artAll, blinks: artAll, pops: artAll, drift: artAll } : { line: true, blinks: true, pops: true, drift: true, ...artAll };
    this.art = a;
    this.dropout = opts.dropout ? { ratePerMin: 1, meanSec: 4, ...(typeof opts.dropout === 'object' ? opts.dropout : {}) } : null;
    this.annotate = opts.annotate ?? false;
    this.note = this.annotate ? (sampleIndex, t, label) => void this.pending.push({ sampleIndex, t, label }) : undefined;
    this.lineFreq = opts.lineFreq ?? 50;
    if (this.lineFreq !== 50 && this.lineFreq !== 60) throw new Error(`lineFreq must be 50 or 60 (got ${this.lineFreq})`);

    const isMarkers = profile.kind === 'markers';
    this.C = isMarkers ? 0 : profile.channels.length;
    this.hasCounter = !isMarkers && (opts.counterChannel ?? profile.counter ?? false);
    this.channels = isMarkers ? [] : [...profile.channels.map((c) => ({ ...c })), ...(this.hasCounter ? [{ label: COUNTER_LABEL, type: 'MISC', unit: 'samples' }] : [])];
    this.chanLabels = profile.channels.map((c) => c.label);
    this.Cout = this.C + (this.hasCounter ? 1 : 0);
    this.B = internalBlock(this.fs);
    const C = this.C, B = this.B;

    const base = hashString(profile.name);
    this.rngChan = new Rng(opts.seed, base ^ 0x1001);
    this.rngSrc = new Rng(opts.seed, base ^ 0x2002);
    this.rngArt = new Rng(opts.seed, base ^ 0x3003);
    const rngStatic = new Rng(opts.seed, base ^ 0x4004);

    this.X = new Float64Array(C * B);
    this.noise = new Float64Array(C * B);
    this.S = new Float64Array(B);
    this.L1 = new Float64Array(B);
    this.LH = new Float64Array(B);
    this.rowBuf = new Float32Array(B * this.Cout);
    this.rowPos = B; // empty
    this.blockStart = -B;
    this.chanState = new Float64Array(0);

    if (profile.kind === 'audio') {
      this.P = null;
      this.synth = new SpeechSynth(this.fs, opts.seed);
      return;
    }
    if (isMarkers) {
      this.P = null;
      return;
    }
    const P = PARAMS[profile.kind as keyof typeof PARAMS];
    this.P = P;

    // per-channel background
    this.chanPink = designPink(this.fs, P.noiseBeta, P.noiseRms);
    this.chanState = new Float64Array(C * this.chanPink.p.length);
    this.pinkP8.set(this.chanPink.p);
    this.pinkG8.set(this.chanPink.g);

    // The static layout draws in a fixed order: mains gains, drift, then the sources.
    this.mains = new Mains(C, P.lineRms, this.lineFreq, this.fs, rngStatic);
    this.drift = new Drift(C, P.driftRms, B, this.fs, rngStatic);
    this.sources = buildSources({ profile, kind: this.kind, fs: this.fs, P, chanLabels: this.chanLabels, rngArt: this.rngArt }, rngStatic);
    for (const s of this.sources) s.lastGain = gainAt(s, 0, this.active.at(0, 0), this.task);

    // first artifact events, in this order (after the ripple sources' first onsets)
    this.blinks = new Blinks(P.blinkPerMin, this.fs, this.rngArt);
    this.pops = new Pops(P.popPerMin, P.popAmp, this.fs, this.rngArt);
    if (this.dropout) this.drops = new Dropouts(this.dropout.ratePerMin, this.dropout.meanSec, this.fs, this.rngArt);
  }

  // ------------------------------------------------------------ block synthesis

  private genBlock(): void {
    const B = this.B, C = this.C, fs = this.fs;
    const start = this.blockStart + B;
    this.blockStart = start;
    this.rowPos = 0;
    const t0 = start / fs, t1 = (start + B) / fs;
    const rows = this.rowBuf, Cout = this.Cout;

    // schedule markers for this block
    this.schedule.ensure(t1 + 1);
    const ev = this.schedule.events;
    while (this.evCursor < ev.length) {
      const e = ev[this.evCursor];
      const si = Math.round(e.t * fs);
      if (si >= start + B) break;
      this.pending.push({ sampleIndex: si, t: si / fs, label: e.label });
      if (this.annotate && e.speech) {
        const on = Math.round(e.speech.onset * fs), off = Math.round((e.speech.onset + e.speech.dur) * fs);
        this.pending.push({ sampleIndex: on, t: on / fs, label: `truth:speech-onset/${e.speech.word}` });
        this.pending.push({ sampleIndex: off, t: off / fs, label: `truth:speech-offset/${e.speech.word}` });
      }
      this.evCursor++;
    }

    if (this.kind === 'markers') return;
    if (this.kind === 'audio') {
      const utt: Utterance[] = [];
      for (const e of this.active.at(t0, t1)) {
        if (e.speech) utt.push({ word: e.speech.word, onset: e.speech.onset, dur: e.speech.dur, f0: 100 + 40 * trialRand(this.seed, e, 3) });
      }
      this.synth!.render(rows, 0, Cout, B, t0, utt);
      if (this.hasCounter) for (let k = 0; k < B; k++) rows[k * Cout + C] = (start + k) % COUNTER_MODULUS;
      return;
    }

    const P = this.P!;
    const X = this.X, noise = this.noise, S = this.S;

    // 1. mains waveforms shared by all channels (exact functions of the sample index)
    const line = this.art.line;
    if (line) this.mains!.waveforms(start, B, this.L1, this.LH);
    const L1 = this.L1, LH = this.LH;

    // 2. per channel, fused: 1/f background (≤ 8 one-pole stages, shared white drive)
    //    + mains (per-channel gains) + drift (per-block AR(1), linearly interpolated,
    //    with slowly varying volatility)
    this.rngChan.fillGauss(noise, 0, C * B);
    const pk = this.chanPink!;
    const np = pk.p.length;
    const st = this.chanState;
    const pp = this.pinkP8, gg = this.pinkG8;
    const p0 = pp[0], p1 = pp[1], p2 = pp[2], p3 = pp[3], p4 = pp[4], p5 = pp[5], p6 = pp[6], p7 = pp[7];
    const g0 = gg[0], g1 = gg[1], g2 = gg[2], g3 = gg[3], g4 = gg[4], g5 = gg[5], g6 = gg[6], g7 = gg[7];
    const wh = pk.white;
    const drift = this.art.drift, dr = this.drift!, mains = this.mains!;
    for (let c = 0; c < C; c++) {
      const o = c * B, so = c * np;
      let s0 = np > 0 ? st[so] : 0, s1 = np > 1 ? st[so + 1] : 0, s2 = np > 2 ? st[so + 2] : 0, s3 = np > 3 ? st[so + 3] : 0;
      let s4 = np > 4 ? st[so + 4] : 0, s5 = np > 5 ? st[so + 5] : 0, s6 = np > 6 ? st[so + 6] : 0, s7 = np > 7 ? st[so + 7] : 0;
      const la = line ? mains.a[c] : 0, lb = line ? mains.b[c] : 0;
      let d0 = 0, dd = 0;
      if (drift) {
        d0 = dr.level[c];
        dd = (dr.advance(c, t0, this.rngArt) - d0) / B;
      }
      for (let k = 0; k < B; k++) {
        const e = noise[o + k];
        s0 = p0 * s0 + g0 * e; s1 = p1 * s1 + g1 * e; s2 = p2 * s2 + g2 * e; s3 = p3 * s3 + g3 * e;
        s4 = p4 * s4 + g4 * e; s5 = p5 * s5 + g5 * e; s6 = p6 * s6 + g6 * e; s7 = p7 * s7 + g7 * e;
        X[o + k] = wh * e + s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + la * L1[k] + lb * LH[k] + d0 + dd * k;
      }
      if (np > 0) st[so] = s0;
      if (np > 1) st[so + 1] = s1;
      if (np > 2) st[so + 2] = s2;
      if (np > 3) st[so + 3] = s3;
      if (np > 4) st[so + 4] = s4;
      if (np > 5) st[so + 5] = s5;
      if (np > 6) st[so + 6] = s6;
      if (np > 7) st[so + 7] = s7;
    }

    // 3. sources through the sparse spatial matrix
    const act = this.active.at(t0, t1);
    for (const s of this.sources) {
      if (this.sourceWave(s, start, act)) mixAdd(X, S, s.idx, s.w, B);
    }

    // 5. electrode pops
    if (this.art.pops && P.popPerMin > 0) this.pops!.apply(X, start, B, C, this.chanLabels, this.note);

    // 6. dropouts: channel forced to exactly 0
    this.drops?.apply(X, start, B, C, this.chanLabels, this.note);

    // 7. transpose to row-major float32 (+ COUNTER)
    for (let c = 0; c < C; c++) {
      const o = c * B;
      for (let k = 0; k < B; k++) rows[k * Cout + c] = X[o + k];
    }
    if (this.hasCounter) for (let k = 0; k < B; k++) rows[k * Cout + C] = (start + k) % COUNTER_MODULUS;
  }

  /** Fill this.S with source s over the block; false if the source is silent in this block. */
  private sourceWave(s: Src, start: number, act: ScheduleEvent[]): boolean {
    const B = this.B, fs = this.fs, S = this.S;
    switch (s.type) {
      case 'pink':
        pinkWave(s, S, B, this.rngSrc);
        return true;
      case 'osc':
      case 'hg':
        resonatorWave(s, S, B, this.rngSrc, gainAt(s, (start + B) / fs, act, this.task));
        return true;
      case 'ssvep':
        return ssvepWave(s, S, start, B, fs, act, this.task);
      case 'p300':
      case 'vep':
        return evokedWave(s, S, start, B, fs, act, this.task);
      case 'blink':
        return this.art.blinks && this.blinks!.wave(s, S, start, B, act, this.note);
      case 'ripple':
        return rippleWave(s, S, start, B, fs, this.rngArt, this.note);
    }
  }

  // ------------------------------------------------------------ public API

  /** Number of samples returned so far. */
  get samplesEmitted(): number {
    return this.emitted;
  }

  /** Next `n` samples, row-major n × channels.length. */
  next(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new Error(`next(n): n must be a non-negative integer (got ${n})`);
    const out = new Float32Array(n * this.Cout);
    this.nextInto(out, n);
    return out;
  }

  /** Write the next `n` samples into `out` (length ≥ n × channels.length). */
  nextInto(out: Float32Array, n: number): void {
    const Cout = this.Cout, B = this.B;
    let done = 0;
    while (done < n) {
      if (this.rowPos >= B) this.genBlock();
      const take = Math.min(n - done, B - this.rowPos);
      const src = this.rowBuf, a = this.rowPos * Cout, len = take * Cout, o = done * Cout;
      if (len > 256) out.set(src.subarray(a, a + len), o);
      else for (let i = 0; i < len; i++) out[o + i] = src[a + i];
      this.rowPos += take;
      done += take;
    }
    this.emitted += n;
  }

  /** Drain the markers whose sample has been returned by `next()`, in order. */
  events(): SimEvent[] {
    if (this.pending.length === 0) return [];
    // make sure markers up to the emitted sample exist even if no block was generated yet
    const limit = this.emitted;
    const ready: SimEvent[] = [];
    const keep: SimEvent[] = [];
    for (const e of this.pending) (e.sampleIndex < limit ? ready : keep).push(e);
    this.pending = keep;
    ready.sort((a, b) => a.sampleIndex - b.sampleIndex);
    return ready;
  }

  /**
   * Advance the marker stream without producing samples (markers profile): returns the
   * markers with sampleIndex < `sampleIndex` (on the virtual clock of `srate`).
   */
  advanceTo(sampleIndex: number): SimEvent[] {
    const n = sampleIndex - this.emitted;
    if (n > 0) {
      if (this.Cout === 0) {
        while (this.blockStart + this.B < sampleIndex) this.genBlock();
        this.emitted = sampleIndex;
      } else this.next(n);
    }
    return this.events();
  }
}

// ---------------------------------------------------------------- offline recordings

export interface Recording {
  /** samples × channels, row-major */
  data: Float32Array;
  srate: number;
  channels: ChannelInfo[];
  events: SimEvent[];
  profile: string;
  paradigm: Paradigm;
  seed: number;
}

/**
 * A finite recording for offline training / tests. `opts` are passed to the generator
 * (e.g. `{ artifacts: false, schedule: { calibTrials: 5 } }`).
 */
export function generateRecording(
  profileName: string | DeviceProfile,
  paradigm: Paradigm,
  seed: number,
  seconds: number,
  opts: Omit<GeneratorOptions, 'seed' | 'paradigm'> = {},
): Recording {
  const profile = typeof profileName === 'string' ? getProfile(profileName) : profileName;
  if (profile.kind === 'markers') throw new Error('generateRecording: the markers profile has no samples; use SignalGenerator.advanceTo()');
  const gen = new SignalGenerator(profile, { ...opts, seed, paradigm });
  const n = Math.round(seconds * gen.srate);
  const data = gen.next(n);
  return { data, srate: gen.srate, channels: gen.channels, events: gen.events(), profile: profile.name, paradigm, seed };
}
