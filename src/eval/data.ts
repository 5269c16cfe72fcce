/**
 * Labelled recordings for offline evaluation: the signal (one regular stream) as an
 * in-memory Recording, and the cue events with their class labels — from EDF+
 * annotations or from an XDF marker stream.
 */
import { basename } from 'node:path';
import { open } from 'node:fs/promises';
import { readEdf, EdfFormatError } from '../../adapters/edf/index.ts';
import { readXdf, XdfFormatError, type XdfStream } from '../../adapters/xdf/index.ts';
import type { Recording } from '../session/offline.ts';
import type { ChannelInfo } from '../types.ts';

export class EvalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}

export interface Cue {
  /** Seconds from the first sample. */
  t: number;
  label: string;
}

export interface LabelledRecording {
  file: string;
  rec: Recording;
  /** Cues with a class label (after the label map), time-ordered. */
  cues: Cue[];
  /** Raw marker texts seen (for messages). */
  markerTexts: string[];
}

export interface LoadOptions {
  /** Paradigm prefix of marker cues (`mi:left` → `left`). */
  paradigm: string;
  /** Marker / annotation text → class label (applied before the prefix rule). */
  labelMap?: Record<string, string>;
  /** Read damaged files up to the damage instead of failing. */
  lenient?: boolean;
  /** Rewrites the loaded channel metadata (e.g. attaches electrode positions); same length and order. */
  mapChannels?: (channels: ChannelInfo[]) => ChannelInfo[];
}

/**
 * PhysioNet EEG Motor Movement/Imagery runs: T1/T2 are left/right fist in runs
 * 3, 4, 7, 8, 11, 12 and both fists/both feet in runs 5, 6, 9, 10, 13, 14; T0 is rest.
 */
export function eegmmidbLabelMap(file: string): Record<string, string> | undefined {
  const m = /S\d{3}R(\d{2})\.edf$/i.exec(basename(file));
  if (!m) return undefined;
  const run = Number(m[1]);
  if ([3, 4, 7, 8, 11, 12].includes(run)) return { T0: 'rest', T1: 'left', T2: 'right' };
  if ([5, 6, 9, 10, 13, 14].includes(run)) return { T0: 'rest', T1: 'fists', T2: 'feet' };
  return undefined;
}

