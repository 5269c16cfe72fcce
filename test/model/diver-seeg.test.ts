/**
 * The shipped DIVER-S model on the real SEEG recording (test/data/ieeg/seeg), bipolar
 * montage through the dsp chain, with contact coordinates from the BIDS electrodes.tsv:
 * the outputs are probability vectors, and the coordinates reach the position codes and
 * change what the model computes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { readEdf } from '../../adapters/edf/reader.ts';
import { attachElectrodesToChannels, readElectrodes } from '../../adapters/bids/electrodes.ts';
import { DspChain } from '../../src/dsp/chain.ts';
import { isNonNeural } from '../../src/dsp/contacts.ts';
import { loadModel, type ModelRunner, type StepResult } from '../../src/model/index.ts';
import { FrameFeaturizer, POS_DIM } from '../../src/tokenize/index.ts';
import type { ChannelInfo, SignalChunk } from '../../src/types.ts';

const MODEL = resolve('models/diver-s.int8.onnx');
const HOP = 80; // samples at 1000 Hz = the model's 80 ms frame
const FRAMES = 24;

const edf = readEdf(resolve('test/data/ieeg/seeg/sample_seeg.edf'));
const sigs = edf.signals.filter((s) => !s.isAnnotation);
// The EDF does not say which inputs are depth contacts; the recording is SEEG, so its neural inputs are.
const monopolar: ChannelInfo[] = sigs.map((s) => ({ label: s.label, type: isNonNeural({ label: s.label }) ? 'ECG' : 'SEEG', unit: s.physicalDimension }));
const table = readElectrodes(resolve('test/data/ieeg/seeg/sample_seeg_electrodes.tsv'));
const located = attachElectrodesToChannels(monopolar, table).channels;

/** The first FRAMES hops of the recording after the bipolar montage: [frames][HOP × C'], and the output channels. */
function bipolarFrames(channels: ChannelInfo[]): { frames: Float32Array[]; channels: ChannelInfo[] } {
  const chain = new DspChain({ montage: 'bipolar' });
  const C = channels.length;
  const rows: Float32Array[] = [];
  let out: ChannelInfo[] = [];
  for (let i = 0; i < FRAMES * HOP; i += 20) {
    const data = new Float32Array(20 * C);
    for (let k = 0; k < 20; k++) for (let c = 0; c < C; c++) data[k * C + c] = sigs[c]!.samples[i + k]!;
    const chunk: SignalChunk = { kind: 'signal', stream: 'seeg', data, timestamps: Float64Array.from({ length: 20 }, (_, k) => (i + k) / 1000), channels, srate: 1000 };
    const o = chain.process(chunk)[0] as SignalChunk;
    out = o.channels;
    rows.push(o.data);
  }
  const flat = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) (flat.set(r, at), (at += r.length));
  const Cb = out.length;
  return { frames: Array.from({ length: FRAMES }, (_, f) => flat.slice(f * HOP * Cb, (f + 1) * HOP * Cb)), channels: out };
}

let runner: ModelRunner | undefined;
after(async () => { await runner?.close(); });

async function decode(frames: Float32Array[], channels: ChannelInfo[]): Promise<{ results: StepResult[]; posCode: Float32Array }> {
  runner!.reset();
  const feat = new FrameFeaturizer(channels, 1000, 80);
  const results: StepResult[] = [];
  for (const f of frames) results.push(await runner!.step(feat.push(f)));
  return { results, posCode: feat.posCode };
}

test('DIVER-S decodes the real SEEG (bipolar, electrode coordinates): finite probability vectors; coordinates change the position codes and the outputs', async () => {
  runner = await loadModel(MODEL, { device: 'cpu' });
  const withPos = bipolarFrames(located);
  const noPos = bipolarFrames(monopolar);
  assert.equal(withPos.channels.length, 82);
  assert.deepEqual(withPos.channels.map((c) => c.label), noPos.channels.map((c) => c.label));
  assert.ok(withPos.channels.every((c) => c.pos && c.type === 'SEEG'), 'every bipolar channel has a midpoint position');
  assert.ok(noPos.channels.every((c) => !c.pos));
  // same signal either way: positions are metadata only
  for (let f = 0; f < FRAMES; f++) assert.deepEqual(withPos.frames[f], noPos.frames[f]);

  const a = await decode(withPos.frames, withPos.channels);
  const b = await decode(noPos.frames, noPos.channels);
  for (const { results } of [a, b]) {
    assert.equal(results.length, FRAMES);
    for (const r of results) {
      assert.ok(r.probs.every((p) => Number.isFinite(p) && p >= 0 && p <= 1));
      assert.ok(r.logits.every(Number.isFinite));
      assert.ok(Number.isFinite(r.surprise));
      for (const s of runner.adapters) {
        let sum = 0;
        for (let i = s.start; i < s.end; i++) sum += r.probs[i]!;
        assert.ok(Math.abs(sum - 1) < 1e-4, `${s.name} sums to ${sum}`);
      }
    }
  }
  // Position codes: with coordinates, "has position" = 1 and the xyz dims are the normalised
  // midpoints (metres / 0.1); without, the montage-free shaft code (has = 0.5).
  const C = withPos.channels.length;
  let diff = 0;
  for (let c = 0; c < C; c++) {
    const o = c * POS_DIM;
    assert.equal(a.posCode[o + 3], 1);
    assert.equal(b.posCode[o + 3], 0.5);
    const p = withPos.channels[c]!.pos!;
    for (let d = 0; d < 3; d++) assert.ok(Math.abs(a.posCode[o + d]! - p[d]! * 10) < 1e-6, `${withPos.channels[c]!.label} dim ${d}`);
    for (let j = 0; j < POS_DIM; j++) diff = Math.max(diff, Math.abs(a.posCode[o + j]! - b.posCode[o + j]!));
  }
  assert.ok(diff > 0.1, `position codes differ by ${diff}`);
  // and the model reads them: same signal, different coordinates → different embeddings and logits
  let dl = 0;
  for (let t = 0; t < FRAMES; t++) for (let i = 0; i < a.results[t]!.logits.length; i++) dl = Math.max(dl, Math.abs(a.results[t]!.logits[i]! - b.results[t]!.logits[i]!));
  assert.ok(dl > 1e-3, `logits differ by ${dl}`);
});
