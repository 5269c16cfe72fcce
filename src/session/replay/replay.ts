/**
 * Replay: a recording (XDF or EDF/BDF, chosen by content) read back as acquired
 * chunks (xdf-items.ts, edf-items.ts) and run through the same Pipeline as live.
 */
import type { BaselineDecoder, BaselineOptions } from '../../decode/baseline.ts';
import type { FrameDecoder } from '../../decode/frame-decoder.ts';
import type { CalibrationOptions } from '../../decode/calibration.ts';
import type { Chunk, Intent, StreamMeta } from '../../types.ts';
import { localClock } from '../../util/clock.ts';
import type { DspOptions } from '../../dsp/chain.ts';
import { Pipeline } from '../pipeline.ts';
import { edfReplayItems } from './edf-items.ts';
import { ReplayError, type ReplayItem, type ReplaySourceOptions } from './source.ts';
import { xdfReplayItems } from './xdf-items.ts';

/** XDF or EDF/BDF by content (magic), not by extension. */
export async function* replayItems(file: string, opts: ReplaySourceOptions = {}): AsyncGenerator<ReplayItem> {
  const { open } = await import('node:fs/promises');
  let head = Buffer.alloc(0);
  try {
    const fh = await open(file, 'r');
    try {
      const b = Buffer.alloc(8);
      const { bytesRead } = await fh.read(b, 0, 8, 0);
      head = b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new ReplayError(`${file}: byte offset 0: cannot open file: ${(e as Error).message}`);
  }
  const magic = head.toString('latin1');
  if (magic.startsWith('XDF:')) yield* xdfReplayItems(file, opts);
  else if (magic.startsWith('0       ') || (head[0] === 0xff && magic.slice(1, 8) === 'BIOSEMI')) yield* edfReplayItems(file, opts);
  else throw new ReplayError(`${file}: byte offset 0: not a recording neurox can replay (neither XDF "XDF:" nor EDF/BDF header; found ${JSON.stringify(magic.slice(0, 8))})`);
}

export interface ReplayOptions extends ReplaySourceOptions {
  /** Decoder to use, any FrameDecoder or a baseline (default: a baseline calibrated from the recording's cue markers, as live). */
  decoder?: BaselineDecoder | FrameDecoder;
  decoderOptions?: BaselineOptions;
  calibration?: CalibrationOptions;
  /** Frame hop / window (default: the values the recording was made with, else 0.08 / 1.0). */
  hop?: number;
  /** The dsp stage (default: the chain the recording was made with, else none). */
  dsp?: DspOptions;
  /** Add online bad-channel detection to that dsp stage (`DspOptions.badChannels`). */
  badChannels?: DspOptions['badChannels'];
  window?: number;
  abstainBelow?: number;
  /** Pace the chunks at the recording's own speed (default: as fast as possible). */
  realtime?: boolean;
  /** Real-time speed factor (default 1). */
  speed?: number;
  onIntent?: (i: Intent) => void;
  /** Every replayed acquired chunk (what a live recorder would have seen). */
  onChunk?: (c: Chunk, t: number) => void;
  /** Stop early (checked between chunks). */
  signal?: AbortSignal;
}

export interface ReplayResult {
  intents: Intent[];
  recordedIntents: Intent[];
  chunks: number;
  samples: number;
  gaps: number;
  streams: StreamMeta[];
  /** File header fields (XDF). */
  header: Record<string, string>;
  warnings: string[];
  /** Recording span (s, local clock) and wall time taken (s). */
  span: number;
  wallSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run a recording through the Pipeline (clock → align → decode), returning its intents. */
export async function replayRecording(file: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const warnings = opts.warnings ?? [];
  const recordedIntents: Intent[] = [];
  const header: Record<string, string> = {};
  const streams: StreamMeta[] = [];
  let pipeline: Pipeline | undefined;
  const make = (): Pipeline => {
    const hop = opts.hop ?? numField(header.neurox_hop) ?? 0.08;
    const window = opts.window ?? numField(header.neurox_window) ?? 1.0;
    const abstainBelow = opts.abstainBelow ?? numField(header.neurox_abstain_below) ?? 0;
    const recorded = opts.dsp ?? (header.neurox_dsp ? (JSON.parse(header.neurox_dsp) as DspOptions) : undefined);
    const dsp = opts.badChannels ? { ...recorded, badChannels: opts.badChannels } : recorded;
    const p = new Pipeline({ hop, window, abstainBelow, dsp, maxLateness: 1e9, decoder: opts.decoder, decoderOptions: opts.decoderOptions, calibration: opts.calibration });
    // Every intent, whatever the decoder (a model's arrive after its queue ran).
    p.onIntent((i) => {
      intents.push(i);
      opts.onIntent?.(i);
    });
    return p;
  };
  const intents: Intent[] = [];
  let chunks = 0;
  let samples = 0;
  let gaps = 0;
  let t0: number | undefined;
  let tLast = 0;
  const wall0 = localClock();
  const items = replayItems(file, {
    ...opts,
    warnings,
    onHeader: (h) => Object.assign(header, h),
    onRecordedIntent: (i) => recordedIntents.push(i),
  });
  for await (const { t, chunk } of items) {
    if (opts.signal?.aborted) break;
    pipeline ??= make();
    if (Number.isFinite(t)) {
      t0 ??= t;
      tLast = Math.max(tLast, t);
      if (opts.realtime) {
        const due = (t - t0) / (opts.speed ?? 1) - (localClock() - wall0);
        if (due > 0.002) await sleep(due * 1000);
      }
    }
    chunks++;
    if (chunk.kind === 'signal') samples += chunk.timestamps.length;
    if (chunk.kind === 'gap') gaps++;
    if (chunk.kind === 'stream') streams.push(chunk.meta);
    opts.onChunk?.(chunk, t);
    // Virtual "now": the local time the chunk was acquired (fast mode), the wall clock in real time.
    const now = opts.realtime ? localClock() : Number.isFinite(t) ? t : (t0 ?? 0);
    if (chunk.kind === 'signal' && opts.realtime) chunk.arrivedAt = now;
    pipeline.push(chunk, now);
    // Keep a model's queue short: wait for it now and then (results do not depend on when).
    if (chunks % 256 === 0) await pipeline.settled();
  }
  await pipeline?.settled();
  return { intents, recordedIntents, chunks, samples, gaps, streams, header, warnings, span: t0 === undefined ? 0 : tLast - t0, wallSeconds: localClock() - wall0 };
}

function numField(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
}
