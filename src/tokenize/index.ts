/**
 * The tokenize stage: per-frame model inputs (DIVER-S frame features and
 * per-channel position codes) from a stream's new samples.
 *
 *   const f = new FrameFeaturizer(channels, srate); // one per stream
 *   const inputs = f.push(frameSamples);           // [C, FEAT_DIM] + [C, POS_DIM]
 */
export {
  FrameFeaturizer,
  positionCodes,
  FEAT_DIM,
  POS_DIM,
  PATCH_LEN,
  BANDS_HZ,
  CONTEXT_FRAMES,
  SHORT_FRAMES,
  BASELINE_FRAMES,
  FINE_POS,
  LONG_BAND_MAX_HZ,
  LONG_MIN_RATE,
  type FeaturizerState,
  type ModelInputs,
} from './diver-features.ts';
