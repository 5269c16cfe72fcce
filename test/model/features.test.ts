/** Frame features, position codes and the KV cache container. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fft, rfftPower, RealFftPlan } from '../../src/dsp/fft.ts';
import { FrameFeaturizer, positionCodes, PATCH_LEN, BANDS_HZ, FEAT_DIM, POS_DIM, FINE_POS } from '../../src/tokenize/index.ts';
import { KvCache, windowPolicy } from '../../src/model/kvcache.ts';
import type { ChannelInfo } from '../../src/types.ts';

/** The DFT of x at bin k, summed directly. */
function dft(x: Float64Array, k: number): [number, number] {
  const n = x.length;
  let r = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    r += x[i] * Math.cos((2 * Math.PI * k * i) / n);
    q -= x[i] * Math.sin((2 * Math.PI * k * i) / n);
  }
  return [r, q];
}

test('fft matches a direct DFT (radix-4 stages with and without the odd radix-2 stage, Bluestein)', () => {
  for (const n of [2, 4, 8, 16, 32, 64, 128, 256, 12, 100]) {
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    for (let i = 0; i < n; i++) re[i] = Math.sin(i * 0.37) + 0.5 * Math.cos(i * 1.3) + (i % 5) * 0.1;
    const x = Float64Array.from(re);
    fft(re, im);
    for (let k = 0; k < n; k++) {
      const [r, q] = dft(x, k);
      assert.ok(Math.abs(r - re[k]) < 1e-9 && Math.abs(q - im[k]) < 1e-9, `n=${n} bin ${k}`);
    }
  }
});

test('real-input FFT power matches a direct DFT, zero-padded, one plan reused', () => {
  for (const n of [4, 8, 64, 512, 12]) {
    const plan = new RealFftPlan(n);
    for (const len of [n, n - 1, Math.ceil(n * 0.64)]) {
      const x = Float64Array.from({ length: n }, (_, i) => (i < len ? Math.sin(i * 0.37) + 0.5 * Math.cos(i * 1.3) + (i % 5) * 0.1 : 0));
      const pw = plan.power(x.subarray(0, len), new Float64Array((n >> 1) + 1));
      const pw2 = rfftPower(x.subarray(0, len), n, new Float64Array((n >> 1) + 1));
      for (let k = 0; k <= n >> 1; k++) {
        const [r, q] = dft(x, k);
        assert.ok(Math.abs(r * r + q * q - pw[k]) < 1e-7 * Math.max(1, pw[k]), `n=${n} len=${len} bin ${k}`);
        assert.equal(pw2[k], pw[k]);
      }
    }
  }
});

test('powerOfRing equals power() of the same window copied out, for every head and fill', () => {
  for (const [n, len] of [[64, 50], [64, 64], [16, 9], [12, 10]] as const) {
    const plan = new RealFftPlan(n);
    const ring = Float64Array.from({ length: len + 3 }, (_, i) => Math.sin(i * 0.7) * 3 + 1);
    const win = Float64Array.from({ length: len }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / len));
    for (const head of [0, 1, len >> 1, len - 1]) {
      for (const lead of [0, 1, len >> 1, len - 1, len]) {
        const x = Float64Array.from({ length: len }, (_, i) => (i < lead ? 0 : (ring[3 + ((head + i) % len)] - 1.25) * win[i]));
        const want = plan.power(x, new Float64Array((n >> 1) + 1));
        const got = plan.powerOfRing(ring, 3, len, head, lead, 1.25, win, new Float64Array((n >> 1) + 1));
        for (let k = 0; k <= n >> 1; k++) assert.ok(Math.abs(got[k] - want[k]) <= 1e-12 * Math.max(1, want[k]), `n=${n} head=${head} lead=${lead} bin ${k}`);
      }
    }
  }
});