/** `T1=left,T2=right` → { T1: 'left', T2: 'right' }. */
export function parseLabelMap(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new EvalInputError(`--label-map: "${part}" is not MARKER=label`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function labelOf(text: string, opts: LoadOptions, fileMap: Record<string, string> | undefined): string | undefined {
  const t = text.trim();
  const mapped = opts.labelMap?.[t] ?? fileMap?.[t];
  if (mapped !== undefined) return mapped;
  const prefix = `${opts.paradigm}:`;
  if (t.startsWith(prefix)) return t.slice(prefix.length);
  return undefined;
}

async function magic(file: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new EvalInputError(`${file}: byte offset 0: cannot open file: ${(e as Error).message}`);
  }
  try {
    const b = Buffer.alloc(8);
    const { bytesRead } = await fh.read(b, 0, 8, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Load one labelled recording (XDF or EDF/BDF, by content). */
export async function loadLabelled(file: string, opts: LoadOptions): Promise<LabelledRecording> {
  const head = await magic(file);
  const text = head.toString('latin1');
  if (text.startsWith('XDF:')) return loadXdf(file, opts);
  if (text.startsWith('0       ') || (head[0] === 0xff && text.slice(1, 8) === 'BIOSEMI')) return loadEdf(file, opts);
  throw new EvalInputError(`${file}: byte offset 0: not a recording (neither XDF "XDF:" nor an EDF/BDF header; found ${JSON.stringify(text)})`);
}

function loadEdf(file: string, opts: LoadOptions): LabelledRecording {
  const edf = readEdf(file, { lenient: opts.lenient });
  const rates = new Map<number, number>();
  for (const s of edf.signals) if (!s.isStatus && s.srate > 0) rates.set(s.srate, (rates.get(s.srate) ?? 0) + 1);
  const srate = [...rates.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!srate) throw new EvalInputError(`${file}: no data signal`);
  const sigs = edf.signals.filter((s) => !s.isStatus && s.srate === srate);
  const C = sigs.length;
  const N = Math.min(...sigs.map((s) => s.samples.length));
  const data = new Float32Array(N * C);
  for (let c = 0; c < C; c++) {
    const x = sigs[c]!.samples;
    for (let t = 0; t < N; t++) data[t * C + c] = x[t]!;
  }
  const channels: ChannelInfo[] = sigs.map((s) => ({ label: s.label, type: 'EEG', unit: s.physicalDimension }));
  const fileMap = eegmmidbLabelMap(file);
  const texts = [...edf.annotations.map((a) => ({ t: a.onset, v: a.text })), ...edf.events.map((e) => ({ t: e.onset, v: `trigger:${e.value}` }))];
  return finish(file, { data, srate, channels, events: texts.map((x) => ({ t: x.t, label: x.v })), stream: basename(file) }, texts, opts, fileMap);
}

async function loadXdf(file: string, opts: LoadOptions): Promise<LabelledRecording> {
  const f = await readXdf(file, { sync: true, strict: !opts.lenient });
  const isOwn = (s: XdfStream) => s.info.type.startsWith('neurox.');
  const sig = f.streams.find((s) => !isOwn(s) && s.format !== 'string' && s.info.nominal_srate > 0 && s.nSamples > 0 && s.info.type.toUpperCase() === 'EEG') ??
    f.streams.find((s) => !isOwn(s) && s.format !== 'string' && s.info.nominal_srate > 0 && s.nSamples > 0);
  if (!sig) throw new EvalInputError(`${file}: no regular numeric stream with samples`);
  const ts = sig.syncedTimestamps ?? sig.timestamps;
  const t0 = ts[0]!;
  const data = sig.data instanceof Float32Array ? sig.data : Float32Array.from(sig.data as ArrayLike<number>, Number);
  const C = sig.nChannels;
  const channels: ChannelInfo[] =
    sig.info.channels.length === C ? sig.info.channels.map((c) => ({ label: c.label, type: c.type, unit: c.unit })) : Array.from({ length: C }, (_, i) => ({ label: `ch${i + 1}` }));
  const texts: { t: number; v: string }[] = [];
  for (const s of f.streams) {
    if (isOwn(s) || s.format !== 'string') continue;
    const mts = s.syncedTimestamps ?? s.timestamps;
    const d = s.data as string[];
    for (let i = 0; i < s.nSamples; i++) texts.push({ t: mts[i]! - t0, v: d[i * s.nChannels]! });
  }
  texts.sort((a, b) => a.t - b.t);
  return finish(file, { data, srate: sig.info.nominal_srate, channels, events: texts.map((x) => ({ t: x.t, label: x.v })), t0: 0, stream: sig.info.name }, texts, opts, undefined);
}

function finish(file: string, rec: Recording, texts: { t: number; v: string }[], opts: LoadOptions, fileMap: Record<string, string> | undefined): LabelledRecording {
  if (opts.mapChannels) {
    const mapped = opts.mapChannels(rec.channels);
    if (mapped.length !== rec.channels.length) throw new EvalInputError(`${file}: channel mapping changed the channel count`);
    rec = { ...rec, channels: mapped };
  }
  const cues: Cue[] = [];
  for (const x of texts) {
    const label = labelOf(x.v, opts, fileMap);
    if (label !== undefined) cues.push({ t: x.t, label });
  }
  return { file, rec, cues, markerTexts: [...new Set(texts.map((x) => x.v))] };
}

/** Errors that mean "bad input file" (reported without a stack). */
export function isInputError(e: unknown): e is Error {
  return e instanceof EvalInputError || e instanceof XdfFormatError || e instanceof EdfFormatError;
}
