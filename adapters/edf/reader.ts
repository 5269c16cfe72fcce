/**
 * EDF, EDF+ (continuous "C" and discontinuous "D") and BDF / BDF+ reader.
 *
 * - Physical scaling per signal: phys = pmin + (dig − dmin)·(pmax − pmin)/(dmax − dmin).
 * - Each signal keeps its own rate (samples per record / record duration).
 * - "EDF Annotations" / "BDF Annotations" signals are decoded as UTF-8 TALs
 *   (onset, duration, texts); the first TAL of each record gives the record's
 *   start time, which is how EDF+D records are placed on the time axis.
 * - The BDF Status channel (24 bit) keeps its raw integers and its trigger bits
 *   (low 16 by default) are turned into events.
 * - Cut-off or corrupt input raises `EdfFormatError` naming the file and byte
 *   offset; with `{ lenient: true }` a file cut inside a data record returns
 *   every complete record and a warning instead.
 */
import { readFileSync } from 'node:fs';
import { logger } from '../../src/log.ts';
import { EdfFormatError } from './errors.ts';

const log = logger('edf-reader');

export type EdfFormat = 'EDF' | 'EDF+C' | 'EDF+D' | 'BDF' | 'BDF+C' | 'BDF+D';

/** One signal's header fields, as stored (annotation signals included). */
export interface EdfSignalHeader {
  /** Index of the signal in the file's header (annotation signals included). */
  index: number;
  label: string;
  transducer: string;
  physicalDimension: string;
  physicalMin: number;
  physicalMax: number;
  digitalMin: number;
  digitalMax: number;
  prefilter: string;
  samplesPerRecord: number;
  reserved: string;
  /** Samples per second: samplesPerRecord / recordDuration (0 when recordDuration is 0). */
  srate: number;
  isAnnotation: boolean;
  /** True for the BDF "Status" channel (trigger + system bits, 24 bit). */
  isStatus: boolean;
}

export interface EdfHeader {
  file: string;
  format: EdfFormat;
  /** 'edf' (16-bit samples) or 'bdf' (24-bit samples). */
  sampleWidth: 2 | 3;
  version: string;
  patient: string;
  recording: string;
  /** Header "startdate" / "starttime" fields as written (dd.mm.yy, hh.mm.ss). */
  startDateField: string;
  startTimeField: string;
  /**
   * Recording start as a UTC-labelled Date of the local wall clock written in
   * the file (EDF has no time zone). The EDF+ recording field's 4-digit year
   * is preferred; otherwise yy ≥ 85 → 19yy, else 20yy.
   */
  startTime: Date;
  headerBytes: number;
  reserved: string;
  /** Number of data records read (complete records present in the file). */
  nRecords: number;
  /** Number of data records the header declares (−1 = unknown). */
  nRecordsDeclared: number;
  /** Seconds per data record. */
  recordDuration: number;
  /** Every signal in the file, annotation signals included. */
  signals: EdfSignalHeader[];
}

/** One data signal with its samples in physical units. */
export interface EdfSignal extends EdfSignalHeader {
  /** Physical values, all records concatenated. */
  samples: Float64Array;
  /** Raw digital values; always present for the BDF Status channel, for all signals with `keepDigital`. */
  digital?: Int32Array;
}

export interface EdfAnnotation {
  /** Seconds from the header's start time. */
  onset: number;
  /** Seconds; 0 when the TAL carries no duration. */
  duration: number;
  text: string;
}

/** A trigger event from a stim channel (BDF Status or a channel named in `stimChannels`). */
export interface EdfTriggerEvent {
  /** Label of the channel the event comes from. */
  channel: string;
  /** Sample index within that channel (continuous concatenation of records). */
  sample: number;
  /** Seconds from the header start time (record start + offset in record). */
  onset: number;
  /** Seconds until the value changed again. */
  duration: number;
  /** Trigger value (masked) that starts at this sample; never 0. */
  value: number;
}

export interface EdfRecording {
  header: EdfHeader;
  /** Data signals (annotation signals are decoded into `annotations`, not listed here). */
  signals: EdfSignal[];
  annotations: EdfAnnotation[];
  /** Start time of each data record in seconds from the header start time. */
  recordStarts: number[];
  /** Trigger events from stim channels (BDF Status channel automatically). */
  events: EdfTriggerEvent[];
  /** Non-fatal problems found while reading (also logged). */
  warnings: string[];
}

