/**
 * Streaming properties of the dsp operators:
 * - chunking invariance: 1-sample, 7-sample and one 10,000-sample chunk give bit-identical output;
 * - anti-aliasing of the resampler at 2048 → 1024 Hz (300 Hz passes, ≥ 60 dB above 512 Hz);
 * - notch attenuation at the line frequency and harmonics;
 * - markers/gaps pass through, gaps reset state, channel-set changes re-initialise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import {
  bandpass, bandstop, lowpass, highpass, notch, car, bipolar, laplacian, reref, resample, bandPower,
  detectBadChannels, detectArtifacts, sosFilter, butterSos, Resampler, firMagnitude, mulberry32, gaussian,
  SosFilter, notchSos, sosFreqz,
} from '../../src/dsp/index.ts';
import type { ChannelInfo, Chunk, GapEvent, MarkerChunk, SignalChunk } from '../../src/types.ts';

const FS = 2048;
const N = 10_000;
const CHANNELS: ChannelInfo[] = [];
for (const shaft of ['LA', 'RH']) for (let k = 1; k <= 4; k++) CHANNELS.push({ label: `${shaft}${k}`, type: 'SEEG', shaft, contact: k, pos: [shaft === 'LA' ? -20 : 20, k * 3.5, 0] });
const C = CHANNELS.length;

function signal(n = N, seed = 7): Float32Array {
  const g = gaussian(mulberry32(seed));
  const x = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    const t = i / FS;
    const common = 30 * Math.sin(2 * Math.PI * 10 * t) + 8 * Math.sin(2 * Math.PI * 50 * t) + 3 * Math.sin(2 * Math.PI * 300 * t);
    for (let c = 0; c < C; c++) x[i * C + c] = 100 + c + common * (1 + 0.1 * c) + 5 * g();
  }
  return x;
}

function chunked(x: Float32Array, size: number, stream = 'seeg', t0 = 0, channels = CHANNELS): SignalChunk[] {
  const cc = channels.length;
  const n = x.length / cc;
  const out: SignalChunk[] = [];
  for (let i = 0; i < n; i += size) {
    const m = Math.min(size, n - i);
    const ts = new Float64Array(m);
    for (let j = 0; j < m; j++) ts[j] = t0 + (i + j) / FS;
    out.push({ kind: 'signal', stream, data: x.slice(i * cc, (i + m) * cc), timestamps: ts, channels, srate: FS });
  }
  return out;
}

async function run(op: OperatorFunction<Chunk, Chunk>, input: Chunk[]): Promise<Chunk[]> {
  return lastValueFrom(from(input).pipe(op, toArray()));
}

/** Concatenate signal output per stream, plus markers as JSON, into one comparable record. */
function flatten(out: Chunk[]): { data: Record<string, number[]>; ts: Record<string, number[]>; labels: Record<string, string>; markers: string[] } {
  const data: Record<string, number[]> = {};
  const ts: Record<string, number[]> = {};
  const labels: Record<string, string> = {};
  const markers: string[] = [];
  for (const c of out) {
    if (c.kind === 'signal') {
      (data[c.stream] ??= []).push(...c.data);
      (ts[c.stream] ??= []).push(...c.timestamps);
      labels[c.stream] = c.channels.map((ch) => ch.label).join(',');
    } else if (c.kind === 'marker') markers.push(...c.markers);
  }
  return { data, ts, labels, markers };
}

const OPS: Record<string, () => OperatorFunction<Chunk, Chunk>> = {
  bandpass: () => bandpass({ lo: 1, hi: 500, order: 4 }),
  lowpass: () => lowpass({ cutoff: 200, order: 5 }),
  highpass: () => highpass({ cutoff: 0.5, order: 3, init: 'zero' }),
  bandstop: () => bandstop({ lo: 45, hi: 55, order: 2 }),
  notch: () => notch({ freq: 50, Q: 30 }),
  sosFilter: () => sosFilter((fs) => butterSos({ order: 2, cutoff: [80, 250], btype: 'bandpass', fs })),
  car: () => car(),
  bipolar: () => bipolar(),
  laplacian: () => laplacian(),
  reref: () => reref({ matrix: [[1, -1, 0, 0, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0, 0, -1, 0]], outputs: ['a', 'b'] }),
  'resample 2048→1024': () => resample({ fsOut: 1024 }),
  'resample 2048→3072 (3/2)': () => resample({ fsOut: 3072 }),
  'resample 2048→500 (125/512)': () => resample({ fsOut: 500 }),
  'bandPower welch': () => bandPower({ windowSec: 0.5, hopSec: 0.1 }),
  'bandPower multitaper': () => bandPower({ windowSec: 0.25, hopSec: 0.1, method: 'multitaper', NW: 2 }),
  detectBadChannels: () => detectBadChannels(),
  detectArtifacts: () => detectArtifacts({ amplitudeUv: 40 }),
};

