/**
 * EDF+C writer: export signals and annotations for clinical viewers
 * (EDFbrowser, MNE, Persyst ...).
 *
 * - 16-bit samples. Each signal's physical range is taken from its data
 *   (rounded outward to what fits the 8-character header fields) and mapped
 *   onto the full digital range −32768..32767, so the quantisation step is
 *   (max − min) / 65535.
 * - Each signal keeps its own rate; the record duration is chosen so that
 *   every rate gives a whole number of samples per record (or given).
 * - An "EDF Annotations" signal carries the time-keeping TAL of every record
 *   and the annotations (UTF-8), each in the record its onset falls into.
 * - The last record is padded with the signal's last value.
 */
import { writeFileSync } from 'node:fs';
import { EdfFormatError } from './errors.ts';

export interface EdfWriteSignal {
  label: string;
  /** Samples per second. */
  srate: number;
  samples: ArrayLike<number>;
  physicalDimension?: string;
  transducer?: string;
  prefilter?: string;
  /** Physical range to use instead of the data's own min/max (must contain the data). */
  physicalMin?: number;
  physicalMax?: number;
}

export interface EdfWriteOptions {
  signals: EdfWriteSignal[];
  annotations?: { onset: number; duration?: number; text: string }[];
  /** Recording start (wall clock written as is; default now, whole seconds). */
  startTime?: Date;
  /** EDF+ patient field: "code sex birthdate name" (default "X X X X"). */
  patient?: string;
  /** EDF+ recording field after "Startdate dd-MMM-yyyy" (default "X X X"). */
  recording?: string;
  /** Seconds per data record (default: the smallest of 1, 2, 5, 10, ... that gives whole samples for every rate). */
  recordDuration?: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** ASCII-only, padded/truncated to `len`. */
function asciiField(s: string, len: number): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '_');
  return clean.slice(0, len).padEnd(len, ' ');
}

/** Decimal text (no exponent) for a TAL onset or duration that parses back to the same double when possible. */
function talNumber(x: number): string {
  let s = String(Math.abs(x));
  if (s.includes('e')) s = Math.abs(x).toFixed(9).replace(/\.?0+$/, '');
  return s;
}

/**
 * The number nearest to `x` in direction `dir` that fits 8 characters
 * (rounded down for minima, up for maxima so the data stay inside the range).
 */
export function fit8(x: number, dir: 'down' | 'up'): string {
  if (!Number.isFinite(x)) throw new Error(`cannot write ${x} in an EDF header`);
  for (let d = 7; d >= 0; d--) {
    const p = 10 ** d;
    let v = dir === 'down' ? Math.floor(x * p) / p : Math.ceil(x * p) / p;
    let s = v.toFixed(d);
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    if (s === '-0') s = '0';
    if (s.length > 8) continue;
    v = Number(s);
    if ((dir === 'down' && v > x) || (dir === 'up' && v < x)) continue;
    return s;
  }
  throw new Error(`value ${x} does not fit an 8-character EDF header field`);
}

function chooseRecordDuration(srates: number[]): number {
  for (const d of [1, 2, 5, 10, 20, 25, 50, 100, 0.5, 0.25, 0.2, 0.1]) {
    if (srates.every((r) => Math.abs(r * d - Math.round(r * d)) < 1e-9 && Math.round(r * d) >= 1)) return d;
  }
  throw new Error(`no record duration gives whole samples per record for rates ${srates.join(', ')}`);
}

