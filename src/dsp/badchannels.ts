/**
 * Online bad-channel detection. Sliding windows (default 1 s, hop 0.25 s); in every window each
 * channel is tested for:
 *
 * - `flat`        : high-passed std over the window, or raw std over the latest hop, below
 *                   max(flatAbs, flatRel × the median over channels) (disconnected / dead channel);
 * - `railing`     : raw samples pinned at the window's extreme value (≥ railFraction of the window
 *                   exactly at min or max) at a large value (|v| ≥ 0.9·railValue when known, else
 *                   farther than railRel × median std from the median channel mean), i.e. a saturated
 *                   amplifier input;
 * - `high-variance`: log std above the median log std by more than max(highZ·σ_robust, ln highRatio);
 * - `line-noise`  : power at the line frequency and harmonics > lineFraction of the channel's power
 *                   and > lineRel × the median channel's fraction;
 * - `uncorrelated`: the second-highest |correlation| with its neighbours (k = 6 nearest by position,
 *                   ±3 adjacent contacts on an SEEG shaft, or all channels when positions are unknown)
 *                   below corrMin (0.3): a healthy channel follows at least two neighbours.
 *
 * Variance, line and correlation statistics use an internal 1 Hz high-pass (2nd-order Butterworth),
 * the railing test uses raw values. A channel becomes bad after `confirmWindows` consecutive
 * flagged windows and recovers after `recoverWindows` consecutive clean ones; every change is a
 * `BadChannelEvent` carrying its reasons and metrics.
 */
import type { ChannelInfo, SignalChunk } from '../types.ts';
import { logger } from '../log.ts';
import { butterSos } from './design.ts';
import { SosFilter } from './sos.ts';
import { channelKey, nSamples } from './chunk.ts';
import { shaftLayout } from './montage.ts';
import { isNonNeural } from './contacts.ts';

const log = logger('dsp.badchannels');

export type BadReason = 'flat' | 'railing' | 'high-variance' | 'line-noise' | 'uncorrelated';

export interface BadChannelEvent {
  type: 'bad-channel';
  stream: string;
  label: string;
  index: number;
  /** true: channel declared bad; false: channel recovered. */
  bad: boolean;
  reasons: BadReason[];
  /** Timestamp of the last sample of the deciding window. */
  t: number;
  metrics: { std: number; medianStd: number; lineFraction: number; neighbourCorr: number; pinnedFraction: number };
}

export interface BadChannelOptions {
  windowSec?: number;
  hopSec?: number;
  confirmWindows?: number;
  recoverWindows?: number;
  flatAbs?: number;
  flatRel?: number;
  railValue?: number;
  railFraction?: number;
  railRel?: number;
  highZ?: number;
  highRatio?: number;
  lineFreq?: number;
  lineFraction?: number;
  lineRel?: number;
  corrMin?: number;
  neighbours?: number;
  /** Only channels of these types are tested (default: all but MISC/TRIG/STIM/COUNTER/AUDIO/BANDPOWER and non-neural names such as EKG1, DC01). */
  types?: string[];
}

const SKIP_TYPES = new Set(['MISC', 'TRIG', 'STIM', 'COUNTER', 'AUDIO', 'BANDPOWER']);

function median(a: ArrayLike<number>): number {
  const s = Array.from(a).filter(Number.isFinite).sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : 0.5 * (s[m - 1]! + s[m]!);
}

export class BadChannelDetector {
  readonly o: Required<Omit<BadChannelOptions, 'railValue' | 'types'>> & { railValue?: number; types?: string[] };
  private fs = 0;
  private C = -1;
  private key = '';
  private channels: ChannelInfo[] = [];
  private tested: boolean[] = [];
  private winN = 0;
  private hopN = 0;
  private raw = new Float64Array(0); // ring winN × C
  private hp = new Float64Array(0);
  private pos = 0;
  private untilHop = 0;
  private filter: SosFilter | null = null;
  private hpRow = new Float64Array(0);
  private nbrs: Int32Array[] = [];
  private flagRun: Int32Array = new Int32Array(0);
  private cleanRun: Int32Array = new Int32Array(0);
  private state: boolean[] = [];
  private lastReasons: BadReason[][] = [];
  private stream = '';
  private lineBins: number[] = [];
  private win = new Float64Array(0);
  private lineCos: Float64Array[] = [];
  private lineSin: Float64Array[] = [];
  private winSum = 0;

