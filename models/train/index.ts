/**
 * Teacher training (masked-patch pretraining + supervised heads), student
 * distillation (logit KL + hidden matching) and evaluation, in TensorFlow.js.
 */
export { initBackend } from './backend.ts';
export { sampleBatch, disposeBatch, type Batch } from './batch.ts';
export { trainPhases, makeVariables, variablesToArrays, TASK_WEIGHTS, type StepLosses, type TrainPhase, type TrainOptions } from './loop.ts';
export { inputStats } from './stats.ts';
export { recordingLogits, recordingEmbeddings } from './outputs.ts';
export { fitAdapters, fitAdaptersToTeacher } from './heads.ts';
export { trialOutcomes, scoreTask, scoreOutcomes, evaluate, type TaskScore } from './evaluate.ts';
