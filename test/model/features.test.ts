/** Frame features, position codes and the KV cache container. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fft, rfftPower, FrameFeaturizer, positionCodes, PATCH_LEN, BANDS_HZ, FEAT_DIM, POS_DIM } from '../../src/model/features.ts';
import { KvCache, windowPolicy } from '../../src/model/kvcache.ts';
import type { ChannelInfo } from '../../src/types.ts';

test('fft matches a direct DFT', () => {
  const n = 64;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = Math.sin(i * 0.37) + 0.5 * Math.cos(i * 1.3) + (i % 5) * 0.1;
  const x = Float64Array.from(re);
  fft(re, im);
  for (let k = 0; k < n; k++) {
    let r = 0;
    let q = 0;
    for (let i = 0; i < n; i++) {
      r += x[i] * Math.cos((2 * Math.PI * k * i) / n);
      q -= x[i] * Math.sin((2 * Math.PI * k * i) / n);
    }
    assert.ok(Math.abs(r - re[k]) < 1e-9 && Math.abs(q - im[k]) < 1e-9, `bin ${k}`);
  }
});

test('real-input FFT power matches a direct DFT', () => {
  for (const n of [8, 64, 512]) {
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + 0.5 * Math.cos(i * 1.3) + (i % 5) * 0.1);
    const pw = new Float64Array(n / 2 + 1);
    rfftPower(x, pw);
    for (let k = 0; k <= n / 2; k++) {
      let r = 0;
      let q = 0;
      for (let i = 0; i < n; i++) {
        r += x[i] * Math.cos((2 * Math.PI * k * i) / n);
        q -= x[i] * Math.sin((2 * Math.PI * k * i) / n);
      }
      assert.ok(Math.abs(r * r + q * q - pw[k]) < 1e-7 * Math.max(1, pw[k]), `n=${n} bin ${k}`);
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
