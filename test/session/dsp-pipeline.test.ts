/**
 * The dsp stage inside the runtime pipeline: calibration and decoding both see the
 * filtered signal, the decoder still works, and intents do not depend on how the
 * input was chunked (the property live/replay parity rests on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateRecording } from '../../devices/signal-model.ts';
import { calibrateFromRecording } from '../../src/session/calibrate.ts';
import { Pipeline } from '../../src/session/pipeline.ts';
import { parseDspOptions, type DspOptions } from '../../src/dsp/chain.ts';
import type { Intent } from '../../src/types.ts';

const DSP: DspOptions = { notch: 50, bandpass: [1, 40], montage: 'car' };

function run(decoder: ReturnType<typeof calibrateFromRecording>, rec: ReturnType<typeof generateRecording>, chunkSizes: number[]): Intent[] {
  const p = new Pipeline({ decoder, dsp: DSP, maxLateness: 1e9 });
  const C = rec.channels.length;
  const N = rec.data.length / C;
  const out: Intent[] = [];
  let k = 0;
  for (let i = 0; i < N; k++) {
    const n = Math.min(chunkSizes[k % chunkSizes.length]!, N - i);
    const ts = Float64Array.from({ length: n }, (_, j) => 10 + (i + j) / rec.srate);
    out.push(...p.push({ kind: 'signal', stream: 'eeg', data: rec.data.slice(i * C, (i + n) * C), timestamps: ts, channels: rec.channels, srate: rec.srate }, 0).intents);
    i += n;
  }
  return out;
}

test('notch + band-pass + CAR in the pipeline: decoding works and intents are chunking-invariant', (t) => {
  const decoder = calibrateFromRecording(generateRecording('eeg64-160', 'mi', 31, 260), { calibration: { paradigm: 'mi' }, dsp: DSP });
  const rec = generateRecording('eeg64-160', 'mi', 32, 60);
  const a = run(decoder, rec, [1]);
  const b = run(decoder, rec, [7, 13, 160]);
  assert.ok(a.length > 600, `intents: ${a.length}`);
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i]!.label, b[i]!.label);
    assert.equal(a[i]!.tFrame, b[i]!.tFrame);
    for (const k of Object.keys(a[i]!.probs)) assert.ok(Math.abs(a[i]!.probs[k]! - b[i]!.probs[k]!) <= 1e-9);
  }
  // Frames inside cued trials are decoded well above chance (2 classes).
  const cues = rec.events.filter((e) => e.label.startsWith('mi:'));
  let n = 0;
  let ok = 0;
  for (const i of a) {
    const c = cues.filter((e) => 10 + e.t + 0.5 <= i.tFrame && i.tFrame <= 10 + e.t + 4).pop();
    if (!c) continue;
    n++;
    if (`mi:${i.label}` === c.label) ok++;
  }
  t.diagnostic(`with dsp: ${ok}/${n} cued frames correct (${((100 * ok) / n).toFixed(1)} %)`);
  assert.ok(n > 100 && ok / n > 0.65, `accuracy ${ok}/${n}`);
});

test('dsp options are validated with errors naming the option', () => {
  assert.throws(() => parseDspOptions({ notch: '55' }), /--notch: expected 50 or 60/);
  assert.throws(() => parseDspOptions({ bandpass: '40,1' }), /--bandpass: expected LO,HI/);
  assert.throws(() => parseDspOptions({ montage: 'avg' }), /--montage: expected none, car or bipolar/);
  assert.deepEqual(parseDspOptions({ notch: '60', bandpass: '0.5,45', montage: 'bipolar', resample: '1024' }), { notch: 60, bandpass: [0.5, 45], montage: 'bipolar', resample: 1024 });
});
