/**
 * BIDS `*_electrodes.tsv` (iEEG / EEG): contact name → position in metres, and attaching
 * those positions to a stream's channels. Units, in order of precedence:
 *
 * 1. the sidecar `*_coordsystem.json` next to the file (`iEEGCoordinateUnits`, then
 *    `EEGCoordinateUnits`) when it states m, cm or mm;
 * 2. the unit the caller gives (`--electrode-units`);
 * 3. detected from the magnitudes: max |coordinate| ≤ 1.5 → metres, else millimetres
 *    (a head is ~0.2 m across: metre coordinates never exceed 1.5, millimetre ones of a whole
 *    implant always do; centimetres overlap both and are never guessed), logged as assumed.
 *
 * `n/a` (or an empty / non-numeric cell) in x, y or z: the electrode is listed without a
 * position. Names are matched with the montage's rule (`labelKey`: prefix, reference suffix,
 * primes, case and separators normalised), so `POL L'1` in the recording finds `L'1` here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { logger } from '../../src/log.ts';
import { isNonNeural, labelKey } from '../../src/dsp/contacts.ts';
import type { ChannelInfo, StreamMeta } from '../../src/types.ts';

const log = logger('bids.electrodes');

export type LengthUnit = 'm' | 'cm' | 'mm';
const TO_METRES: Record<LengthUnit, number> = { m: 1, cm: 0.01, mm: 0.001 };

/** One row of the table; `pos` in metres, absent when the file says n/a. */
export interface Electrode {
  name: string;
  pos?: [number, number, number];
  /** Other columns as written (size, material, group, hemisphere, type, …). */
  extra: Record<string, string>;
}

export interface ElectrodeTable {
  electrodes: Electrode[];
  /** Unit of the file's numbers (converted to metres in `pos`). */
  unit: LengthUnit;
  unitSource: 'sidecar' | 'caller' | 'detected';
  /** Where it was read from, for messages. */
  source: string;
}

export class ElectrodesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElectrodesError';
  }
}

/** `mm`, `cm`, `m` (also `millimeters`, `meters`, …) → LengthUnit; undefined for anything else. */
export function parseLengthUnit(s: string | undefined): LengthUnit | undefined {
  const v = (s ?? '').trim().toLowerCase();
  if (v === 'm' || v === 'meter' || v === 'meters' || v === 'metre' || v === 'metres') return 'm';
  if (v === 'cm' || v === 'centimeter' || v === 'centimeters' || v === 'centimetre' || v === 'centimetres') return 'cm';
  if (v === 'mm' || v === 'millimeter' || v === 'millimeters' || v === 'millimetre' || v === 'millimetres') return 'mm';
  return undefined;
}

/** The unit rule for numbers without a stated unit: max |coordinate| ≤ 1.5 → m, else mm. */
export function detectLengthUnit(values: Iterable<number>): LengthUnit {
  let max = 0;
  for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  return max > 1.5 ? 'mm' : 'm';
}

function cell(v: string | undefined): number | undefined {
  const t = (v ?? '').trim();
  if (t === '' || /^n\/?a$/i.test(t) || /^nan$/i.test(t)) return undefined;
  const x = Number(t);
  return Number.isFinite(x) ? x : undefined;
}

export interface ParseOptions {
  /** Unit stated by the sidecar (takes precedence over `units`). */
  sidecarUnits?: LengthUnit;
  /** Unit given by the caller, used when the sidecar states none. */
  units?: LengthUnit;
  /** Name for messages (the file path). */
  source?: string;
}

/** Parse the text of an electrodes.tsv (tab separated, header with name, x, y, z). */
export function parseElectrodesTsv(text: string, opts: ParseOptions = {}): ElectrodeTable {
  const source = opts.source ?? 'electrodes.tsv';
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new ElectrodesError(`${source}: empty file`);
  const head = lines[0]!.split('\t').map((h) => h.trim().toLowerCase());
  const col = (n: string) => head.indexOf(n);
  const [ni, xi, yi, zi] = [col('name'), col('x'), col('y'), col('z')];
  if (ni < 0 || xi < 0 || yi < 0 || zi < 0) throw new ElectrodesError(`${source}: line 1: header must name the columns name, x, y and z (tab separated), found ${JSON.stringify(head)}`);
  const rows: { name: string; xyz: (number | undefined)[]; extra: Record<string, string> }[] = [];
  const seen = new Set<string>();
  for (let l = 1; l < lines.length; l++) {
    const f = lines[l]!.split('\t');
    const name = (f[ni] ?? '').trim();
    if (!name) throw new ElectrodesError(`${source}: line ${l + 1}: no electrode name`);
    const key = labelKey(name);
    if (seen.has(key)) throw new ElectrodesError(`${source}: line ${l + 1}: electrode ${name} is listed twice`);
    seen.add(key);
    const extra: Record<string, string> = {};
    head.forEach((h, i) => { if (![ni, xi, yi, zi].includes(i) && f[i] !== undefined) extra[h] = f[i]!.trim(); });
    rows.push({ name, xyz: [cell(f[xi]), cell(f[yi]), cell(f[zi])], extra });
  }
  let unit: LengthUnit;
  let unitSource: ElectrodeTable['unitSource'];
  if (opts.sidecarUnits) {
    unit = opts.sidecarUnits;
    unitSource = 'sidecar';
    if (opts.units && opts.units !== unit) log.warn({ source, sidecar: unit, given: opts.units }, 'electrode units given differ from the coordsystem sidecar; using the sidecar');
  } else if (opts.units) {
    unit = opts.units;
    unitSource = 'caller';
  } else {
    unit = detectLengthUnit(rows.flatMap((r) => r.xyz.filter((v): v is number => v !== undefined)));
    unitSource = 'detected';
    log.info({ source, unit, rule: 'max |coordinate| > 1.5 → mm, else m' }, `no unit stated for electrode coordinates; assuming ${unit}`);
  }
  const k = TO_METRES[unit];
  const electrodes: Electrode[] = rows.map((r) => {
    const e: Electrode = { name: r.name, extra: r.extra };
    if (r.xyz.every((v) => v !== undefined)) e.pos = [r.xyz[0]! * k, r.xyz[1]! * k, r.xyz[2]! * k];
    return e;
  });
  return { electrodes, unit, unitSource, source };
}

