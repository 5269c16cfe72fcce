/**
 * The temporal transformer's key/value cache, held in TypeScript between
 * steps so cache policies (window, sinks+recent, novelty+importance) can edit
 * it. Layout matches the ONNX step's past_k/past_v: [L, H, T, Dh] float32,
 * contiguous, exactly `length` frames (no padding).
 *
 * Each slot also records the absolute frame position it was computed at (RoPE
 * is applied before caching, so positions never need rewriting) and the
 * surprise of that frame, which policies may use.
 *
 * Storage: K and V live in buffers with room for `capacity` frames. The held
 * frames are one packed [L, H, length, Dh] block that starts at a movable
 * offset in that storage, so append, window, keepOnly and evict work in place
 * and allocate nothing until the capacity must grow (then it doubles). A full
 * sliding window (append + drop the oldest frame, every step of a stream)
 * moves no data at all: dropping frame 0 of every slab is the same as starting
 * the block one head vector later, and the new frame then takes the last slot
 * of each slab. When the block reaches the end of the storage it is moved
 * back to the start (once every few hundred steps).
 *
 * Invariant for callers: `k` and `v` are views of exactly `length` frames over
 * that storage. Writing values through them is fine (policies may edit in
 * place), but every structural change (append, adoptPresent, keepOnly, evict,
 * window, clear, and so every runner step) replaces the views and may move the
 * data inside the storage: read `cache.k` again after it instead of keeping an
 * old view, and copy (`slice()`) what must outlive the step. The same holds
 * for key()/value() views. `positions` and `surprise` are edited in place.
 */
export interface KvCacheOptions {
  /** Frames to reserve up front (default 0: grows on the first append). */
  capacity?: number;
  /**
   * Allocates storage of `floats` float32s. The runner passes one that
   * returns SharedArrayBuffer-backed arrays, so the model worker reads the
   * past K/V straight from the cache.
   */
  alloc?: (floats: number) => Float32Array;
}

const EMPTY = new Float32Array(0);

export class KvCache {
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  /** Frames currently held. */
  length = 0;
  /** Absolute position of each held frame. */
  positions: number[] = [];
  /** Surprise of each held frame (NaN if unknown). */
  surprise: number[] = [];
  private readonly alloc: (floats: number) => Float32Array;
  private kBuf: Float32Array = EMPTY;
  private vBuf: Float32Array = EMPTY;
  /** Float offset of the held block in the storage. */
  private off = 0;
  private kView: Float32Array = EMPTY;
  private vView: Float32Array = EMPTY;

  constructor(layers: number, heads: number, headDim: number, opts: KvCacheOptions = {}) {
    if (![layers, heads, headDim].every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error(`bad KV cache shape L=${layers} H=${heads} Dh=${headDim}`);
    }
    this.layers = layers;
    this.heads = heads;
    this.headDim = headDim;
    this.alloc = opts.alloc ?? ((n) => new Float32Array(n));
    if (opts.capacity) this.reserve(opts.capacity);
  }

  /** Keys, [L, H, length, Dh]: a view that the next structural change replaces. */
  get k(): Float32Array {
    return this.kView;
  }

  /** Values, [L, H, length, Dh]: a view that the next structural change replaces. */
  get v(): Float32Array {
    return this.vView;
  }

  /** Floats per frame across all layers and heads. */
  get frameSize(): number {
    return this.layers * this.heads * this.headDim;
  }

  /** Frames the storage holds before it must grow. */
  get capacity(): number {
    return Math.floor(this.kBuf.length / this.frameSize);
  }

  /** Bytes of K and V held (`length` frames; the reserve is not counted). */
  get bytes(): number {
    return this.kView.byteLength + this.vView.byteLength;
  }

  /** Make room for `frames` frames without further allocation. */
  reserve(frames: number): void {
    if (frames <= this.capacity) return;
    const n = frames * this.frameSize;
    const k = this.alloc(n);
    const v = this.alloc(n);
    if (k.length !== n || v.length !== n) throw new Error(`KV cache allocator returned ${k.length}/${v.length} floats, asked for ${n}`);
    k.set(this.kView);
    v.set(this.vView);
    this.kBuf = k;
    this.vBuf = v;
    this.off = 0;
    this.setLength(this.length);
  }