export interface EdfReadOptions {
  /** Return complete records of a file cut short (with a warning) instead of throwing. */
  lenient?: boolean;
  /** Keep the raw digital values of every signal (`digital`), not only of the Status channel. */
  keepDigital?: boolean;
  /** Bits of the BDF Status channel that carry triggers (default 0xFFFF). */
  triggerMask?: number;
  /** Extra channels (by label) whose rounded physical values are turned into trigger events. */
  stimChannels?: string[];
}

/** Read an EDF / EDF+ / BDF / BDF+ file. Synchronous (can also be awaited). */
export function readEdf(path: string, opts: EdfReadOptions = {}): EdfRecording {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new EdfFormatError(path, 0, `cannot read file: ${(err as Error).message}`);
  }
  return parseEdf(buf, path, opts);
}

/** Only the header (fixed part + signal headers) of an EDF/BDF file. */
export function readEdfHeader(path: string): EdfHeader {
  const buf = readFileSync(path);
  return parseHeader(buf, path, []);
}

const ascii = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function field(buf: Buffer, off: number, len: number): string {
  return ascii.decode(buf.subarray(off, off + len)).trim();
}

function numField(buf: Buffer, off: number, len: number, file: string, what: string, integer: boolean): number {
  const s = field(buf, off, len);
  // Accept what real writers produce ("1", "1.000000", "-3276.8", "1e-3"), nothing else.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    throw new EdfFormatError(file, off, `${what} is not a number: ${JSON.stringify(s)}`);
  }
  const v = Number(s);
  if (integer && !Number.isInteger(v)) {
    throw new EdfFormatError(file, off, `${what} is not an integer: ${JSON.stringify(s)}`);
  }
  return v;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

function parseStart(dateF: string, timeF: string, recording: string, isPlus: boolean): Date {
  const d = /^(\d\d)\.(\d\d)\.(\d\d)$/.exec(dateF);
  const t = /^(\d\d)\.(\d\d)\.(\d\d)$/.exec(timeF);
  if (!d || !t) return new Date(NaN);
  let year = Number(d[3]);
  year += year >= 85 ? 1900 : 2000;
  if (isPlus) {
    const m = /^Startdate (\d\d)-([A-Z]{3})-(\d{4})/.exec(recording);
    if (m && MONTHS.includes(m[2]!)) year = Number(m[3]);
  }
  return new Date(Date.UTC(year, Number(d[2]) - 1, Number(d[1]), Number(t[1]), Number(t[2]), Number(t[3])));
}

