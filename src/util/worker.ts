import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker thread that runs a TypeScript module. A small .mjs entry registers
 * the tsx loader first, so this works however the parent was started.
 */
export function spawnTsWorker(url: URL, opts: WorkerOptions = {}): Worker {
  const boot = new URL('./ts-worker-boot.mjs', import.meta.url);
  const data = { ...(opts.workerData as object), __tsEntry: url.href };
  return new Worker(boot, { ...opts, workerData: data });
}
