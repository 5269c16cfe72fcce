/** Calibrating the baseline decoder from labelled frames (live or from a recording). */
import type { Frame } from '../align/framer.ts';
import { BaselineDecoder, type BaselineOptions } from '../decode/baseline.ts';
import { CalibrationCollector, type CalibrationOptions } from '../decode/calibration.ts';
import { neuralChannels } from '../decode/features.ts';
import { recordingFrames, type Recording } from './offline.ts';
import type { FramerOptions } from '../align/framer.ts';
import type { DspOptions } from '../dsp/chain.ts';

/** Feed one frame to a collector; adds its features when it lies in a labelled trial. */
export function collectFrame(dec: BaselineDecoder, col: CalibrationCollector, f: Frame): void {
  const label = col.observe(f);
  if (label === undefined) return;
  const x = dec.features(f);
  if (x) col.add(x, label);
}

/** Fit the decoder from what a collector gathered; throws naming what is missing. */
export function fitFromCollector(dec: BaselineDecoder, col: CalibrationCollector, f: Frame) {
  const s = dec.pickStream(f);
  if (!s) throw new Error('calibration: no signal stream in the frames');
  const counts = col.counts();
  if (Object.keys(counts).length < 2) throw new Error(`calibration needs ≥2 classes of labelled frames, got ${JSON.stringify(counts)}`);
  const labels = neuralChannels(s.channels).map((i) => s.channels[i]!.label);
  return dec.calibrate(col.X, col.y, labels, s.srate);
}

/** Calibrate a fresh baseline decoder from a labelled recording. */
export function calibrateFromRecording(
  rec: Recording,
  opts: { decoder?: BaselineOptions; calibration?: CalibrationOptions; framer?: FramerOptions; dsp?: DspOptions } = {},
): BaselineDecoder {
  const dec = new BaselineDecoder(opts.decoder);
  const col = new CalibrationCollector(opts.calibration);
  let last: Frame | undefined;
  for (const f of recordingFrames(rec, { ...opts.framer, dsp: opts.dsp })) {
    collectFrame(dec, col, f);
    last = f;
  }
  if (!last) throw new Error('calibration recording produced no frames');
  fitFromCollector(dec, col, last);
  return dec;
}
