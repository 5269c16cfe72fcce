/**
 * Re-referencing and montages: common average (excluding bad channels), SEEG bipolar
 * (adjacent contacts along each shaft), Laplacian (known neighbours) and any user matrix.
 * Every montage is a sparse linear map from input channels to output channels, computed in
 * float64 per sample (so it is exactly chunking-invariant), with output channel metadata
 * (labels such as `LA1-LA2`, positions at midpoints).
 */
import type { ChannelInfo, SignalChunk } from '../types.ts';
import { logger } from '../log.ts';
import { channelKey, nSamples, withData, type ChunkProcessor } from './chunk.ts';
import { cleanLabel, isNonNeural, parseContactLabel, shaftKey } from './contacts.ts';

const log = logger('dsp.montage');

/** A sparse linear montage: output r = Σ_k weights[r][k] · input[indices[r][k]]. */
export interface Montage {
  channels: ChannelInfo[];
  indices: Int32Array[];
  weights: Float64Array[];
}

/** Labels to exclude: a fixed list, or a function read on every chunk (e.g. a bad-channel tracker). */
export type Exclusion = Iterable<string> | (() => Iterable<string>);

function readExclusion(ex: Exclusion | undefined): Set<string> {
  if (!ex) return new Set();
  return new Set(typeof ex === 'function' ? ex() : ex);
}
const setKey = (s: Set<string>): string => [...s].sort().join('\u0001');

/** Applies a montage built from the input channel set; rebuilds when channels or exclusions change. */
export class MontageProcessor implements ChunkProcessor {
  private key = '';
  private montage: Montage | null = null;
  private flatIdx = new Int32Array(0);
  private flatW = new Float64Array(0);
  private rowStart = new Int32Array(0);
  private scratch = new Float64Array(0);

  constructor(
    readonly name: string,
    private readonly build: (channels: ChannelInfo[], exclude: Set<string>) => Montage,
    private readonly exclude?: Exclusion,
  ) {}

  /** Extra labels excluded on top of `exclude` (set by the operator from bad-channel markers). */
  extraExclude = new Set<string>();

  reset(): void { /* memoryless */ }

  /** The montage in use (after the first chunk). */
  get current(): Montage | null { return this.montage; }

  /** Build (or reuse) the montage for a channel set. */
  montageFor(channels: ChannelInfo[]): Montage {
    const ex = readExclusion(this.exclude);
    for (const l of this.extraExclude) ex.add(l);
    const key = channelKey(channels) + '|' + setKey(ex);
    if (key !== this.key || !this.montage) {
      this.key = key;
      const m = this.build(channels, ex);
      this.montage = m;
      const R = m.channels.length;
      this.rowStart = new Int32Array(R + 1);
      for (let r = 0; r < R; r++) this.rowStart[r + 1] = this.rowStart[r]! + m.indices[r]!.length;
      this.flatIdx = new Int32Array(this.rowStart[R]!);
      this.flatW = new Float64Array(this.rowStart[R]!);
      for (let r = 0; r < R; r++) { this.flatIdx.set(m.indices[r]!, this.rowStart[r]!); this.flatW.set(m.weights[r]!, this.rowStart[r]!); }
      log.debug({ montage: this.name, in: channels.length, out: R, excluded: [...ex] }, 'montage built');
    }
    return this.montage;
  }

  /** Float64 path (known-answer tests): x is samples × channels.length. */
  processF64(x: Float64Array, channels: ChannelInfo[]): Float64Array {
    const m = this.montageFor(channels);
    const C = channels.length;
    const R = m.channels.length;
    const n = x.length / C;
    const out = new Float64Array(n * R);
    for (let i = 0; i < n; i++) this.row(x, i * C, out, i * R, R);
    return out;
  }

  private row(x: Float64Array, xo: number, out: Float64Array, oo: number, R: number): void {
    const rs = this.rowStart, idx = this.flatIdx, w = this.flatW;
    for (let r = 0; r < R; r++) {
      let acc = 0;
      for (let k = rs[r]!; k < rs[r + 1]!; k++) acc += w[k]! * x[xo + idx[k]!]!;
      out[oo + r] = acc;
    }
  }

