/** The tfjs backend for training: tfjs-node-gpu when installed, else wasm, else cpu (logged). */
import * as tf from '@tensorflow/tfjs';
import { logger } from '../../src/log.ts';

const log = logger('model-train');

let backendName = '';
/** Pick the fastest available tfjs backend: tensorflow (tfjs-node-gpu) → wasm → cpu. */
export async function initBackend(): Promise<string> {
  if (backendName) return backendName;
  try {
    const mod = '@tensorflow/tfjs-node-gpu';
    await import(mod);
    if (await tf.setBackend('tensorflow')) backendName = 'tensorflow (tfjs-node-gpu)';
  } catch {
    /* not installed */
  }
  if (!backendName) {
    await import('@tensorflow/tfjs-backend-wasm');
    if (await tf.setBackend('wasm')) backendName = 'wasm';
    else {
      await tf.setBackend('cpu');
      backendName = 'cpu';
    }
  }
  await tf.ready();
  log.info({ backend: backendName }, 'tfjs backend');
  return backendName;
}
