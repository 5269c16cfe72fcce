/** Calibrating the baseline decoder from labelled frames (live or from a recording). */
import type { Frame } from '../align/framer.ts';
import { BaselineDecoder, type BaselineOptions } from '../decode/baseline.ts';
import { CalibrationCollector, type CalibrationOptions } from '../decode/calibration.ts';
import { collectFrame, fitFromCollector } from '../decode/frame-decoder.ts';
import { recordingFrames, type Recording } from './offline.ts';
import type { FramerOptions } from '../align/framer.ts';
import type { DspOptions } from '../dsp/chain.ts';

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