  process(chunk: SignalChunk): SignalChunk {
    const m = this.montageFor(chunk.channels);
    const C = chunk.channels.length;
    const R = m.channels.length;
    const n = nSamples(chunk);
    if (this.scratch.length < chunk.data.length) this.scratch = new Float64Array(chunk.data.length);
    const x = this.scratch;
    x.set(chunk.data);
    const out = new Float64Array(n * R);
    for (let i = 0; i < n; i++) this.row(x, i * C, out, i * R, R);
    return withData(chunk, Float32Array.from(out), { channels: m.channels });
  }
}

/**
 * Common average reference: every channel minus the mean of the good channels
 * (channels in `exclude` — e.g. bad ones — and non-neural ones such as EKG, DC or trigger inputs
 * still get re-referenced but do not enter the mean; `types` replaces the non-neural rule).
 * Implemented as mean-then-subtract (O(C) per sample), not as a dense matrix.
 */
export class CommonAverageReference implements ChunkProcessor {
  private key = '';
  private good = new Int32Array(0);
  extraExclude = new Set<string>();
  constructor(private readonly exclude?: Exclusion, private readonly types?: string[]) {}
  reset(): void { /* memoryless */ }

  /** Indices of the channels averaged for the current channel set. */
  get averaged(): Int32Array { return this.good; }

  private prepare(channels: ChannelInfo[]): void {
    const ex = readExclusion(this.exclude);
    for (const l of this.extraExclude) ex.add(l);
    const key = channelKey(channels) + '|' + setKey(ex);
    if (key === this.key) return;
    this.key = key;
    const good: number[] = [];
    channels.forEach((ch, i) => {
      if (ex.has(ch.label)) return;
      if (this.types ? !this.types.includes(ch.type ?? '') : isNonNeural(ch)) return;
      good.push(i);
    });
    this.good = Int32Array.from(good);
    log.debug({ channels: channels.length, averaged: good.length, excluded: [...ex] }, 'car reference set');
  }

  processF64(x: Float64Array, channels: ChannelInfo[]): Float64Array {
    this.prepare(channels);
    const out = new Float64Array(x.length);
    this.run(x, out, channels.length);
    return out;
  }

  private run(x: Float64Array, out: Float64Array, C: number): void {
    const n = x.length / C;
    const g = this.good;
    const G = g.length;
    for (let i = 0, o = 0; i < n; i++, o += C) {
      let s = 0;
      for (let k = 0; k < G; k++) s += x[o + g[k]!]!;
      const mean = G > 0 ? s / G : 0;
      for (let c = 0; c < C; c++) out[o + c] = x[o + c]! - mean;
    }
  }

  process(chunk: SignalChunk): SignalChunk {
    this.prepare(chunk.channels);
    const x = Float64Array.from(chunk.data);
    const out = new Float64Array(x.length);
    this.run(x, out, chunk.channels.length);
    return withData(chunk, Float32Array.from(out));
  }
}

// ---------------------------------------------------------------- SEEG shafts
export interface ShaftContact { index: number; shaft: string; contact: number; info: ChannelInfo }

export { parseContactLabel } from './contacts.ts';

/**
 * Group channels into shafts (SEEG) or strips/grid rows (ECoG), contacts sorted deepest first
 * (contact 1 = deepest). Shaft from `ChannelInfo.shaft` or the label (see `contacts.ts`: prefixes,
 * primes, case and separators are normalised); contact from `ChannelInfo.contact`, the label's
 * trailing number, or — if neither — the order along the shaft's main axis from its positions.
 * Non-neural channels (by type or by name: EKG1, DC01, TRIG, `EDF Annotations`, …) and excluded
 * labels never enter a shaft.
 */