function parseHeader(buf: Buffer, file: string, warnings: string[]): EdfHeader {
  if (buf.length < 256) {
    throw new EdfFormatError(file, buf.length, `file too short for an EDF/BDF header (${buf.length} of 256 bytes)`);
  }
  let sampleWidth: 2 | 3;
  let version: string;
  if (buf[0] === 0xff && ascii.decode(buf.subarray(1, 8)) === 'BIOSEMI') {
    sampleWidth = 3;
    version = '\xffBIOSEMI';
  } else if (ascii.decode(buf.subarray(0, 8)) === '0       ') {
    sampleWidth = 2;
    version = '0';
  } else {
    throw new EdfFormatError(
      file,
      0,
      `not an EDF/BDF file: version field is ${JSON.stringify(ascii.decode(buf.subarray(0, 8)))} (expected "0" or "\\xffBIOSEMI")`,
    );
  }
  const patient = field(buf, 8, 80);
  const recording = field(buf, 88, 80);
  const startDateField = field(buf, 168, 8);
  const startTimeField = field(buf, 176, 8);
  const headerBytes = numField(buf, 184, 8, file, 'header size', true);
  const reserved = field(buf, 192, 44);
  const nRecordsDeclared = numField(buf, 236, 8, file, 'number of data records', true);
  const recordDuration = numField(buf, 244, 8, file, 'data record duration', false);
  const ns = numField(buf, 252, 4, file, 'number of signals', true);
  if (ns < 0 || ns > 100000) throw new EdfFormatError(file, 252, `implausible number of signals ${ns}`);
  if (recordDuration < 0) throw new EdfFormatError(file, 244, `negative data record duration ${recordDuration}`);
  if (headerBytes !== 256 * (ns + 1)) {
    throw new EdfFormatError(file, 184, `header size ${headerBytes} does not match ${ns} signals (expected ${256 * (ns + 1)})`);
  }
  if (buf.length < headerBytes) {
    throw new EdfFormatError(file, buf.length, `file ends inside the signal headers (${buf.length} of ${headerBytes} bytes)`);
  }
  let format: EdfFormat;
  const plus = reserved.startsWith('EDF+') || reserved.startsWith('BDF+');
  if (plus) {
    const kind = reserved[4] === 'D' ? 'D' : 'C';
    format = `${sampleWidth === 3 ? 'BDF' : 'EDF'}+${kind}` as EdfFormat;
  } else {
    format = sampleWidth === 3 ? 'BDF' : 'EDF';
  }

  // Signal header: each field is stored for all signals before the next field.
  const widths = [16, 80, 8, 8, 8, 8, 8, 80, 8, 32];
  const starts: number[] = [];
  let o = 256;
  for (const w of widths) {
    starts.push(o);
    o += w * ns;
  }
  const signals: EdfSignalHeader[] = [];
  for (let i = 0; i < ns; i++) {
    const at = (k: number): number => starts[k]! + widths[k]! * i;
    const label = field(buf, at(0), 16);
    const sig: EdfSignalHeader = {
      index: i,
      label,
      transducer: field(buf, at(1), 80),
      physicalDimension: field(buf, at(2), 8),
      physicalMin: numField(buf, at(3), 8, file, `physical minimum of signal ${i} (${label})`, false),
      physicalMax: numField(buf, at(4), 8, file, `physical maximum of signal ${i} (${label})`, false),
      digitalMin: numField(buf, at(5), 8, file, `digital minimum of signal ${i} (${label})`, true),
      digitalMax: numField(buf, at(6), 8, file, `digital maximum of signal ${i} (${label})`, true),
      prefilter: field(buf, at(7), 80),
      samplesPerRecord: numField(buf, at(8), 8, file, `samples per record of signal ${i} (${label})`, true),
      reserved: field(buf, at(9), 32),
      srate: 0,
      isAnnotation: label === 'EDF Annotations' || label === 'BDF Annotations',
      isStatus: sampleWidth === 3 && label.toLowerCase() === 'status',
    };
    if (sig.samplesPerRecord < 0) throw new EdfFormatError(file, at(8), `negative samples per record for signal ${i}`);
    if (sig.digitalMax <= sig.digitalMin && !sig.isAnnotation) {
      throw new EdfFormatError(file, at(6), `digital maximum ${sig.digitalMax} ≤ digital minimum ${sig.digitalMin} for signal ${i} (${label})`);
    }
    if (sig.physicalMax === sig.physicalMin && !sig.isAnnotation) {
      warnings.push(`${file}: signal ${i} (${label}) has physical minimum = maximum; values are the physical minimum`);
    }
    sig.srate = recordDuration > 0 ? sig.samplesPerRecord / recordDuration : 0;
    signals.push(sig);
  }
  return {
    file,
    format,
    sampleWidth,
    version,
    patient,
    recording,
    startDateField,
    startTimeField,
    startTime: parseStart(startDateField, startTimeField, recording, plus),
    headerBytes,
    reserved,
    nRecords: 0,
    nRecordsDeclared,
    recordDuration,
    signals,
  };
}