  constructor(opts: BadChannelOptions = {}) {
    this.o = {
      windowSec: 1, hopSec: 0.25, confirmWindows: 2, recoverWindows: 8,
      flatAbs: 1e-3, flatRel: 0.02, railFraction: 0.2, railRel: 50,
      highZ: 6, highRatio: 5, lineFreq: 50, lineFraction: 0.5, lineRel: 4,
      corrMin: 0.3, neighbours: 6,
      ...opts,
    };
  }

  /** Labels currently declared bad. */
  badLabels(): string[] { return this.channels.filter((_, i) => this.state[i]).map((c) => c.label); }

  /** Forget the signal history (after a gap); bad/good decisions are kept. */
  reset(): void {
    this.pos = 0;
    this.untilHop = this.winN;
    this.filter?.reset();
    this.raw.fill(0);
    this.hp.fill(0);
  }

  private configure(chunk: SignalChunk): void {
    this.fs = chunk.srate;
    if (!this.fs) throw new Error('bad-channel detector: stream has no nominal rate');
    const prevBad = new Set(this.badLabels());
    this.channels = chunk.channels;
    this.C = chunk.channels.length;
    this.key = channelKey(chunk.channels);
    this.stream = chunk.stream;
    // Non-neural inputs (EKG, DC, triggers, by type or name) are never judged: they do not look like brain signal.
    this.tested = chunk.channels.map((c) => (this.o.types ? this.o.types.includes(c.type ?? '') : !SKIP_TYPES.has((c.type ?? '').toUpperCase()) && !isNonNeural(c)));
    this.winN = Math.max(8, Math.round(this.o.windowSec * this.fs));
    this.hopN = Math.max(1, Math.round(this.o.hopSec * this.fs));
    this.raw = new Float64Array(this.winN * this.C);
    this.hp = new Float64Array(this.winN * this.C);
    this.hpRow = new Float64Array(this.C);
    this.filter = new SosFilter(butterSos({ order: 2, cutoff: Math.min(1, this.fs / 8), btype: 'highpass', fs: this.fs }), { init: 'steady' });
    this.flagRun = new Int32Array(this.C);
    this.cleanRun = new Int32Array(this.C);
    this.state = chunk.channels.map((c) => prevBad.has(c.label));
    this.lastReasons = chunk.channels.map(() => []);
    this.nbrs = this.findNeighbours(chunk.channels);
    this.lineBins = [];
    for (let f = this.o.lineFreq; f < this.fs / 2 - 1; f += this.o.lineFreq) this.lineBins.push(f);
    this.win = new Float64Array(this.winN);
    for (let i = 0; i < this.winN; i++) this.win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / this.winN);
    this.winSum = this.win.reduce((a, b) => a + b, 0);
    this.lineCos = this.lineBins.map((f) => this.win.map((w, k) => w * Math.cos((2 * Math.PI * f * k) / this.fs)));
    this.lineSin = this.lineBins.map((f) => this.win.map((w, k) => w * Math.sin((2 * Math.PI * f * k) / this.fs)));
    this.reset();
  }

  private findNeighbours(channels: ChannelInfo[]): Int32Array[] {
    const k = this.o.neighbours;
    const out: Int32Array[] = channels.map(() => new Int32Array(0));
    const shafts = shaftLayout(channels);
    const onShaft = new Set<number>();
    for (const list of shafts.values()) {
      if (!list.every((e) => e.info.type?.toUpperCase() === 'SEEG')) continue;
      list.forEach((e, i) => {
        const ns: number[] = [];
        for (let d = 1; d <= Math.ceil(k / 2); d++) {
          if (list[i - d]) ns.push(list[i - d]!.index);
          if (list[i + d]) ns.push(list[i + d]!.index);
        }
        out[e.index] = Int32Array.from(ns);
        onShaft.add(e.index);
      });
    }
    channels.forEach((ch, i) => {
      if (onShaft.has(i) || !this.tested[i]) return;
      const cands = channels
        .map((o, j) => ({ j, d: j === i || !this.tested[j] ? Infinity : ch.pos && o.pos ? Math.hypot(ch.pos[0] - o.pos[0], ch.pos[1] - o.pos[1], ch.pos[2] - o.pos[2]) : 1 }))
        .filter((c) => Number.isFinite(c.d))
        .sort((a, b) => a.d - b.d || a.j - b.j)
        .slice(0, ch.pos ? k : channels.length);
      out[i] = Int32Array.from(cands.map((c) => c.j));
    });
    return out;
  }

  /** Feed one chunk; returns the decisions that changed in it. */
  process(chunk: SignalChunk): BadChannelEvent[] {
    if (chunk.srate !== this.fs || channelKey(chunk.channels) !== this.key) this.configure(chunk);
    const C = this.C;
    const n = nSamples(chunk);
    const x = chunk.data;
    const events: BadChannelEvent[] = [];
    const row = this.hpRow;
    for (let i = 0; i < n; i++) {
      const o = i * C;
      const r = this.pos * C;
      for (let c = 0; c < C; c++) { row[c] = x[o + c]!; this.raw[r + c] = x[o + c]!; }
      this.filter!.processF64(row, C);
      for (let c = 0; c < C; c++) this.hp[r + c] = row[c]!;
      this.pos = (this.pos + 1) % this.winN;
      if (--this.untilHop === 0) {
        this.untilHop = this.hopN;
        this.evaluate(chunk.timestamps[i]!, events);
      }
    }
    return events;
  }

  private evaluate(t: number, events: BadChannelEvent[]): void {
    const { C, winN } = this;
    const o = this.o;
    const std = new Float64Array(C);
    const mean = new Float64Array(C);
    const pinned = new Float64Array(C);
    const pinnedValue = new Float64Array(C);
    const hopStd = new Float64Array(C);
    const line = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      if (!this.tested[c]) continue;
      let s = 0, s2 = 0, rs = 0, mn = Infinity, mx = -Infinity;
      for (let k = 0; k < winN; k++) {
        const v = this.hp[k * C + c]!;
        s += v; s2 += v * v;
        const rv = this.raw[k * C + c]!;
        rs += rv;
        if (rv < mn) mn = rv;
        if (rv > mx) mx = rv;
      }
      const m = s / winN;
      std[c] = Math.sqrt(Math.max(0, s2 / winN - m * m));
      mean[c] = rs / winN;
      let atMin = 0, atMax = 0;
      const tol = 1e-7 * Math.max(Math.abs(mn), Math.abs(mx));
      for (let k = 0; k < winN; k++) {
        const rv = this.raw[k * C + c]!;
        if (rv - mn <= tol) atMin++;
        if (mx - rv <= tol) atMax++;
      }
      pinned[c] = Math.max(atMin, atMax) / winN;
      // raw std over the most recent hop: a dead input is caught after one hop, before the window fills
      let h1 = 0, h2 = 0;
      const hn = Math.min(this.hopN, winN);
      for (let k = 1; k <= hn; k++) {
        const q = (this.pos - k + winN) % winN;
        const rv = this.raw[q * C + c]! - mean[c]!;
        h1 += rv; h2 += rv * rv;
      }
      hopStd[c] = Math.sqrt(Math.max(0, h2 / hn - (h1 / hn) ** 2));
      pinnedValue[c] = atMax >= atMin ? mx : mn;
      // line-noise fraction: Hann-windowed DFT power at the line frequency and harmonics
      let pl = 0;
      const sw = this.winSum;
      for (let h = 0; h < this.lineBins.length; h++) {
        const cw = this.lineCos[h]!, sn = this.lineSin[h]!;
        let re = 0, im = 0;
        for (let k = 0, q = this.pos; k < winN; k++, q = q + 1 === winN ? 0 : q + 1) {
          const v = this.hp[q * C + c]! - m;
          re += v * cw[k]!; im -= v * sn[k]!;
        }
        pl += (2 * (re * re + im * im)) / (sw * sw);
      }
      line[c] = std[c]! > 0 ? Math.min(1, pl / (std[c]! * std[c]!)) : 0;
    }
    const testedIdx = [...Array(C).keys()].filter((c) => this.tested[c]);
    const medStd = median(testedIdx.map((c) => std[c]!));
    const logStd = testedIdx.map((c) => Math.log(std[c]! + 1e-30));
    const medLog = median(logStd);
    const sigma = 1.4826 * median(logStd.map((v) => Math.abs(v - medLog)));
    const medMean = median(testedIdx.map((c) => mean[c]!));
    const medHopStd = median(testedIdx.map((c) => hopStd[c]!));
    const medLine = median(testedIdx.map((c) => line[c]!));
    for (const c of testedIdx) {
      const reasons: BadReason[] = [];
      const railing = pinned[c]! >= o.railFraction && (o.railValue !== undefined
        ? Math.abs(pinnedValue[c]!) >= 0.9 * o.railValue
        : Math.abs(pinnedValue[c]! - medMean) > o.railRel * medStd);
      if (railing) reasons.push('railing');
      else if (std[c]! < Math.max(o.flatAbs, o.flatRel * medStd) || hopStd[c]! < Math.max(o.flatAbs, o.flatRel * medHopStd)) reasons.push('flat');
      if (!railing && Math.log(std[c]! + 1e-30) - medLog > Math.max(o.highZ * sigma, Math.log(o.highRatio))) reasons.push('high-variance');
      if (line[c]! > o.lineFraction && line[c]! > o.lineRel * medLine) reasons.push('line-noise');
      let corr = NaN;
      if (!railing && reasons[0] !== 'flat' && this.nbrs[c]!.length >= 2) {
        const cs: number[] = [];
        for (const j of this.nbrs[c]!) {
          if (std[j]! < Math.max(o.flatAbs, o.flatRel * medStd)) continue;
          let sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
          for (let k = 0; k < winN; k++) {
            const a = this.hp[k * C + c]!, b = this.hp[k * C + j]!;
            sx += a; sy += b; sxy += a * b; sxx += a * a; syy += b * b;
          }
          const cov = sxy / winN - (sx / winN) * (sy / winN);
          const va = sxx / winN - (sx / winN) ** 2, vb = syy / winN - (sy / winN) ** 2;
          cs.push(va > 0 && vb > 0 ? Math.abs(cov) / Math.sqrt(va * vb) : 0);
        }
        if (cs.length >= 2) {
          cs.sort((a, b) => b - a);
          corr = cs[1]!; // second-best neighbour: a healthy channel follows at least two neighbours
          if (corr < o.corrMin) reasons.push('uncorrelated');
        }
      }
      const flagged = reasons.length > 0;
      if (flagged) { this.flagRun[c]!++; this.cleanRun[c] = 0; this.lastReasons[c] = reasons; }
      else { this.cleanRun[c]!++; this.flagRun[c] = 0; }
      const metrics = { std: std[c]!, medianStd: medStd, lineFraction: line[c]!, neighbourCorr: corr, pinnedFraction: pinned[c]! };
      if (!this.state[c] && this.flagRun[c]! >= o.confirmWindows) {
        this.state[c] = true;
        const ev: BadChannelEvent = { type: 'bad-channel', stream: this.stream, label: this.channels[c]!.label, index: c, bad: true, reasons, t, metrics };
        log.info({ stream: ev.stream, channel: ev.label, reasons, t }, 'channel marked bad');
        events.push(ev);
      } else if (this.state[c] && this.cleanRun[c]! >= o.recoverWindows) {
        this.state[c] = false;
        const ev: BadChannelEvent = { type: 'bad-channel', stream: this.stream, label: this.channels[c]!.label, index: c, bad: false, reasons: this.lastReasons[c]!, t, metrics };
        log.info({ stream: ev.stream, channel: ev.label, t }, 'channel recovered');
        events.push(ev);
      }
    }
  }
}
