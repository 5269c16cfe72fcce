export { clock, ClockCorrector, type ClockOptions } from './clock.ts';
export { Dejitter, type DejitterOptions, type DejitterState } from './dejitter.ts';
export { OffsetTracker, monotonize } from './offsets.ts';
