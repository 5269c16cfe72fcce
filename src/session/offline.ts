/**
 * Run an in-memory recording through the same clock-free align stage the live
 * pipeline uses, so offline calibration and evaluation see the frames live does.
 */
import { Framer, type Frame, type FramerOptions } from '../align/framer.ts';
import { DspChain, type DspOptions } from '../dsp/chain.ts';
import type { ChannelInfo } from '../types.ts';

export interface Recording {
  /** samples × channels, row-major */
  data: Float32Array;
  srate: number;
  channels: ChannelInfo[];
  /** Markers with times in seconds from the first sample. */
  events: { t: number; label: string }[];
  /** Timestamp of the first sample (default 0). */
  t0?: number;
  stream?: string;
}

/** Frames of a recording, cut exactly as the live framer would (chunks of `chunk` samples). */
export function* recordingFrames(rec: Recording, opts: FramerOptions & { chunk?: number; dsp?: DspOptions } = {}): Generator<Frame> {
  const dsp = new DspChain(opts.dsp);
  const C = rec.channels.length;
  const N = rec.data.length / C;
  const t0 = rec.t0 ?? 0;
  const stream = rec.stream ?? 'recording';
  // A generous lateness: offline there is no wall clock to wait for.
  const framer = new Framer({ ...opts, maxLateness: 1e9 });
  const chunk = opts.chunk ?? Math.max(1, Math.round(rec.srate * 0.02));
  const ev = [...rec.events].sort((a, b) => a.t - b.t);
  let e = 0;
  for (let i = 0; i < N; i += chunk) {
    const n = Math.min(chunk, N - i);
    const ts = Float64Array.from({ length: n }, (_, k) => t0 + (i + k) / rec.srate);
    const tLast = ts[n - 1]!;
    const mk: string[] = [];
    const mts: number[] = [];
    while (e < ev.length && t0 + ev[e]!.t <= tLast) (mk.push(ev[e]!.label), mts.push(t0 + ev[e]!.t), e++);
    if (mk.length) framer.push({ kind: 'marker', stream: 'markers', markers: mk, timestamps: Float64Array.from(mts) }, 0);
    for (const c of dsp.process({ kind: 'signal', stream, data: rec.data.subarray(i * C, (i + n) * C), timestamps: ts, channels: rec.channels, srate: rec.srate }))
      yield* framer.push(c, 0);
  }
}
