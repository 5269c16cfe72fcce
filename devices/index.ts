/** Device simulator: profiles, geometry, schedules, the signal model and the LSL publisher. */
export {
  PROFILES,
  PARADIGMS,
  COUNTER_LABEL,
  COUNTER_MODULUS,
  getProfile,
  counterProfile,
  channelIndex,
  type DeviceProfile,
  type DeviceKind,
  type Paradigm,
} from './profiles.ts';
export {
  TEN_TEN,
  EEGMMIDB_LABELS,
  SEEG_SHAFTS,
  SEEG_SPACING_MM,
  normalizeEegLabel,
  tenTenPosition,
  seegContactPosition,
  ecogGridPositions,
  megHelmetPositions,
  type Vec3,
  type ShaftSpec,
} from './geometry.ts';
export { Schedule, SSVEP_FREQS, MI_CLASSES, cueLabel, defaultScheduleOptions, type ScheduleOptions, type ScheduleEvent } from './schedule.ts';
export { WORDS, WORD_LIST, VOWELS, wordDuration } from './speech.ts';
export {
  SignalGenerator,
  generateRecording,
  type GeneratorOptions,
  type ArtifactSwitches,
  type DropoutOptions,
  type SimEvent,
  type Recording,
} from './signal-model.ts';
export { designPink } from './noise-filters.ts';
export { startSimulator, resolveProfile, type SimulatorOptions, type Simulator, type PublishedStream } from './simulate.ts';
export { simulateCli } from './cli.ts';