export function shaftLayout(channels: ChannelInfo[], exclude: Set<string> = new Set()): Map<string, ShaftContact[]> {
  const shafts = new Map<string, ShaftContact[]>();
  const needsGeom = new Map<string, ShaftContact[]>();
  channels.forEach((info, index) => {
    if (exclude.has(info.label)) return;
    if (isNonNeural(info)) return;
    const parsed = parseContactLabel(info.label);
    const shaft = info.shaft !== undefined ? shaftKey(info.shaft) : parsed?.shaft;
    if (!shaft) return;
    const contact = info.contact ?? (parsed && parsed.shaft === shaft ? parsed.contact : undefined);
    const entry: ShaftContact = { index, shaft, contact: contact ?? NaN, info };
    if (!shafts.has(shaft)) shafts.set(shaft, []);
    shafts.get(shaft)!.push(entry);
    if (contact === undefined) {
      if (!needsGeom.has(shaft)) needsGeom.set(shaft, []);
      needsGeom.get(shaft)!.push(entry);
    }
  });
  for (const [shaft, list] of needsGeom) {
    // Order by projection on the direction between the two most distant contacts.
    const withPos = list.filter((e) => e.info.pos);
    if (withPos.length !== list.length || list.length < 2) {
      log.warn({ shaft }, 'shaft contacts without numbers or positions — cannot order them');
      shafts.delete(shaft);
      continue;
    }
    let best = [0, 0, -1];
    for (let a = 0; a < list.length; a++) for (let b = a + 1; b < list.length; b++) {
      const d = dist(list[a]!.info.pos!, list[b]!.info.pos!);
      if (d > best[2]!) best = [a, b, d];
    }
    const p0 = list[best[0]!]!.info.pos!, p1 = list[best[1]!]!.info.pos!;
    const dir = [p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]];
    const proj = (p: [number, number, number]) => (p[0] - p0[0]) * dir[0]! + (p[1] - p0[1]) * dir[1]! + (p[2] - p0[2]) * dir[2]!;
    list.sort((a, b) => proj(a.info.pos!) - proj(b.info.pos!)).forEach((e, i) => { e.contact = i + 1; });
  }
  for (const list of shafts.values()) list.sort((a, b) => a.contact - b.contact);
  return shafts;
}

