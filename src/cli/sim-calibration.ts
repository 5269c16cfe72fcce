/**
 * Calibrate the baseline decoder from the simulator's labelled calibration block.
 * The block is generated offline from the same profile and seed the simulator
 * streams (bit-identical samples), so start-up does not wait minutes for it live.
 */
import { generateRecording } from '../../devices/signal-model.ts';
import { getProfile } from '../../devices/profiles.ts';
import type { BaselineDecoder } from '../decode/baseline.ts';
import type { DspOptions } from '../dsp/chain.ts';
import { logger } from '../log.ts';
import { calibrateFromRecording } from '../session/calibrate.ts';

const log = logger('calibration');

export function calibrateFromSimulator(device: string, seed: number, dsp?: DspOptions): BaselineDecoder {
  const profile = getProfile(device);
  const t0 = performance.now();
  // Long enough for the default calibration block (20 trials per class of ~6.25 s).
  const rec = generateRecording(profile.name, 'mi', seed, 300, {});
  const end = rec.events.find((e) => e.label === 'calib:end');
  if (!end) throw new Error(`simulated ${device} recording has no calib:end marker`);
  const n = Math.ceil((end.t + 1) * rec.srate) * rec.channels.length;
  const dec = calibrateFromRecording(
    { ...rec, data: rec.data.subarray(0, n), events: rec.events.filter((e) => e.t <= end.t) },
    { calibration: { paradigm: 'mi' }, dsp },
  );
  log.info({ device, seed, seconds: +end.t.toFixed(1), ms: Math.round(performance.now() - t0), labels: dec.labels }, 'decoder calibrated from the simulator calibration block');
  return dec;
}
