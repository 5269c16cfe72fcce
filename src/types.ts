/**
 * Core chunk types that flow through every stage of the pipeline
 * (acquire → clock → dsp → align → tokenize → model → decode → emit).
 * Kept deliberately small: every stage reads and writes these.
 */

/** Identifier of one acquired stream (usually `${name}@${source_id}` or the LSL uid). */
export type StreamId = string;

/** One channel's identity. Position is in metres (or the device's own unit, see `posUnit`). */
export interface ChannelInfo {
  label: string;
  /** LSL channel type: EEG, SEEG, ECOG, MEG, MISC, AUDIO, COUNTER ... */
  type?: string;
  unit?: string;
  /** Electrode position [x, y, z] when known. */
  pos?: [number, number, number];
  /** Depth-electrode shaft name (SEEG) when known. */
  shaft?: string;
  /** Contact index along the shaft, 1 = deepest (SEEG). */
  contact?: number;
}

/** A block of samples from one numeric stream. `data` is samples × channels, row-major. */
export interface SignalChunk {
  kind: 'signal';
  stream: StreamId;
  data: Float32Array;
  /** One timestamp per sample, seconds on the LSL clock (after the clock stage: the common clock). */
  timestamps: Float64Array;
  channels: ChannelInfo[];
  /** Nominal sampling rate in Hz (0 = irregular). */
  srate: number;
  /** Local clock time (s) at which these samples were pulled from the inlet (for latency accounting). */
  arrivedAt?: number;
  /** The samples in the stream's native format when it is not float32 (kept for exact recording). */
  raw?: Float64Array | Int32Array | Int16Array | Int8Array;
}

/** String events (cues, text, labels, stimulation) with one timestamp each. */
export interface MarkerChunk {
  kind: 'marker';
  stream: StreamId;
  /** One string per sample (the first channel). */
  markers: string[];
  timestamps: Float64Array;
  /** Every channel's string, samples × channels row-major, when the stream has more than one channel. */
  values?: string[];
}

/** An explicit hole in a stream: samples that were expected in [tStart, tEnd] never arrived. */
export interface GapEvent {
  kind: 'gap';
  stream: StreamId;
  tStart: number;
  tEnd: number;
  /** Samples expected at the nominal rate over the gap (0 for irregular streams). */
  missingSamples: number;
  /** `not-recorded`: acquired, but the recording could not store it (disk full, I/O error); written when recording resumes. */
  reason: 'stream-lost' | 'discontinuity' | 'overflow' | 'clock-reset' | 'not-recorded';
}

/** Everything known about a stream when it is opened (or re-opened after a loss). */
export interface StreamMeta {
  name: string;
  type: string;
  channelCount: number;
  /** Nominal rate in Hz; 0 for irregular streams. */
  srate: number;
  format: 'float32' | 'double64' | 'string' | 'int32' | 'int16' | 'int8' | 'int64';
  sourceId: string;
  uid: string;
  hostname: string;
  sessionId: string;
  createdAt: number;
  channels: ChannelInfo[];
  /** Full stream info XML (what an XDF StreamHeader stores). */
  xml: string;
}

/** A stream was opened: metadata for recorders and stages that need it before data. */
export interface StreamOpened {
  kind: 'stream';
  stream: StreamId;
  meta: StreamMeta;
}

/** One clock-offset measurement (lsl_time_correction): remote clock + offset = local clock. */
export interface ClockOffset {
  kind: 'clock';
  stream: StreamId;
  /** Local time the measurement was taken (s). */
  collectedAt: number;
  /** Offset to add to the stream's timestamps to map them to the local clock (s). */
  offset: number;
}

export type Chunk = SignalChunk | MarkerChunk | GapEvent | StreamOpened | ClockOffset;

/** Number of samples (rows) in a signal chunk. */
export function chunkLength(c: SignalChunk): number {
  return c.channels.length === 0 ? 0 : c.data.length / c.channels.length;
}

/** A decoded intent, as emitted to apps. */
export interface Intent {
  seq: number;
  label: string;
  probs: Record<string, number>;
  confidence: number;
  /** End time of the frame it was decoded from, on the common clock (s). */
  tFrame: number;
  /** Emission time on the common clock (s). */
  tEmit: number;
  /** tEmit − (arrival time of the frame's last sample), in ms: the latency we add. */
  latencyMs: number;
  model: string;
  abstained: boolean;
}
