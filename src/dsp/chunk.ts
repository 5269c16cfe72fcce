/** Small helpers shared by the dsp processors. */
import type { ChannelInfo, SignalChunk } from '../types.ts';

/** Number of samples in a signal chunk. */
export function nSamples(c: SignalChunk): number {
  return c.channels.length === 0 ? 0 : c.data.length / c.channels.length;
}

/** A cheap identity for a channel set: processors re-initialise when it changes. */
export function channelKey(channels: ChannelInfo[]): string {
  let s = `${channels.length}:`;
  for (const ch of channels) s += ch.label + '\u0001';
  return s;
}

/** A new chunk with the same stream/timestamps/channels/srate and new data (or overrides). */
export function withData(c: SignalChunk, data: Float32Array, over: Partial<SignalChunk> = {}): SignalChunk {
  return { kind: 'signal', stream: c.stream, data, timestamps: c.timestamps, channels: c.channels, srate: c.srate, ...over };
}

/** Interface every stateful signal processor in src/dsp implements. */
export interface ChunkProcessor {
  /** Process one chunk; returns the output chunk, or null when no output sample is ready yet. */
  process(chunk: SignalChunk): SignalChunk | null;
  /** Forget all history (used after a gap). Channel set and design are kept. */
  reset(): void;
}

/** Mulberry32: small deterministic PRNG used by tests, simulations and benchmarks. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal sampler over a uniform PRNG (Box–Muller). */
export function gaussian(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) { const s = spare; spare = null; return s; }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