test('SSVEP rates land in different bands; a slow ERP-like offset survives in the patch', () => {
  const ch: ChannelInfo[] = [{ label: 'A' }, { label: 'B' }, { label: 'C' }, { label: 'D' }];
  const freqs = [8.57, 10, 12, 15];
  const fz = new FrameFeaturizer(ch, 160);
  let x: Float32Array = new Float32Array(0);
  for (const fr of sineFrames(160, 4, freqs, 14)) x = fz.push(fr).x;
  const best = freqs.map((_, c) => {
    const b = Array.from(x.subarray(c * FEAT_DIM + PATCH_LEN, c * FEAT_DIM + PATCH_LEN + 10));
    return b.indexOf(Math.max(...b));
  });
  assert.equal(new Set(best).size, 4, `bands ${best}`);
  // a step of +5 units after 13 frames of zero-mean noise: the patch sits well above 0
  const g = new FrameFeaturizer([{ label: 'A' }], 160);
  let s = 1;
  const noise = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5);
  for (let f = 0; f < 13; f++) g.push(Float32Array.from({ length: 13 }, noise));
  const y = g.push(Float32Array.from({ length: 13 }, () => 5 + noise())).x;
  assert.ok(y.subarray(0, PATCH_LEN).every((v) => v > 1), `patch ${Array.from(y.subarray(0, 4))}`);
});

function sineFrames(srate: number, C: number, freqs: number[], frames: number, amp = 10): Float32Array[] {
  const hop = Math.round(0.08 * srate);
  const out: Float32Array[] = [];
  let t = 0;
  for (let f = 0; f < frames; f++) {
    const a = new Float32Array(hop * C);
    for (let i = 0; i < hop; i++, t++) for (let c = 0; c < C; c++) a[i * C + c] = amp * Math.sin((2 * Math.PI * freqs[c] * t) / srate);
    out.push(a);
  }
  return out;
}

test('band powers put a sine in its band, up to Nyquist (ripples at 2 kHz)', () => {
  // bands are relative to a slow baseline: noise first, then noise + a sine; the sine's band rises most
  const ch: ChannelInfo[] = [{ label: 'A' }, { label: 'B' }, { label: 'C' }];
  for (const [srate, freqs] of [[160, [10, 25, 60]], [2000, [10, 90, 300]]] as const) {
    const fz = new FrameFeaturizer(ch, srate);
    const hop = Math.round(0.08 * srate);
    let s = 7;
    const noise = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5);
    for (let f = 0; f < 20; f++) fz.push(Float32Array.from({ length: hop * 3 }, noise));
    let x: Float32Array = new Float32Array(0);
    const sines = sineFrames(srate, 3, [...freqs], 13);
    for (const fr of sines) x = fz.push(fr.map((v) => v + noise())).x;
    assert.equal(x.length, 3 * FEAT_DIM);
    for (let c = 0; c < 3; c++) {
      const bands = Array.from(x.subarray(c * FEAT_DIM + PATCH_LEN, (c + 1) * FEAT_DIM));
      const best = bands.indexOf(Math.max(...bands));
      const [lo, hi] = BANDS_HZ[best];
      assert.ok(freqs[c] >= lo && freqs[c] < hi, `${srate} Hz ch${c}: ${freqs[c]} Hz landed in band ${lo}-${hi}`);
    }
    // bands above Nyquist read 0
    if (srate === 160) assert.equal(x[PATCH_LEN + BANDS_HZ.findIndex(([lo]) => lo >= 80)], 0);
  }
  // scale-free: µV vs V gives the same features
  const a = new FrameFeaturizer(ch, 160);
  const b = new FrameFeaturizer(ch, 160);
  let xa: Float32Array = new Float32Array(0);
  let xb: Float32Array = new Float32Array(0);
  for (const fr of sineFrames(160, 3, [10, 20, 30], 5)) {
    xa = a.push(fr).x;
    xb = b.push(fr.map((v) => v * 1e-6)).x;
  }
  for (let i = 0; i < xa.length; i++) assert.ok(Math.abs(xa[i] - xb[i]) < 1e-3, `feature ${i}`);
});

