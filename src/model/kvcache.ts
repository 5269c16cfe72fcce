/**
 * The temporal transformer's key/value cache, held in TypeScript between
 * steps so cache policies (window, sinks+recent, novelty+importance) can edit
 * it. Layout matches the ONNX step's past_k/past_v: [L, H, T, Dh] float32,
 * contiguous, exactly `length` frames (no padding).
 *
 * Each slot also records the absolute frame position it was computed at (RoPE
 * is applied before caching, so positions never need rewriting) and the
 * surprise of that frame, which policies may use.
 */
export class KvCache {
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  /** Frames currently held. */
  length = 0;
  k: Float32Array;
  v: Float32Array;
  /** Absolute position of each held frame. */
  positions: number[] = [];
  /** Surprise of each held frame (NaN if unknown). */
  surprise: number[] = [];

  constructor(layers: number, heads: number, headDim: number) {
    if (![layers, heads, headDim].every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error(`bad KV cache shape L=${layers} H=${heads} Dh=${headDim}`);
    }
    this.layers = layers;
    this.heads = heads;
    this.headDim = headDim;
    this.k = new Float32Array(0);
    this.v = new Float32Array(0);
  }

  /** Floats per frame across all layers and heads. */
  get frameSize(): number {
    return this.layers * this.heads * this.headDim;
  }

  /** Bytes held by K and V. */
  get bytes(): number {
    return (this.k.byteLength + this.v.byteLength);
  }

  clear(): void {
    this.length = 0;
    this.k = new Float32Array(0);
    this.v = new Float32Array(0);
    this.positions = [];
    this.surprise = [];
  }

  /**
   * Take over the step's present K/V ([L, H, T+1, Dh]), which is the current
   * cache plus one new frame. The arrays are adopted, not copied.
   */
  adoptPresent(presentK: Float32Array, presentV: Float32Array, position: number, surprise = NaN): void {
    const T1 = this.length + 1;
    const need = T1 * this.frameSize;
    if (presentK.length !== need || presentV.length !== need) {
      throw new Error(`present K/V has ${presentK.length}/${presentV.length} floats, expected ${need} (T+1=${T1})`);
    }
    this.k = presentK;
    this.v = presentV;
    this.length = T1;
    this.positions.push(position);
    this.surprise.push(surprise);
  }

  /** Append one frame given as [L, H, Dh] keys/values (copying). */
  append(newK: Float32Array, newV: Float32Array, position: number, surprise = NaN): void {
    const fs = this.frameSize;
    if (newK.length !== fs || newV.length !== fs) throw new Error(`append expects ${fs} floats per frame`);
    const T = this.length;
    const k = new Float32Array((T + 1) * fs);
    const v = new Float32Array((T + 1) * fs);
    const Dh = this.headDim;
    for (let lh = 0; lh < this.layers * this.heads; lh++) {
      k.set(this.k.subarray(lh * T * Dh, (lh + 1) * T * Dh), lh * (T + 1) * Dh);
      v.set(this.v.subarray(lh * T * Dh, (lh + 1) * T * Dh), lh * (T + 1) * Dh);
      k.set(newK.subarray(lh * Dh, (lh + 1) * Dh), (lh * (T + 1) + T) * Dh);
      v.set(newV.subarray(lh * Dh, (lh + 1) * Dh), (lh * (T + 1) + T) * Dh);
    }
    this.k = k;
    this.v = v;
    this.length = T + 1;
    this.positions.push(position);
    this.surprise.push(surprise);
  }

  /** Keep only the frames at `keep` (indices into the current cache, any order; kept in ascending order). */
  keepOnly(keep: number[]): void {
    const idx = [...new Set(keep)].sort((a, b) => a - b);
    for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new Error(`keep index ${i} out of range`);
    const T = this.length;
    const T2 = idx.length;
    const Dh = this.headDim;
    const k = new Float32Array(T2 * this.frameSize);
    const v = new Float32Array(T2 * this.frameSize);
    // copy runs of consecutive frames in one go (a sliding window is one run per layer·head)
    const runs: [number, number, number][] = []; // [first source frame, first target frame, length]
    for (let j = 0; j < T2; j++) {
      const last = runs[runs.length - 1];
      if (last && idx[j] === last[0] + last[2]) last[2]++;
      else runs.push([idx[j], j, 1]);
    }
    for (let lh = 0; lh < this.layers * this.heads; lh++) {
      for (const [s0, d0, n] of runs) {
        const src = (lh * T + s0) * Dh;
        const dst = (lh * T2 + d0) * Dh;
        k.set(this.k.subarray(src, src + n * Dh), dst);
        v.set(this.v.subarray(src, src + n * Dh), dst);
      }
    }
    this.k = k;
    this.v = v;
    this.length = T2;
    this.positions = idx.map((i) => this.positions[i]);
    this.surprise = idx.map((i) => this.surprise[i]);
  }

  /** Evict the given frame indices. */
  evict(indices: number[]): void {
    const drop = new Set(indices);
    const keep: number[] = [];
    for (let i = 0; i < this.length; i++) if (!drop.has(i)) keep.push(i);
    this.keepOnly(keep);
  }

  /** Keep the most recent `n` frames (sliding window). */
  window(n: number): void {
    if (this.length <= n) return;
    const keep: number[] = [];
    for (let i = this.length - n; i < this.length; i++) keep.push(i);
    this.keepOnly(keep);
  }

  /** Key vector of (layer, head, frame), a view. */
  key(layer: number, head: number, frame: number): Float32Array {
    const o = ((layer * this.heads + head) * this.length + frame) * this.headDim;
    return this.k.subarray(o, o + this.headDim);
  }

  value(layer: number, head: number, frame: number): Float32Array {
    const o = ((layer * this.heads + head) * this.length + frame) * this.headDim;
    return this.v.subarray(o, o + this.headDim);
  }
}

/** A cache policy edits the cache after each step (e.g. to stay within a frame budget). */
export type CachePolicy = (cache: KvCache) => void;

/** Default policy: sliding window of `budget` frames (memory stays flat). */
export function windowPolicy(budget: number): CachePolicy {
  return (c) => c.window(budget);
}
