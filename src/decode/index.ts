export { BaselineDecoder, type BaselineOptions, type BaselineProfile, type Decoded } from './baseline.ts';
export { CalibrationCollector, type CalibrationOptions } from './calibration.ts';
export { fitLda, predictLda, ledoitWolf, type LdaModel } from './lda.ts';
export { BandPowerFeatures, neuralChannels, MI_BANDS, type Band } from './features.ts';