/** Encode an EDF+C file in memory. */
export function encodeEdf(opts: EdfWriteOptions): Buffer {
  const sigs = opts.signals;
  if (sigs.length === 0) throw new Error('EDF export needs at least one signal');
  const dur = opts.recordDuration ?? chooseRecordDuration(sigs.map((s) => s.srate));
  const spr = sigs.map((s) => {
    const n = s.srate * dur;
    if (Math.abs(n - Math.round(n)) > 1e-9 || Math.round(n) < 1) {
      throw new Error(`signal ${s.label}: ${s.srate} Hz × ${dur} s is not a whole number of samples per record`);
    }
    return Math.round(n);
  });
  const seconds = Math.max(...sigs.map((s) => s.samples.length / s.srate));
  const nRec = Math.max(1, Math.ceil(seconds / dur - 1e-9));

  // Physical and digital ranges.
  const DMIN = -32768;
  const DMAX = 32767;
  const ranges = sigs.map((s) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < s.samples.length; i++) {
      const v = s.samples[i]!;
      if (Number.isNaN(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (s.physicalMin !== undefined) lo = Math.min(lo, s.physicalMin);
    if (s.physicalMax !== undefined) hi = Math.max(hi, s.physicalMax);
    if (!Number.isFinite(lo)) {
      lo = -1;
      hi = 1;
    }
    if (hi - lo < 1e-12 * Math.max(1, Math.abs(lo))) {
      lo -= 1;
      hi += 1;
    }
    const minS = fit8(lo, 'down');
    const maxS = fit8(hi, 'up');
    return { minS, maxS, pmin: Number(minS), pmax: Number(maxS) };
  });

  // Annotations: one TAL list per record.
  const enc = new TextEncoder();
  const perRecord: Uint8Array[][] = Array.from({ length: nRec }, (_, r) => [enc.encode(`+${talNumber(r * dur)}\x14\x14\x00`)]);
  for (const a of opts.annotations ?? []) {
    const r = Math.min(nRec - 1, Math.max(0, Math.floor(a.onset / dur)));
    const text = a.text.replace(/[\x00\x14\x15]/g, ' ');
    let tal = `${a.onset < 0 ? '-' : '+'}${talNumber(a.onset)}`;
    if (a.duration !== undefined && a.duration > 0) tal += `\x15${talNumber(a.duration)}`;
    tal += `\x14${text}\x14\x00`;
    perRecord[r]!.push(enc.encode(tal));
  }
  const annBytes = Math.max(...perRecord.map((l) => l.reduce((n, b) => n + b.length, 0)));
  const annSpr = Math.ceil(annBytes / 2);

  // Header.
  const ns = sigs.length + 1;
  const headerBytes = 256 * (ns + 1);
  const start = opts.startTime ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const dd = String(start.getUTCDate()).padStart(2, '0');
  const mm = String(start.getUTCMonth() + 1).padStart(2, '0');
  const yyyy = start.getUTCFullYear();
  const yy = String(yyyy % 100).padStart(2, '0');
  const hh = String(start.getUTCHours()).padStart(2, '0');
  const mi = String(start.getUTCMinutes()).padStart(2, '0');
  const ss = String(start.getUTCSeconds()).padStart(2, '0');
  let h = '';
  h += asciiField('0', 8);
  h += asciiField(opts.patient ?? 'X X X X', 80);
  h += asciiField(`Startdate ${dd}-${MONTHS[start.getUTCMonth()]}-${yyyy} ${opts.recording ?? 'X X X'}`, 80);
  h += `${dd}.${mm}.${yy}`;
  h += `${hh}.${mi}.${ss}`;
  h += asciiField(String(headerBytes), 8);
  h += asciiField('EDF+C', 44);
  h += asciiField(String(nRec), 8);
  h += asciiField(fit8(dur, 'up'), 8);
  h += asciiField(String(ns), 4);
  const all = [
    ...sigs.map((s, i) => ({
      label: s.label,
      transducer: s.transducer ?? '',
      dim: s.physicalDimension ?? '',
      pmin: ranges[i]!.minS,
      pmax: ranges[i]!.maxS,
      dmin: String(DMIN),
      dmax: String(DMAX),
      prefilter: s.prefilter ?? '',
      spr: spr[i]!,
    })),
    { label: 'EDF Annotations', transducer: '', dim: '', pmin: '-1', pmax: '1', dmin: String(DMIN), dmax: String(DMAX), prefilter: '', spr: annSpr },
  ];
  for (const s of all) h += asciiField(s.label, 16);
  for (const s of all) h += asciiField(s.transducer, 80);
  for (const s of all) h += asciiField(s.dim, 8);
  for (const s of all) h += asciiField(s.pmin, 8);
  for (const s of all) h += asciiField(s.pmax, 8);
  for (const s of all) h += asciiField(s.dmin, 8);
  for (const s of all) h += asciiField(s.dmax, 8);
  for (const s of all) h += asciiField(s.prefilter, 80);
  for (const s of all) h += asciiField(String(s.spr), 8);
  for (let i = 0; i < all.length; i++) h += ' '.repeat(32);
  if (h.length !== headerBytes) throw new Error(`internal: header is ${h.length} bytes, expected ${headerBytes}`);

  const recordBytes = (spr.reduce((a, b) => a + b, 0) + annSpr) * 2;
  const out = Buffer.alloc(headerBytes + nRec * recordBytes);
  out.write(h, 0, 'latin1');
  for (let r = 0; r < nRec; r++) {
    let p = headerBytes + r * recordBytes;
    sigs.forEach((s, i) => {
      const { pmin, pmax } = ranges[i]!;
      const scale = (DMAX - DMIN) / (pmax - pmin);
      const n = s.samples.length;
      for (let j = 0; j < spr[i]!; j++, p += 2) {
        const k = r * spr[i]! + j;
        let v = k < n ? s.samples[k]! : n > 0 ? s.samples[n - 1]! : 0;
        if (Number.isNaN(v)) v = pmin;
        let d = Math.round((v - pmin) * scale + DMIN);
        if (d < DMIN) d = DMIN;
        if (d > DMAX) d = DMAX;
        out.writeInt16LE(d, p);
      }
    });
    for (const b of perRecord[r]!) {
      out.set(b, p);
      p += b.length;
    }
  }
  return out;
}

/** Write an EDF+C file. */
export function writeEdf(path: string, opts: EdfWriteOptions): void {
  const buf = encodeEdf(opts);
  try {
    writeFileSync(path, buf);
  } catch (err) {
    throw new EdfFormatError(path, 0, `cannot write file: ${(err as Error).message}`);
  }
}