/** Parse an in-memory EDF/BDF file; `file` is used in errors and warnings. */
export function parseEdf(buf: Buffer, file: string, opts: EdfReadOptions = {}): EdfRecording {
  const warnings: string[] = [];
  const header = parseHeader(buf, file, warnings);
  const w = header.sampleWidth;
  const sigs = header.signals;
  const recordBytes = sigs.reduce((a, s) => a + s.samplesPerRecord * w, 0);
  const dataBytes = buf.length - header.headerBytes;
  const available = recordBytes > 0 ? Math.floor(dataBytes / recordBytes) : 0;
  let nRec = header.nRecordsDeclared;
  if (nRec === -1) {
    nRec = available;
    if (recordBytes > 0 && dataBytes % recordBytes !== 0) {
      warnings.push(`${file}: ${dataBytes % recordBytes} trailing bytes after the last complete data record ignored`);
    }
  } else if (nRec < -1) {
    throw new EdfFormatError(file, 236, `invalid number of data records ${nRec}`);
  } else if (available < nRec) {
    const cut = header.headerBytes + available * recordBytes;
    const msg = `file cut short: data record ${available} of ${nRec} is incomplete (${buf.length - cut} of ${recordBytes} bytes; file ends at byte ${buf.length})`;
    if (!opts.lenient) throw new EdfFormatError(file, cut, msg);
    warnings.push(`${file}: byte offset ${cut}: ${msg}; returning ${available} complete records`);
    nRec = available;
  } else if (dataBytes > nRec * recordBytes) {
    warnings.push(`${file}: ${dataBytes - nRec * recordBytes} bytes after the ${nRec} declared data records ignored`);
  }
  header.nRecords = nRec;

  // Byte offset of each signal inside a record.
  const sigOff: number[] = [];
  let acc = 0;
  for (const s of sigs) {
    sigOff.push(acc);
    acc += s.samplesPerRecord * w;
  }

  const signals: EdfSignal[] = [];
  for (const s of sigs) {
    if (s.isAnnotation) continue;
    const n = s.samplesPerRecord * nRec;
    const samples = new Float64Array(n);
    const keep = opts.keepDigital || s.isStatus || (opts.stimChannels?.includes(s.label) ?? false);
    const digital = keep ? new Int32Array(n) : undefined;
    const gain = (s.physicalMax - s.physicalMin) / (s.digitalMax - s.digitalMin);
    const offset = s.physicalMin - s.digitalMin * gain;
    let k = 0;
    for (let r = 0; r < nRec; r++) {
      let p = header.headerBytes + r * recordBytes + sigOff[s.index]!;
      if (w === 2) {
        for (let j = 0; j < s.samplesPerRecord; j++, p += 2) {
          const d = buf.readInt16LE(p);
          if (digital) digital[k] = d;
          samples[k++] = offset + gain * d;
        }
      } else {
        for (let j = 0; j < s.samplesPerRecord; j++, p += 3) {
          const d = buf[p]! | (buf[p + 1]! << 8) | ((buf[p + 2]! << 24) >> 8); // sign-extend 24 bit
          if (digital) digital[k] = d;
          samples[k++] = offset + gain * d;
        }
      }
    }
    const out: EdfSignal = { ...s, samples };
    if (digital) out.digital = digital;
    signals.push(out);
  }

  // Annotations and record start times.
  const annotations: EdfAnnotation[] = [];
  const recordStarts: number[] = [];
  const annSigs = sigs.filter((s) => s.isAnnotation);
  const isPlus = header.format.includes('+');
  for (let r = 0; r < nRec; r++) {
    let start: number | undefined;
    for (let a = 0; a < annSigs.length; a++) {
      const s = annSigs[a]!;
      const base = header.headerBytes + r * recordBytes + sigOff[s.index]!;
      const bytes = buf.subarray(base, base + s.samplesPerRecord * w);
      const tk = parseTals(bytes, base, file, a === 0, annotations, warnings);
      if (a === 0) start = tk;
    }
    if (start === undefined) {
      if (isPlus && annSigs.length > 0) warnings.push(`${file}: data record ${r} has no time-keeping annotation; start assumed contiguous`);
      start = r === 0 ? 0 : recordStarts[r - 1]! + header.recordDuration;
    }
    recordStarts.push(start);
  }
  if (header.format.endsWith('+C')) {
    // EDF+C: records must be contiguous; report (but keep) any time-keeping drift.
    for (let r = 1; r < nRec; r++) {
      const gap = recordStarts[r]! - recordStarts[r - 1]! - header.recordDuration;
      if (Math.abs(gap) > 1e-6) {
        warnings.push(`${file}: EDF+C record ${r} starts ${gap.toFixed(6)} s off the contiguous time axis`);
        break;
      }
    }
  }

  // Trigger events.
  const events: EdfTriggerEvent[] = [];
  const mask = opts.triggerMask ?? 0xffff;
  for (const s of signals) {
    const explicit = opts.stimChannels?.includes(s.label) ?? false;
    if (!s.isStatus && !explicit) continue;
    const values = new Int32Array(s.samples.length);
    for (let i = 0; i < values.length; i++) {
      values[i] = s.isStatus ? s.digital![i]! & mask : Math.round(s.samples[i]!);
    }
    events.push(...triggerEvents(s.label, values, s.samplesPerRecord, s.srate, recordStarts));
  }

  for (const wmsg of warnings) log.warn({ file }, wmsg);
  return { header, signals, annotations, recordStarts, events, warnings };
}

/** Time (s from header start) of sample i of a signal with `spr` samples per record. */
export function sampleTime(i: number, spr: number, srate: number, recordStarts: number[]): number {
  const r = Math.floor(i / spr);
  return recordStarts[r]! + (i - r * spr) / srate;
}

