/**
 * ONNX Runtime session in a worker thread (session.run is synchronous on its
 * thread). Receives one step at a time; K/V buffers travel as transferables.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { logger } from '../log.ts';
import type { WorkerRequest, WorkerResponse, WorkerInit } from './protocol.ts';

const log = logger('model-worker');
const init = workerData as WorkerInit & { entry: string };
let session: ort.InferenceSession | null = null;

async function open(): Promise<WorkerResponse> {
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: init.optimization,
    // Fold DequantizeLinear of constant int8 weights into float32 weights at load:
    // the int8 file then runs as fast as float and equals its dequantised twin.
    extra: { session: { disable_quant_qdq: init.optimization === 'basic' ? '1' : '0' } },
  } as ort.InferenceSession.SessionOptions;
  let backend = 'cpu';
  let fallbackReason: string | undefined;
  if (init.device === 'gpu') {
    try {
      session = await ort.InferenceSession.create(init.path, { ...base, executionProviders: ['cuda', 'cpu'] });
      backend = 'cuda';
    } catch (e) {
      fallbackReason = `CUDA execution provider unavailable (${(e as Error).message.split('\n')[0]}); running on CPU`;
      log.warn({ reason: fallbackReason }, 'gpu requested, falling back to CPU');
    }
  }
  if (!session) session = await ort.InferenceSession.create(init.path, { ...base, executionProviders: ['cpu'] });
  const meta = (m: readonly ort.InferenceSession.ValueMetadata[]) =>
    m.map((v) => ({ name: v.name, shape: v.isTensor ? [...v.shape] : [], type: v.isTensor ? v.type : 'other' }));
  return {
    type: 'ready',
    backend,
    fallbackReason,
    inputs: meta(session.inputMetadata),
    outputs: meta(session.outputMetadata),
  };
}

async function step(req: Extract<WorkerRequest, { type: 'step' }>): Promise<WorkerResponse> {
  if (!session) throw new Error('session not open');
  const { C, F, P, L, H, Dh, T } = req.dims;
  const feeds: Record<string, ort.Tensor> = {
    x: new ort.Tensor('float32', req.x, [1, C, F]),
    pos_code: new ort.Tensor('float32', req.pos, [1, C, P]),
    t: new ort.Tensor('int64', BigInt64Array.from([BigInt(req.t)]), [1]),
    past_k: new ort.Tensor('float32', req.pastK, [L, H, T, Dh]),
    past_v: new ort.Tensor('float32', req.pastV, [L, H, T, Dh]),
  };
  if (session.inputNames.includes('speech')) feeds.speech = new ort.Tensor('int64', BigInt64Array.from([BigInt(req.speech)]), [1]);
  if (session.inputNames.includes('text')) feeds.text = new ort.Tensor('int64', BigInt64Array.from([BigInt(req.text)]), [1]);
  const t0 = performance.now();
  const r = await session.run(feeds);
  const runMs = performance.now() - t0;
  const f32 = (name: string): Float32Array => {
    const v = r[name];
    if (!v) throw new Error(`model has no output '${name}'`);
    return v.data as Float32Array;
  };
  return {
    type: 'result',
    id: req.id,
    logits: f32('logits'),
    embedding: f32('embedding'),
    surprise: r.surprise ? f32('surprise')[0] : NaN,
    presentK: f32('present_k'),
    presentV: f32('present_v'),
    runMs,
  };
}

parentPort!.on('message', async (req: WorkerRequest) => {
  try {
    if (req.type === 'step') {
      const res = await step(req);
      if (res.type === 'result') {
        parentPort!.postMessage(res, [res.logits.buffer, res.embedding.buffer, res.presentK.buffer, res.presentV.buffer].filter(
          (b, i, a) => a.indexOf(b) === i,
        ) as ArrayBuffer[]);
      }
    } else if (req.type === 'close') {
      await session?.release();
      session = null;
      parentPort!.postMessage({ type: 'closed' } satisfies WorkerResponse);
    }
  } catch (e) {
    parentPort!.postMessage({ type: 'error', id: (req as { id?: number }).id, message: (e as Error).message } satisfies WorkerResponse);
  }
});

open().then(
  (r) => parentPort!.postMessage(r),
  (e) => parentPort!.postMessage({ type: 'error', message: `cannot open ${init.path}: ${(e as Error).message}` } satisfies WorkerResponse),
);