  /** Empty the cache; the storage is kept for reuse. */
  clear(): void {
    this.off = 0;
    this.setLength(0);
    this.positions.length = 0;
    this.surprise.length = 0;
  }

  /**
   * Take the step's present K/V ([L, H, T+1, Dh]), which is the current cache
   * plus one new frame. The values are copied into the cache's storage; the
   * arguments are not kept.
   */
  adoptPresent(presentK: Float32Array, presentV: Float32Array, position: number, surprise = NaN): void {
    const T1 = this.length + 1;
    const need = T1 * this.frameSize;
    if (presentK.length !== need || presentV.length !== need) {
      throw new Error(`present K/V has ${presentK.length}/${presentV.length} floats, expected ${need} (T+1=${T1})`);
    }
    this.room(need);
    this.kBuf.set(presentK, this.off);
    this.vBuf.set(presentV, this.off);
    this.setLength(T1);
    this.positions.push(position);
    this.surprise.push(surprise);
  }

  /**
   * Append one frame given as [L, H, Dh] keys/values (copied). With
   * `keepLast`, then keep only the newest `keepLast` frames: the same as
   * append + window(keepLast), but a full window moves no data.
   */
  append(newK: Float32Array, newV: Float32Array, position: number, surprise = NaN, keepLast = Infinity): void {
    const fs = this.frameSize;
    if (newK.length !== fs || newV.length !== fs) throw new Error(`append expects ${fs} floats per frame`);
    const T = this.length;
    const Dh = this.headDim;
    const LH = this.layers * this.heads;
    if (T === keepLast && T > 0) {
      // slide: start the block one head vector later (every slab loses its first
      // frame), then the new frame takes each slab's last slot
      this.room(T * fs + Dh);
      this.off += Dh;
      for (let lh = 0; lh < LH; lh++) this.putFrame(newK, newV, lh, this.off + (lh * T + T - 1) * Dh);
      this.setLength(T);
      const p = this.positions;
      const s = this.surprise;
      for (let j = 1; j < T; j++) {
        p[j - 1] = p[j];
        s[j - 1] = s[j];
      }
      p[T - 1] = position;
      s[T - 1] = surprise;
      return;
    }
    this.room((T + 1) * fs);
    const k = this.kBuf;
    const v = this.vBuf;
    const o = this.off;
    // widen every slab by one frame, last slab first so no source is overwritten before it moves
    for (let lh = LH - 1; lh >= 0; lh--) {
      const src = o + lh * T * Dh;
      const dst = o + lh * (T + 1) * Dh;
      if (lh > 0 && T > 0) {
        k.copyWithin(dst, src, src + T * Dh);
        v.copyWithin(dst, src, src + T * Dh);
      }
      this.putFrame(newK, newV, lh, dst + T * Dh);
    }
    this.setLength(T + 1);
    this.positions.push(position);
    this.surprise.push(surprise);
    if (this.length > keepLast) this.window(keepLast);
  }

  /** Keep only the frames at `keep` (indices into the current cache, any order; kept in ascending order). */
  keepOnly(keep: number[]): void {
    const idx = [...new Set(keep)].sort((a, b) => a - b);
    for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new Error(`keep index ${i} out of range`);
    const T = this.length;
    const T2 = idx.length;
    if (T2 === T) return;
    // runs of consecutive frames move in one go (a sliding window is one run per layer·head)
    const runs: [number, number, number][] = []; // [first source frame, first target frame, length]
    for (let j = 0; j < T2; j++) {
      const last = runs[runs.length - 1];
      if (last && idx[j] === last[0] + last[2]) last[2]++;
      else runs.push([idx[j], j, 1]);
    }
    // in place: targets ascend and never pass their sources, so moving front to back is safe
    const Dh = this.headDim;
    const k = this.kBuf;
    const v = this.vBuf;
    const o = this.off;
    for (let lh = 0; lh < this.layers * this.heads; lh++) {
      for (const [s0, d0, n] of runs) {
        const src = o + (lh * T + s0) * Dh;
        const dst = o + (lh * T2 + d0) * Dh;
        if (src === dst) continue;
        k.copyWithin(dst, src, src + n * Dh);
        v.copyWithin(dst, src, src + n * Dh);
      }
    }
    this.setLength(T2);
    for (let j = 0; j < T2; j++) {
      this.positions[j] = this.positions[idx[j]];
      this.surprise[j] = this.surprise[idx[j]];
    }
    this.positions.length = T2;
    this.surprise.length = T2;
  }