test('position codes follow the channel, not its index; montage-free codes for SEEG shafts', () => {
  const chans: ChannelInfo[] = [
    { label: 'C3', type: 'EEG', pos: [-0.7, 0, 0.7] },
    { label: 'C4', type: 'EEG', pos: [0.7, 0, 0.7] },
    { label: 'Cz', type: 'EEG', pos: [0, 0, 1] },
  ];
  const a = positionCodes(chans);
  const b = positionCodes([chans[2], chans[0], chans[1]]);
  assert.deepEqual(Array.from(b.subarray(0, POS_DIM)), Array.from(a.subarray(2 * POS_DIM, 3 * POS_DIM)));
  assert.deepEqual(Array.from(b.subarray(POS_DIM, 2 * POS_DIM)), Array.from(a.subarray(0, POS_DIM)));
  const seeg: ChannelInfo[] = [1, 2, 3].map((k) => ({ label: `LA${k}`, type: 'SEEG', shaft: 'LA', contact: k }));
  const s = positionCodes(seeg);
  const d = (i: number, j: number) => Math.hypot(...[0, 1, 2].map((k) => s[i * POS_DIM + k] - s[j * POS_DIM + k]));
  assert.ok(d(0, 1) > 0 && d(0, 2) > d(0, 1), 'contacts on a shaft are ordered along a line');
  assert.equal(s[3], 0.5); // pseudo-coordinate flag
  const none = positionCodes([{ label: 'X1' }, { label: 'X2' }]);
  assert.notDeepEqual(Array.from(none.subarray(27, 32)), Array.from(none.subarray(POS_DIM + 27, POS_DIM + 32)));
});

test('fine position code: intracranial contacts 3.5 mm apart get distinct codes, scalp electrodes none', () => {
  const fine = (codes: Float32Array, c: number) => Array.from(codes.subarray(c * POS_DIM + 32, c * POS_DIM + 32 + FINE_POS));
  // two SEEG contacts 3.5 mm apart (metres): the coarse Fourier terms barely differ, the fine ones do
  const seeg = positionCodes([
    { label: 'A1', type: 'SEEG', pos: [0.02, 0.01, 0.03] },
    { label: 'A2', type: 'SEEG', pos: [0.0235, 0.01, 0.03] },
  ]);
  const gap = (lo: number, hi: number) => Math.hypot(...Array.from({ length: hi - lo }, (_, i) => seeg[lo + i] - seeg[POS_DIM + lo + i]));
  assert.ok(gap(32, 32 + FINE_POS) > 3 * gap(9, 27), `fine code gap ${gap(32, 32 + FINE_POS)} vs coarse ${gap(9, 27)}`);
  assert.ok(fine(seeg, 0).every((v) => Math.abs(v) <= 1) && fine(seeg, 0).some((v) => v !== 0));
  const ecog = positionCodes([{ label: 'G1', type: 'ECOG', pos: [0.05, 0.02, 0.06] }]);
  assert.ok(fine(ecog, 0).some((v) => v !== 0));
  // scalp EEG/MEG and channels without coordinates: fine dims are zero
  const scalp = positionCodes([
    { label: 'C3', type: 'EEG', pos: [-0.07, 0, 0.07] },
    { label: 'MEG0111', type: 'MEG', pos: [0.1, 0.02, 0.05] },
    { label: 'X', type: 'SEEG' },
  ]);
  for (let c = 0; c < 3; c++) assert.ok(fine(scalp, c).every((v) => v === 0), `channel ${c}`);
});

