import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shipped quantised DIVER-S step model, if present (null → use the baseline decoder). */
export function defaultModelPath(): string | null {
  const p = fileURLToPath(new URL('../../models/diver-s.int8.onnx', import.meta.url));
  return existsSync(p) ? p : null;
}