  /** Evict the given frame indices. */
  evict(indices: number[]): void {
    const drop = new Set(indices);
    const keep: number[] = [];
    for (let i = 0; i < this.length; i++) if (!drop.has(i)) keep.push(i);
    this.keepOnly(keep);
  }

  /** Keep the most recent `n` frames (sliding window), in place. */
  window(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new Error(`bad window ${n}`);
    const T = this.length;
    if (T <= n) return;
    const drop = T - n;
    const Dh = this.headDim;
    const k = this.kBuf;
    const v = this.vBuf;
    const o = this.off;
    for (let lh = 0; lh < this.layers * this.heads; lh++) {
      const src = o + (lh * T + drop) * Dh;
      k.copyWithin(o + lh * n * Dh, src, src + n * Dh);
      v.copyWithin(o + lh * n * Dh, src, src + n * Dh);
    }
    this.setLength(n);
    const p = this.positions;
    const s = this.surprise;
    for (let j = 0; j < n; j++) {
      p[j] = p[j + drop];
      s[j] = s[j + drop];
    }
    p.length = n;
    s.length = n;
  }

  /** Key vector of (layer, head, frame), a view. */
  key(layer: number, head: number, frame: number): Float32Array {
    const o = ((layer * this.heads + head) * this.length + frame) * this.headDim;
    return this.kView.subarray(o, o + this.headDim);
  }

  value(layer: number, head: number, frame: number): Float32Array {
    const o = ((layer * this.heads + head) * this.length + frame) * this.headDim;
    return this.vView.subarray(o, o + this.headDim);
  }

  /** Copy (layer·head) `lh` of a [L, H, Dh] frame to storage offset `o`. */
  private putFrame(newK: Float32Array, newV: Float32Array, lh: number, o: number): void {
    const Dh = this.headDim;
    const k = this.kBuf;
    const v = this.vBuf;
    const n = lh * Dh;
    for (let d = 0; d < Dh; d++) {
      k[o + d] = newK[n + d];
      v[o + d] = newV[n + d];
    }
  }

  /**
   * Make sure `floats` fit from the block's offset: move the block to the
   * start of the storage if that is enough, else grow (doubling, so a growing
   * cache reallocates O(log n) times).
   */
  private room(floats: number): void {
    if (this.off + floats <= this.kBuf.length) return;
    if (floats <= this.kBuf.length) {
      const n = this.length * this.frameSize;
      this.kBuf.copyWithin(0, this.off, this.off + n);
      this.vBuf.copyWithin(0, this.off, this.off + n);
      this.off = 0;
      this.setLength(this.length);
      return;
    }
    this.reserve(Math.max(Math.ceil(floats / this.frameSize), 2 * this.capacity, 8));
  }

  private setLength(T: number): void {
    this.length = T;
    this.kView = this.kBuf.subarray(this.off, this.off + T * this.frameSize);
    this.vView = this.vBuf.subarray(this.off, this.off + T * this.frameSize);
  }
}

/** A cache policy edits the cache after each step (e.g. to stay within a frame budget). */
export type CachePolicy = (cache: KvCache) => void;

/** Default policy: sliding window of `budget` frames (memory stays flat). */
export function windowPolicy(budget: number): CachePolicy {
  return (c) => c.window(budget);
}