test('chunking invariance: 1-, 7- and 10,000-sample chunks give bit-identical output', async () => {
  const x = signal();
  // make the bad-channel and artifact detectors produce events: channel 3 goes flat after 1 s
  for (let i = FS; i < N; i++) x[i * C + 3] = 0;
  for (const [name, make] of Object.entries(OPS)) {
    const ref = flatten(await run(make(), chunked(x, N)));
    for (const size of [1, 7]) {
      const got = flatten(await run(make(), chunked(x, size)));
      assert.deepEqual(got.labels, ref.labels, `${name}: labels, chunk ${size}`);
      for (const s of Object.keys(ref.data)) {
        const a = Float32Array.from(got.data[s]!), b = Float32Array.from(ref.data[s]!);
        assert.equal(a.length, b.length, `${name}: length, chunk ${size}`);
        assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), `${name}: data not bit-identical with chunk ${size}`);
        assert.deepEqual(got.ts[s], ref.ts[s], `${name}: timestamps, chunk ${size}`);
      }
      assert.deepEqual(got.markers, ref.markers, `${name}: markers, chunk ${size}`);
    }
  }
});

test('chunking invariance of the SEEG chain (band-pass, notch, bipolar, resample)', async () => {
  const x = signal(4000, 11);
  const chain = (src: Chunk[]) => lastValueFrom(from(src).pipe(bandpass({ lo: 0.5, hi: 500 }), notch({ freq: 50 }), bipolar(), resample({ fsOut: 1024 }), toArray()));
  const ref = flatten(await chain(chunked(x, 4000)));
  for (const size of [1, 7]) {
    const got = flatten(await chain(chunked(x, size)));
    assert.ok(Buffer.from(Float32Array.from(got.data.seeg!).buffer).equals(Buffer.from(Float32Array.from(ref.data.seeg!).buffer)));
  }
});

test('resampler 2048 → 1024 Hz: 300 Hz fast ripple passes, > 512 Hz attenuated ≥ 60 dB', () => {
  const r = new Resampler({ fsIn: 2048, fsOut: 1024 });
  const h = r.taps; // gain `up` = 1
  const passDb = 20 * Math.log10(firMagnitude(h, 300, 2048));
  let worstStop = -Infinity;
  for (let f = 512; f <= 1024; f += 2) worstStop = Math.max(worstStop, 20 * Math.log10(firMagnitude(h, f, 2048)));
  // with signals: steady-state output amplitude of sines
  const amp = (f: number): number => {
    const rr = new Resampler({ fsIn: 2048, fsOut: 1024 });
    const n = 4096;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.sin(2 * Math.PI * f * i / 2048);
    const y = rr.processF64(x, 1);
    let m = 0;
    for (let i = 200; i < y.length; i++) m = Math.max(m, Math.abs(y[i]!));
    return m;
  };
  const a300 = 20 * Math.log10(amp(300));
  const a520 = 20 * Math.log10(amp(520));
  const a600 = 20 * Math.log10(amp(600));
  const a900 = 20 * Math.log10(amp(900));
  process.stdout.write(`# resample 2048→1024: ${h.length} taps, group delay ${(r.groupDelaySeconds * 1000).toFixed(2)} ms, delay vs resample_poly ${r.delaySamples} samples; |H(300)| = ${passDb.toFixed(4)} dB, worst |H| on [512, 1024] Hz = ${worstStop.toFixed(1)} dB; sine out: 300 Hz ${a300.toFixed(3)} dB, 520 Hz ${a520.toFixed(1)} dB, 600 Hz ${a600.toFixed(1)} dB, 900 Hz ${a900.toFixed(1)} dB\n`);
  assert.ok(Math.abs(passDb) < 0.01, `300 Hz pass-band gain ${passDb} dB`);
  assert.ok(Math.abs(a300) < 0.05);
  assert.ok(worstStop <= -60, `stop band ${worstStop} dB`);
  for (const a of [a520, a600, a900]) assert.ok(a <= -60, `alias ${a} dB`);
});