test('KvCache: adopt, append, evict, window keep [L,H,T,Dh] layout', () => {
  const L = 2, H = 3, Dh = 4;
  const c = new KvCache(L, H, Dh);
  const frame = (v: number) => new Float32Array(L * H * Dh).fill(v);
  for (let t = 0; t < 5; t++) c.append(frame(t), frame(-t), t, t / 10);
  assert.equal(c.length, 5);
  assert.equal(c.k.length, L * H * 5 * Dh);
  assert.equal(c.key(1, 2, 3)[0], 3);
  assert.equal(c.value(0, 1, 4)[0], -4);
  c.evict([1, 3]);
  assert.deepEqual(c.positions, [0, 2, 4]);
  assert.equal(c.key(1, 0, 1)[0], 2);
  // adoptPresent takes [L,H,T+1,Dh]
  const pk = new Float32Array(L * H * 4 * Dh);
  for (let lh = 0; lh < L * H; lh++) for (let t = 0; t < 4; t++) pk.fill(t === 3 ? 9 : c.k[(lh * 3 + t) * Dh], (lh * 4 + t) * Dh, (lh * 4 + t + 1) * Dh);
  c.adoptPresent(pk, pk.slice(), 5);
  assert.equal(c.length, 4);
  assert.equal(c.key(1, 1, 3)[0], 9);
  assert.throws(() => c.adoptPresent(pk, pk, 6), /expected/);
  windowPolicy(2)(c);
  assert.deepEqual(c.positions, [4, 5]);
  assert.equal(c.bytes, 2 * L * H * 2 * Dh * 4);
  c.clear();
  assert.equal(c.length, 0);
});

/** A KV cache kept the naive way: a list of [L·H·Dh] frames. */
interface RefFrame {
  k: Float32Array;
  v: Float32Array;
  pos: number;
  s: number;
}

function packed(frames: RefFrame[], LH: number, Dh: number, which: 'k' | 'v'): number[] {
  const T = frames.length;
  const out = new Array<number>(LH * T * Dh);
  for (let lh = 0; lh < LH; lh++) for (let t = 0; t < T; t++) for (let d = 0; d < Dh; d++) out[(lh * T + t) * Dh + d] = frames[t][which][lh * Dh + d];
  return out;
}

function sameAsRef(c: KvCache, ref: RefFrame[], what: string): void {
  const LH = c.layers * c.heads;
  assert.equal(c.length, ref.length, `${what}: length`);
  assert.equal(c.k.length, ref.length * c.frameSize, `${what}: k view length`);
  assert.deepEqual(Array.from(c.k), packed(ref, LH, c.headDim, 'k'), `${what}: keys`);
  assert.deepEqual(Array.from(c.v), packed(ref, LH, c.headDim, 'v'), `${what}: values`);
  assert.deepEqual(c.positions, ref.map((f) => f.pos), `${what}: positions`);
  assert.deepEqual(c.surprise, ref.map((f) => f.s), `${what}: surprise`);
}

test('KvCache: in-place append/window/keepOnly/evict/adoptPresent match a naive cache and never reallocate within capacity', () => {
  const L = 2, H = 3, Dh = 4;
  const fs = L * H * Dh;
  const allocs: number[] = [];
  const c = new KvCache(L, H, Dh, { capacity: 12, alloc: (n) => (allocs.push(n), new Float32Array(n)) });
  assert.equal(c.capacity, 12);
  let seed = 5;
  const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296;
  let ref: RefFrame[] = [];
  let pos = 0;
  const frame = (): RefFrame => ({ k: Float32Array.from({ length: fs }, rnd), v: Float32Array.from({ length: fs }, rnd), pos: pos++, s: rnd() });
  const counts: Record<string, number> = {};
  for (let i = 0; i < 600; i++) {
    const r = rnd();
    let op: string;
    if (ref.length >= 10 || (r < 0.1 && ref.length > 0)) {
      op = 'window';
      const n = Math.floor(rnd() * ref.length);
      c.window(n);
      ref = ref.slice(ref.length - n);
    } else if (r < 0.45) {
      op = 'append';
      const f = frame();
      c.append(f.k, f.v, f.pos, f.s);
      ref.push(f);
    } else if (r < 0.7 && ref.length > 0) {
      op = 'slide'; // append + keep the newest length frames: the runner's default-policy step
      const f = frame();
      const n = ref.length;
      c.append(f.k, f.v, f.pos, f.s, n);
      ref = [...ref, f].slice(-n);
    } else if (r < 0.8) {
      op = 'adoptPresent';
      const f = frame();
      const next = [...ref, f];
      c.adoptPresent(Float32Array.from(packed(next, L * H, Dh, 'k')), Float32Array.from(packed(next, L * H, Dh, 'v')), f.pos, f.s);
      ref = next;
    } else if (r < 0.9) {
      op = 'keepOnly';
      const keep = ref.map((_, j) => j).filter(() => rnd() < 0.6);
      c.keepOnly([...keep].reverse()); // any order
      ref = keep.map((j) => ref[j]);
    } else if (r < 0.98) {
      op = 'evict';
      const drop = ref.map((_, j) => j).filter(() => rnd() < 0.3);
      c.evict(drop);
      ref = ref.filter((_, j) => !drop.includes(j));
    } else {
      op = 'clear';
      c.clear();
      ref = [];
    }
    counts[op] = (counts[op] ?? 0) + 1;
    sameAsRef(c, ref, `op ${i} (${op})`);
    assert.equal(c.key(0, 0, 0).length, ref.length ? Dh : 0);
  }
  for (const op of ['append', 'slide', 'window', 'keepOnly', 'evict', 'adoptPresent', 'clear']) assert.ok(counts[op] > 0, `${op} exercised`);
  assert.deepEqual(allocs, [12 * fs, 12 * fs], 'storage allocated once, at construction');
  assert.throws(() => c.window(-1), /bad window/);
  assert.throws(() => c.keepOnly([c.length]), /out of range/);
});

