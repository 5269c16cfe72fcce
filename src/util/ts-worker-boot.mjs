// Worker entry that registers the tsx loader, then imports the TypeScript module
// named in workerData.__tsEntry (Node 20 workers do not apply --import hooks to
// their entry module).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__tsEntry);