function dist(a: [number, number, number], b: [number, number, number]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
function midpoint(a?: [number, number, number], b?: [number, number, number]): [number, number, number] | undefined {
  return a && b ? [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2] : undefined;
}

export interface BipolarOptions {
  /** Pair across missing/excluded contacts (e.g. LA2-LA4 when LA3 is bad). Default false. */
  bridgeGaps?: boolean;
  /** Skip pairs farther apart than this (same unit as ChannelInfo.pos) when positions are known. */
  maxDistance?: number;
  /**
   * When every contact of a shaft/strip has a position and it has ≥ 3 pairs, skip pairs longer
   * than this many times the shaft's median pair length: consecutive numbers that are not
   * neighbours (the end of one row of an ECoG grid and the start of the next). Default 2; 0 = off.
   */
  neighbourFactor?: number;
}

/**
 * Bipolar montage: for each shaft, `contact k − contact k+1` for adjacent contacts (deep minus
 * superficial), labelled `${a}-${b}` with the cleaned contact names (prefix and reference suffix
 * removed: `POL L'1` → `L'1`). A missing or excluded contact number breaks the chain (no pair
 * across it unless `bridgeGaps`); a shaft with one contact yields nothing.
 */
export function bipolarMontage(channels: ChannelInfo[], exclude: Set<string> = new Set(), opts: BipolarOptions = {}): Montage {
  const out: Montage = { channels: [], indices: [], weights: [] };
  const factor = opts.neighbourFactor ?? 2;
  for (const [shaft, list] of shaftLayout(channels, exclude)) {
    const pairs: [ShaftContact, ShaftContact][] = [];
    for (let i = 0; i + 1 < list.length; i++) {
      const a = list[i]!, b = list[i + 1]!;
      if (!opts.bridgeGaps && b.contact - a.contact !== 1) continue;
      if (opts.maxDistance !== undefined && a.info.pos && b.info.pos && dist(a.info.pos, b.info.pos) > opts.maxDistance) continue;
      pairs.push([a, b]);
    }
    let keep = pairs;
    if (factor > 0 && pairs.length >= 3 && list.every((e) => e.info.pos)) {
      const d = pairs.map(([a, b]) => dist(a.info.pos!, b.info.pos!));
      const med = [...d].sort((x, y) => x - y)[d.length >> 1]!;
      keep = pairs.filter((_, i) => !(d[i]! > factor * med));
      if (keep.length < pairs.length)
        log.debug({ shaft, dropped: pairs.filter((p) => !keep.includes(p)).map(([a, b]) => `${a.info.label}-${b.info.label}`) }, 'pairs of consecutive contacts that are not neighbours skipped');
    }
    for (const [a, b] of keep) {
      const info: ChannelInfo = { label: `${cleanLabel(a.info.label)}-${cleanLabel(b.info.label)}`, shaft, contact: a.contact };
      if (a.info.type) info.type = a.info.type;
      if (a.info.unit) info.unit = a.info.unit;
      const pos = midpoint(a.info.pos, b.info.pos);
      if (pos) info.pos = pos;
      out.channels.push(info);
      out.indices.push(Int32Array.of(a.index, b.index));
      out.weights.push(Float64Array.of(1, -1));
    }
  }
  return out;
}

export interface LaplacianOptions {
  /** Explicit neighbours by label. When absent: adjacent contacts on SEEG shafts, else the k nearest by position. */
  neighbours?: Record<string, string[]>;
  /** Nearest neighbours by position (default 4). */
  k?: number;
  /** Maximal neighbour distance by position. */
  maxDistance?: number;
}

/** Laplacian: each channel minus the mean of its neighbours; channels without any neighbour are dropped. */
export function laplacianMontage(channels: ChannelInfo[], exclude: Set<string> = new Set(), opts: LaplacianOptions = {}): Montage {
  const byLabel = new Map(channels.map((c, i) => [c.label, i]));
  const nb = new Map<number, number[]>();
  if (opts.neighbours) {
    for (const [lab, ns] of Object.entries(opts.neighbours)) {
      const i = byLabel.get(lab);
      if (i === undefined || exclude.has(lab)) continue;
      nb.set(i, ns.filter((l) => !exclude.has(l)).map((l) => byLabel.get(l)).filter((j): j is number => j !== undefined));
    }
  } else {
    const shafts = shaftLayout(channels, exclude);
    const onShaft = new Set<number>();
    for (const list of shafts.values()) {
      list.forEach((e, i) => {
        const ns: number[] = [];
        const prev = list[i - 1], next = list[i + 1];
        if (prev && e.contact - prev.contact === 1) ns.push(prev.index);
        if (next && next.contact - e.contact === 1) ns.push(next.index);
        nb.set(e.index, ns);
        onShaft.add(e.index);
      });
    }
    const k = opts.k ?? 4;
    channels.forEach((ch, i) => {
      if (onShaft.has(i) || exclude.has(ch.label) || !ch.pos) return;
      const cands = channels
        .map((o, j) => ({ j, d: o.pos && j !== i && !exclude.has(o.label) ? dist(ch.pos!, o.pos) : Infinity }))
        .filter((c) => Number.isFinite(c.d) && (opts.maxDistance === undefined || c.d <= opts.maxDistance))
        .sort((a, b) => a.d - b.d || a.j - b.j)
        .slice(0, k);
      nb.set(i, cands.map((c) => c.j));
    });
  }
  const out: Montage = { channels: [], indices: [], weights: [] };
  channels.forEach((ch, i) => {
    const ns = nb.get(i);
    if (!ns || ns.length === 0) return;
    out.channels.push({ ...ch });
    out.indices.push(Int32Array.from([i, ...ns]));
    out.weights.push(Float64Array.from([1, ...ns.map(() => -1 / ns.length)]));
  });
  return out;
}

export interface MatrixMontageOptions {
  /** Rows = outputs, columns = inputs. */
  matrix: number[][];
  /** Input labels of the columns; when given, columns are matched to channels by label. */
  inputLabels?: string[];
  /** Output channel metadata (or labels); default `ref1..refR`. */
  outputs?: (ChannelInfo | string)[];
}

/** Any user-given re-reference matrix. */
export function matrixMontage(channels: ChannelInfo[], opts: MatrixMontageOptions): Montage {
  const cols = opts.inputLabels
    ? opts.inputLabels.map((l) => {
      const i = channels.findIndex((c) => c.label === l);
      if (i < 0) throw new Error(`reref matrix: input channel ${l} not in stream`);
      return i;
    })
    : channels.map((_, i) => i);
  const out: Montage = { channels: [], indices: [], weights: [] };
  opts.matrix.forEach((row, r) => {
    if (row.length !== cols.length) throw new Error(`reref matrix: row ${r} has ${row.length} columns, expected ${cols.length}`);
    const idx: number[] = [];
    const w: number[] = [];
    row.forEach((v, j) => { if (v !== 0) { idx.push(cols[j]!); w.push(v); } });
    const o = opts.outputs?.[r];
    out.channels.push(typeof o === 'string' ? { label: o } : o ? { ...o } : { label: `ref${r + 1}` });
    out.indices.push(Int32Array.from(idx));
    out.weights.push(Float64Array.from(w));
  });
  return out;
}
