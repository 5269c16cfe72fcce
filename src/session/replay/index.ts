/**
 * Replay: recordings (XDF, EDF/BDF) turned back into the acquired chunks the live
 * path produced and run through the same Pipeline. See docs/recording.md.
 */
export { ReplayError, replayStreamId, type ReplayItem, type ReplaySourceOptions } from './source.ts';
export { xdfReplayItems } from './xdf-items.ts';
export { edfReplayItems } from './edf-items.ts';
export { replayItems, replayRecording, type ReplayOptions, type ReplayResult } from './replay.ts';
export { compareIntents, type IntentComparison } from './compare.ts';
