/**
 * Model runtime API (the `model` stage): load a DIVER-S step model (or an
 * external ONNX model with the same signature), featurize frames, step with a
 * KV cache held in TypeScript.
 *
 *   const runner = await loadModel('models/diver-s.int8.onnx', { device: 'cpu' });
 *   const f = new FrameFeaturizer(channels, srate);
 *   const r = await runner.step(f.push(frameSamples));   // { logits, probs, embedding, surprise }
 */
export { loadModel, ModelRunner, softmaxSlices, readOnnxMetadata } from './runner.ts';
export type { LoadOptions, ModelInfo, StepResult, StepOptions, AdapterSlice } from './runner.ts';
export { KvCache, windowPolicy } from './kvcache.ts';
export type { CachePolicy } from './kvcache.ts';
export { FrameFeaturizer, frameFeatures, positionCodes, FEAT_DIM, POS_DIM, PATCH_LEN, BANDS_HZ, CONTEXT_FRAMES } from './features.ts';
export type { ModelInputs } from './features.ts';
export { defaultModelPath } from './paths.ts';