/** Per-sample times of one signal, following the record start times (EDF+D gaps included). */
export function signalTimes(sig: EdfSignalHeader, recordStarts: number[]): Float64Array {
  const t = new Float64Array(sig.samplesPerRecord * recordStarts.length);
  let k = 0;
  for (const start of recordStarts) {
    for (let j = 0; j < sig.samplesPerRecord; j++) t[k++] = start + j / sig.srate;
  }
  return t;
}

function triggerEvents(
  channel: string,
  values: Int32Array,
  spr: number,
  srate: number,
  recordStarts: number[],
): EdfTriggerEvent[] {
  const out: EdfTriggerEvent[] = [];
  let prev = 0;
  let open: EdfTriggerEvent | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === prev) continue;
    const t = sampleTime(i, spr, srate, recordStarts);
    if (open) {
      open.duration = t - open.onset;
      open = undefined;
    }
    if (v !== 0) {
      open = { channel, sample: i, onset: t, duration: 0, value: v };
      out.push(open);
    }
    prev = v;
  }
  if (open && values.length > 0) {
    open.duration = sampleTime(values.length - 1, spr, srate, recordStarts) + 1 / srate - open.onset;
  }
  return out;
}

/**
 * Decode the TALs (time-stamped annotation lists) of one annotation signal in
 * one record. Returns the record start time when `timekeeping` is set and the
 * first TAL is a time-keeping TAL.
 */
function parseTals(
  bytes: Buffer,
  base: number,
  file: string,
  timekeeping: boolean,
  out: EdfAnnotation[],
  warnings: string[],
): number | undefined {
  let start: number | undefined;
  let i = 0;
  let first = true;
  while (i < bytes.length) {
    if (bytes[i] === 0) {
      i++;
      continue;
    }
    let end = bytes.indexOf(0, i);
    if (end < 0) end = bytes.length;
    const tal = bytes.subarray(i, end);
    const talOffset = base + i;
    i = end + 1;
    // onset [0x15 duration] 0x14 text 0x14 text ... 0x14
    const sep = tal.indexOf(0x14);
    if (sep < 0) {
      warnings.push(`${file}: byte offset ${talOffset}: annotation list without 0x14 separator skipped`);
      first = false;
      continue;
    }
    const timePart = ascii.decode(tal.subarray(0, sep));
    const [onsetS, durS] = timePart.split('\x15');
    if (!/^[+-]\d+(\.\d*)?$/.test(onsetS ?? '') || (durS !== undefined && durS !== '' && !/^\d+(\.\d*)?$/.test(durS))) {
      warnings.push(`${file}: byte offset ${talOffset}: malformed annotation onset/duration ${JSON.stringify(timePart)} skipped`);
      first = false;
      continue;
    }
    const onset = Number(onsetS);
    const duration = durS ? Number(durS) : 0;
    const texts = splitBytes(tal.subarray(sep + 1), 0x14);
    // The list ends with 0x14, so the last piece is empty.
    if (texts.length > 0 && texts[texts.length - 1]!.length === 0) texts.pop();
    let k = 0;
    let curOnset = onset;
    let curDuration = duration;
    if (timekeeping && first && (texts.length === 0 || texts[0]!.length === 0)) {
      start = onset;
      k = 1;
      // Some writers (Nihon Kohden exports) omit the 0x00 after the time-keeping
      // TAL, so the next TAL's onset shows up as its second "annotation"
      // ("+0\x14\x14+1.14\x14text\x14"). Read such a piece as a new onset.
      const m = texts.length > 2 ? TAL_TIME.exec(ascii.decode(texts[1]!)) : null;
      if (m) {
        curOnset = Number(m[1]);
        curDuration = m[2] ? Number(m[2]) : 0;
        k = 2;
      }
    }
    for (; k < texts.length; k++) {
      const text = utf8.decode(texts[k]!);
      if (text.length > 0) out.push({ onset: curOnset, duration: curDuration, text });
    }
    first = false;
  }
  return start;
}

const TAL_TIME = /^([+-]\d+(?:\.\d*)?)(?:\x15(\d+(?:\.\d*)?))?$/;

function splitBytes(b: Buffer, sep: number): Buffer[] {
  const parts: Buffer[] = [];
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === sep) {
      parts.push(b.subarray(s, i));
      s = i + 1;
    }
  }
  parts.push(b.subarray(s));
  return parts;
}
