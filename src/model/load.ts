/**
 * Loading a step model: read its metadata, start the worker-thread ONNX Runtime
 * session, check the step signature, size the shared-memory channel and the KV
 * cache, and hand back the ModelRunner that talks to the worker.
 */
import { readFileSync } from 'node:fs';
import { Worker, MessageChannel } from 'node:worker_threads';
import { logger } from '../log.ts';
import { KvCache, windowPolicy } from './kvcache.ts';
import { readOnnxMetadata } from './metadata.ts';
import { CTL_BYTES, ERR_BYTES, layout, type IoMeta, type StepDims, type WorkerInit, type WorkerRequest, type WorkerResponse } from './protocol.ts';
import { ModelRunner, type AdapterSlice, type LoadOptions, type ModelInfo } from './runner.ts';

const log = logger('model');

/** KvCache storage the worker can read: SharedArrayBuffer-backed. */
const sharedAlloc = (floats: number) => new Float32Array(new SharedArrayBuffer(floats * 4));

function dimOf(meta: IoMeta | undefined, i: number): number | undefined {
  const d = meta?.shape[i];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/**
 * Load a step model (.onnx) into a worker-thread ONNX Runtime session.
 * Works for DIVER-S exports and external models with the same step signature
 * (see docs/models.md).
 */
export async function loadModel(path: string, opts: LoadOptions = {}): Promise<ModelRunner> {
  const device = opts.device ?? 'cpu';
  const intraOpThreads = opts.intraOpThreads ?? 1;
  const bytes = readFileSync(path);
  const rawMeta = readOnnxMetadata(bytes);
  let meta: Record<string, any> = {};
  if (rawMeta.neurox) {
    try {
      meta = JSON.parse(rawMeta.neurox);
    } catch {
      throw new Error(`${path}: metadata 'neurox' is not JSON`);
    }
  }
  const init: WorkerInit = { path, device, intraOpThreads, optimization: opts.optimization ?? 'basic', engine: opts.engine ?? 'auto' };
  const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
    workerData: { ...init, entry: new URL('./session-worker.ts', import.meta.url).href },
  });
  const ready = await new Promise<Extract<WorkerResponse, { type: 'ready' }>>((resolve, reject) => {
    const onMsg = (m: WorkerResponse) => {
      if (m.type === 'ready') {
        worker.off('message', onMsg);
        resolve(m);
      } else if (m.type === 'error') {
        worker.off('message', onMsg);
        void worker.terminate();
        reject(new Error(m.message));
      }
    };
    worker.on('message', onMsg);
    worker.once('error', reject);
  });
  const inp = (n: string) => ready.inputs.find((i) => i.name === n);
  for (const n of ['x', 'pos_code', 't', 'past_k', 'past_v']) {
    if (!inp(n)) {
      await worker.terminate();
      throw new Error(`${path}: not a step model, missing input '${n}' (inputs: ${ready.inputs.map((i) => i.name).join(', ')})`);
    }
  }
  for (const n of ['logits', 'embedding', 'present_k', 'present_v']) {
    if (!ready.outputs.find((o) => o.name === n)) {
      await worker.terminate();
      throw new Error(`${path}: not a step model, missing output '${n}'`);
    }
  }
  const pk = inp('past_k');
  const kv = {
    layers: dimOf(pk, 0) ?? meta.kv?.layers,
    heads: dimOf(pk, 1) ?? meta.kv?.heads,
    headDim: dimOf(pk, 3) ?? meta.kv?.headDim,
  };
  const featDim = dimOf(inp('x'), 2) ?? meta.features?.featDim;
  const posDim = dimOf(inp('pos_code'), 2) ?? meta.features?.posDim;
  const nLogits = dimOf(ready.outputs.find((o) => o.name === 'logits'), 1);
  const labels: string[] = opts.labels ?? meta.labels ?? Array.from({ length: nLogits ?? 0 }, (_, i) => `class${i}`);
  if (nLogits !== undefined && labels.length !== nLogits) {
    await worker.terminate();
    throw new Error(`${path}: ${labels.length} labels for ${nLogits} logits`);
  }
  const adapters: AdapterSlice[] = meta.adapters ?? [{ name: 'default', start: 0, end: labels.length }];
  const info: ModelInfo = {
    path,
    name: meta.name ?? path.split('/').pop() ?? 'model',
    kind: meta.kind ?? 'external',
    backend: ready.backend,
    engine: 'onnxruntime-node',
    deviceRequested: device,
    fallbackReason: ready.fallbackReason,
    intraOpThreads,
    optimization: init.optimization,
    quantized: !!meta.quantized,
    params: meta.params,
    hopMs: meta.hopMs ?? 80,
    featDim,
    posDim,
    kv,
    inputs: ready.inputs,
    outputs: ready.outputs,
    metadata: meta,
  };
  const budget = opts.cacheBudget ?? (Number.isInteger(meta.cacheFrames) && meta.cacheFrames > 0 ? (meta.cacheFrames as number) : 64);
  const policy = opts.cachePolicy ?? windowPolicy(budget);
  // shared-memory step channel: control words + a data buffer sized for 256 channels and the cache budget
  const nEmb = dimOf(ready.outputs.find((o) => o.name === 'embedding'), 1) ?? 4096;
  const dims: StepDims = { F: featDim, P: posDim, L: kv.layers, H: kv.heads, Dh: kv.headDim, nLogits: nLogits ?? labels.length, nEmb };
  const ctl = new SharedArrayBuffer(CTL_BYTES);
  const data = new SharedArrayBuffer((layout(dims, 256, budget).end + ERR_BYTES / 4) * 4);
  // The cache's storage is shared with the worker. Twice the budget: the
  // window slides through it and moves back to the start every ~budget·L·H steps.
  const cache = new KvCache(kv.layers, kv.heads, kv.headDim, { capacity: 2 * (budget + 1), alloc: sharedAlloc });
  const { port1, port2 } = new MessageChannel();
  await new Promise<void>((resolve, reject) => {
    const onMsg = (m: WorkerResponse) => {
      if (m.type === 'attached') {
        worker.off('message', onMsg);
        info.engine = m.engine;
        resolve();
      } else if (m.type === 'error') {
        worker.off('message', onMsg);
        reject(new Error(m.message));
      }
    };
    worker.on('message', onMsg);
    const k = cache.k.buffer as SharedArrayBuffer;
    const v = cache.v.buffer as SharedArrayBuffer;
    worker.postMessage({ type: 'attach', ctl, data, k, v, port: port2, dims } satisfies WorkerRequest, [port2]);
  });
  log.info({ path, name: info.name, backend: info.backend, engine: info.engine, device, threads: intraOpThreads, quantized: info.quantized }, 'model loaded');
  return new ModelRunner(worker, info, labels, adapters, policy, { ctl, data, port: port1, dims, cache }, opts.cachePolicy ? Infinity : budget);
}
