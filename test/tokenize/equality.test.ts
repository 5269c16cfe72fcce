/**
 * The tokenize stage computes what the featurizer computed before it was made
 * incremental: every frame's features equal the frozen reference
 * (bench/reference/featurizer-v1.ts — kept under bench/ because bench/ may not
 * import from test/, while a test may import the benchmark's baseline) to
 * 1e-5, on simulated EEG and SEEG and a real SEEG recording, with frames of
 * varying length from the first frame on (rings filling) and after reset().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameFeaturizer as Reference } from '../../bench/reference/featurizer-v1.ts';
import { FrameFeaturizer, FEAT_DIM, POS_DIM } from '../../src/tokenize/index.ts';
import { generateRecording, getProfile } from '../../devices/index.ts';
import { readEdf } from '../../adapters/edf/reader.ts';
import type { ChannelInfo } from '../../src/types.ts';

const TOL = 1e-5;

/** Seeded uniform [0, 1) (LCG), so the frame lengths are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/**
 * Frame lengths in samples: mostly one hop ± jitter, with single samples,
 * empty frames, short frames (< PATCH_LEN, interpolated patch) and long ones
 * (several hops at once) mixed in.
 */
function frameLengths(total: number, hop: number, seed: number): number[] {
  const r = lcg(seed);
  const out: number[] = [];
  let used = 0;
  while (used < total) {
    const u = r();
    let n: number;
    if (u < 0.05) n = 0;
    else if (u < 0.1) n = 1;
    else if (u < 0.2) n = 2 + Math.floor(r() * 14);
    else if (u < 0.27) n = hop * (2 + Math.floor(r() * 3)) + Math.floor(r() * 7);
    else n = Math.max(1, hop + Math.floor((r() - 0.5) * 0.3 * hop));
    n = Math.min(n, total - used);
    out.push(n);
    used += n;
  }
  return out;
}

interface Case {
  name: string;
  channels: ChannelInfo[];
  srate: number;
  /** [N, C] row-major. */
  data: Float32Array;
}

function compare(c: Case, seed: number, resetAt?: number): { frames: number; worst: number } {
  const C = c.channels.length;
  const ref = new Reference(c.channels, c.srate);
  const fz = new FrameFeaturizer(c.channels, c.srate);
  assert.deepEqual(Array.from(fz.posCode), Array.from(ref.posCode), `${c.name}: position codes`);
  assert.equal(fz.posCode.length, C * POS_DIM);
  const N = c.data.length / C;
  const hop = Math.round(0.08 * c.srate);
  const out = new Float32Array(C * FEAT_DIM);
  let off = 0;
  let worst = 0;
  let frames = 0;
  for (const n of frameLengths(N, hop, seed)) {
    if (frames === resetAt) {
      // a fresh reference against the reset featurizer: nothing may survive reset()
      ref.reset();
      fz.reset();
    }
    const chunk = c.data.subarray(off * C, (off + n) * C);
    off += n;
    const want = ref.push(chunk).x;
    // alternate the caller's output buffer and a fresh one
    const got = frames % 2 ? fz.push(chunk, out).x : fz.push(chunk).x;
    assert.equal(got.length, C * FEAT_DIM);
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i]! - want[i]!);
      if (!(d <= TOL)) assert.fail(`${c.name} frame ${frames} (n=${n}) ch ${Math.floor(i / FEAT_DIM)} feature ${i % FEAT_DIM}: ${got[i]} vs ${want[i]}`);
      if (d > worst) worst = d;
    }
    frames++;
  }
  return { frames, worst };
}

test('64 ch × 160 Hz simulated EEG: equal on every frame, past the 30 s baseline switch', () => {
  const r = generateRecording('eeg64-160', 'mi', 11, 40);
  const res = compare({ name: 'eeg64-160', channels: r.channels, srate: r.srate, data: r.data }, 1);
  assert.ok(res.frames > 400, `${res.frames} frames`);
});

test('64 ch × 1 kHz simulated EEG with a large DC offset: equal on every frame, and after reset()', () => {
  const r = generateRecording({ ...getProfile('eeg64-500'), name: 'eeg64-1000', srate: 1000 }, 'p300', 12, 12);
  // amplifier DC offsets of up to ±300 mV (in µV) on top of ~10 µV signals
  const C = r.channels.length;
  const data = Float32Array.from(r.data, (v, i) => v + ((i % C) % 3 === 0 ? 3e5 * Math.sin(i % C) : 0));
  compare({ name: 'eeg64-1000', channels: r.channels, srate: r.srate, data }, 2, 70);
});

test('256 ch × 2048 Hz simulated SEEG: equal on every frame', () => {
  const a = generateRecording('seeg', 'speech', 13, 4);
  const b = generateRecording('seeg', 'speech', 14, 4);
  const C1 = a.channels.length;
  const C = 256;
  const C2 = C - C1;
  const channels = [...a.channels, ...b.channels.slice(0, C2).map((ch) => ({ ...ch, label: `${ch.label}b`, shaft: `${ch.shaft}b` }))];
  const N = a.data.length / C1;
  const data = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    data.set(a.data.subarray(i * C1, (i + 1) * C1), i * C);
    data.set(b.data.subarray(i * C1, i * C1 + C2), i * C + C1);
  }
  compare({ name: 'seeg256-2048', channels, srate: 2048, data }, 3);
});

test('real SEEG recording (sample_seeg.edf, 1 kHz): equal on every frame', () => {
  const rec = readEdf('test/data/ieeg/seeg/sample_seeg.edf');
  const sig = rec.signals;
  const C = sig.length;
  const N = sig[0]!.samples.length;
  assert.ok(sig.every((s) => s.srate === 1000 && s.samples.length === N));
  const data = new Float32Array(N * C);
  for (let c = 0; c < C; c++) {
    const s = sig[c]!.samples;
    for (let i = 0; i < N; i++) data[i * C + c] = s[i]!;
  }
  const channels: ChannelInfo[] = sig.map((s) => ({ label: s.label, type: 'SEEG', unit: s.physicalDimension }));
  const res = compare({ name: 'sample_seeg', channels, srate: 1000, data }, 4);
  assert.ok(res.frames > 200, `${res.frames} frames`);
});
