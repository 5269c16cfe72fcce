/**
 * Model runtime API (the `model` stage): load a DIVER-S step model (or an
 * external ONNX model with the same signature) and step it with a KV cache
 * held in TypeScript, on the inputs the tokenize stage (src/tokenize) makes.
 *
 *   const runner = await loadModel('models/diver-s.int8.onnx', { device: 'cpu' });
 *   const f = new FrameFeaturizer(channels, srate);       // src/tokenize
 *   const r = await runner.step(f.push(frameSamples));   // { logits, probs, embedding, surprise }
 */
export { ModelRunner, softmaxSlices } from './runner.ts';
export { loadModel } from './load.ts';
export { readOnnxMetadata } from './metadata.ts';
export type { LoadOptions, ModelInfo, StepResult, StepOptions, AdapterSlice } from './runner.ts';
export { KvCache, windowPolicy } from './kvcache.ts';
export type { CachePolicy } from './kvcache.ts';
export type { ModelInputs } from '../tokenize/index.ts';
export { defaultModelPath } from './paths.ts';