test('KvCache: a full sliding window moves the block instead of the data, wraps back at the end of its storage, and grows by doubling', () => {
  const L = 1, H = 2, Dh = 3;
  const fs = L * H * Dh;
  const allocs: number[] = [];
  const c = new KvCache(L, H, Dh, { capacity: 6, alloc: (n) => (allocs.push(n), new Float32Array(new SharedArrayBuffer(n * 4))) });
  const storage = c.k.buffer;
  assert.ok(storage instanceof SharedArrayBuffer);
  let ref: RefFrame[] = [];
  const frame = (t: number): RefFrame => ({ k: Float32Array.from({ length: fs }, (_, i) => t * 100 + i), v: Float32Array.from({ length: fs }, (_, i) => -t * 100 - i), pos: t, s: t / 10 });
  for (let t = 0; t < 4; t++) {
    const f = frame(t);
    c.append(f.k, f.v, f.pos, f.s, 4);
    ref.push(f);
  }
  sameAsRef(c, ref, 'filled');
  const offsets: number[] = [];
  for (let t = 4; t < 40; t++) {
    const f = frame(t);
    c.append(f.k, f.v, f.pos, f.s, 4);
    ref = [...ref, f].slice(-4);
    sameAsRef(c, ref, `slide t=${t}`);
    offsets.push(c.k.byteOffset / 4);
    assert.equal(c.v.byteOffset, c.k.byteOffset);
    assert.equal(c.k.buffer, storage, 'no reallocation');
  }
  // 6 frames of storage, 4 held: the block advances one head vector per step, 2·fs/Dh = 4 steps, then moves back to 0
  assert.deepEqual(offsets.slice(0, 10), [3, 6, 9, 12, 3, 6, 9, 12, 3, 6]);
  assert.deepEqual(allocs, [6 * fs, 6 * fs]);
  // growth: an unbounded cache doubles its storage and keeps its contents
  const g = new KvCache(L, H, Dh, { alloc: (n) => (allocs.push(n), new Float32Array(n)) });
  allocs.length = 0;
  ref = [];
  for (let t = 0; t < 20; t++) {
    const f = frame(t);
    g.append(f.k, f.v, f.pos, f.s);
    ref.push(f);
    sameAsRef(g, ref, `grow t=${t}`);
  }
  assert.deepEqual(allocs, [8, 8, 16, 16, 32, 32].map((n) => n * fs));
  assert.equal(g.capacity, 32);
  g.reserve(40);
  sameAsRef(g, ref, 'after reserve');
  assert.equal(g.capacity, 40);
  g.clear();
  assert.equal(g.capacity, 40, 'clear keeps the storage');
  assert.equal(g.bytes, 0);
});