test('resampler timestamps are causal and on the output grid', () => {
  const r = new Resampler({ fsOut: 1024 });
  const out = chunked(signal(3000), 37).map((c) => r.process(c)).filter((c): c is SignalChunk => c !== null);
  const ts = out.flatMap((c) => [...c.timestamps]);
  for (let i = 1; i < ts.length; i++) assert.ok(Math.abs(ts[i]! - ts[i - 1]! - 1 / 1024) < 1e-9);
  // first output at upsampled position down − nPrePad = 0 here (halfLen 44 is even): input sample 0
  assert.equal(ts[0], 0);
  assert.equal(out[0]!.srate, 1024);
});

test('notch with harmonics: ≥ 40 dB at 50/150/950 Hz, < 0.1 dB loss at 75 Hz, < 1 dB at 325 Hz (between two harmonics)', () => {
  const sos = notchSos({ freq: 50, Q: 30, fs: FS });
  assert.equal(sos.length, 20); // 50 … 1000 Hz below Nyquist 1024
  const db = (f: number) => 20 * Math.log10(sosFreqz(sos, [f], FS).mag[0]!);
  for (const f of [50, 150, 950]) assert.ok(db(f) < -40, `${f} Hz: ${db(f)} dB`);
  assert.ok(db(75) > -0.1, `75 Hz: ${db(75)} dB`);
  assert.ok(db(325) > -1, `325 Hz: ${db(325)} dB`);
  // in the time domain: a 50 Hz + 150 Hz interference is removed after the transient
  const filt = new SosFilter(sos, { init: 'zero' });
  const n = 8192;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(2 * Math.PI * 50 * i / FS) + Math.sin(2 * Math.PI * 150 * i / FS);
  const y = filt.processF64(x, 1);
  let m = 0;
  for (let i = n - 2048; i < n; i++) m = Math.max(m, Math.abs(y[i]!));
  process.stdout.write(`# notch 50 Hz Q30 ×20 harmonics @2048: residual of 50+150 Hz after 3 s: ${(20 * Math.log10(m / 2)).toFixed(1)} dB\n`);
  assert.ok(m < 0.02);
});

test('markers and gaps pass through; a gap resets filter state; channel-set change re-initialises', async () => {
  const x = signal(400);
  const a = chunked(x, 100);
  const marker: MarkerChunk = { kind: 'marker', stream: 'cues', markers: ['go'], timestamps: Float64Array.of(0.1) };
  const gap: GapEvent = { kind: 'gap', stream: 'seeg', tStart: 0.2, tEnd: 0.3, missingSamples: 204, reason: 'discontinuity' };
  const after = chunked(x, 100, 'seeg', 0.3);
  // different channel set (bipolar-like 3 channels) on the same stream
  const few: ChannelInfo[] = [{ label: 'X1' }, { label: 'X2' }, { label: 'X3' }];
  const third = chunked(new Float32Array(300).fill(1), 50, 'seeg', 1, few);
  const input: Chunk[] = [a[0]!, marker, a[1]!, gap, ...after, ...third];
  for (const [name, make] of Object.entries(OPS)) {
    // a user matrix is tied to its input channels: a different channel set is a configuration error
    const out = await run(make(), name === 'reref' ? input.slice(0, -third.length) : input);
    assert.ok(out.some((c) => c.kind === 'marker' && c.stream === 'cues'), `${name}: marker lost`);
    assert.ok(out.some((c) => c.kind === 'gap'), `${name}: gap lost`);
  }
  // After a gap, the filter output equals a fresh filter's output on the post-gap data.
  const fresh = flatten(await run(bandpass({ lo: 1, hi: 100 }), after));
  const withGap = await run(bandpass({ lo: 1, hi: 100 }), [a[0]!, a[1]!, gap, ...after]);
  const gi = withGap.findIndex((c) => c.kind === 'gap');
  const post = flatten(withGap.slice(gi + 1));
  assert.deepEqual(post.data.seeg, fresh.data.seeg);
  // With onGap 'hold' it continues (differs from a fresh start).
  const held = await run(bandpass({ lo: 1, hi: 100, onGap: 'hold' }), [a[0]!, a[1]!, gap, ...after]);
  assert.notDeepEqual(flatten(held.slice(gi + 1)).data.seeg, fresh.data.seeg);
  // Other streams are untouched.
  const other = chunked(x, 100, 'audio');
  const o = await run(bandpass({ lo: 1, hi: 100, streams: ['seeg'] }), other);
  assert.deepEqual(flatten(o).data.audio, Array.from(x));
});