/** The sidecar path BIDS pairs with an electrodes file: `X_electrodes.tsv` → `X_coordsystem.json`. */
export function coordsystemPathFor(file: string): string | undefined {
  return /_electrodes\.tsv$/i.test(file) ? file.replace(/_electrodes\.tsv$/i, '_coordsystem.json') : undefined;
}

/** Units stated by a coordsystem JSON (iEEG first, then EEG), or undefined. */
export function coordsystemUnits(json: Record<string, unknown>): LengthUnit | undefined {
  for (const k of ['iEEGCoordinateUnits', 'EEGCoordinateUnits']) {
    const u = parseLengthUnit(typeof json[k] === 'string' ? (json[k] as string) : undefined);
    if (u) return u;
  }
  return undefined;
}

/** Read an electrodes.tsv (and its coordsystem.json sidecar when there is one). */
export function readElectrodes(file: string, opts: { units?: LengthUnit } = {}): ElectrodeTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ElectrodesError(`${file}: cannot read: ${(e as Error).message}`);
  }
  let sidecarUnits: LengthUnit | undefined;
  const side = coordsystemPathFor(file);
  if (side && existsSync(side)) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(side, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ElectrodesError(`${side}: not JSON: ${(e as Error).message}`);
    }
    sidecarUnits = coordsystemUnits(json);
    if (!sidecarUnits) log.warn({ sidecar: side }, 'coordsystem sidecar states no usable unit (m, cm, mm)');
  }
  const t = parseElectrodesTsv(text, { source: file, sidecarUnits, units: opts.units });
  log.info({ file, electrodes: t.electrodes.length, withPosition: t.electrodes.filter((e) => e.pos).length, unit: t.unit, unitSource: t.unitSource }, 'electrodes read');
  return t;
}

export interface AttachResult {
  /** The channels, copied, with `pos` (metres) set from the table where matched. */
  channels: ChannelInfo[];
  /** Channels that received a position. */
  matched: number;
  /** Neural channels with no row in the table (non-neural ones such as EKG are not counted). */
  unmatchedChannels: string[];
  /** Rows with no channel in the stream. */
  unmatchedElectrodes: string[];
  /** Channels matched to a row whose coordinates are n/a (they keep no position). */
  withoutPosition: string[];
}

/**
 * Attach positions to a channel list by name (`labelKey` normalisation). A channel matched to
 * an `n/a` row loses any position it had (the table is the authority); unmatched channels
 * keep theirs. Unmatched names in both directions are returned and logged.
 */
export function attachElectrodesToChannels(channels: ChannelInfo[], table: ElectrodeTable): AttachResult {
  const byKey = new Map(table.electrodes.map((e) => [labelKey(e.name), e]));
  const used = new Set<string>();
  const unmatchedChannels: string[] = [];
  const withoutPosition: string[] = [];
  let matched = 0;
  const out = channels.map((ch) => {
    const key = labelKey(ch.label);
    const e = byKey.get(key);
    if (!e) {
      if (!isNonNeural(ch)) unmatchedChannels.push(ch.label);
      return { ...ch };
    }
    used.add(key);
    const c: ChannelInfo = { ...ch };
    if (e.pos) {
      c.pos = [...e.pos];
      matched++;
    } else {
      delete c.pos;
      withoutPosition.push(ch.label);
    }
    return c;
  });
  const unmatchedElectrodes = table.electrodes.filter((e) => !used.has(labelKey(e.name))).map((e) => e.name);
  const r = { channels: out, matched, unmatchedChannels, unmatchedElectrodes, withoutPosition };
  const level = unmatchedChannels.length || unmatchedElectrodes.length ? 'warn' : 'info';
  log[level]({ source: table.source, matched, unmatchedChannels, unmatchedElectrodes, withoutPosition }, 'electrode positions attached');
  return r;
}

/**
 * A stream's metadata with positions from the table attached to its channels (metres).
 * This is what every path calls before the pipeline sees the stream — replay, evaluate and
 * the live run — so montage midpoints and DIVER-S position codes use the coordinates.
 * Streams that share no name with the table are returned unchanged (same object).
 */
export function attachElectrodes(meta: StreamMeta, table: ElectrodeTable): StreamMeta {
  const keys = new Set(table.electrodes.map((e) => labelKey(e.name)));
  if (!meta.channels.some((c) => keys.has(labelKey(c.label)))) return meta;
  const r = attachElectrodesToChannels(meta.channels, table);
  return { ...meta, channels: r.channels };
}
