// Worker entry: Node does not run .ts in workers by itself, so register tsx's
// ESM loader in this thread, then import the TypeScript session worker.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
