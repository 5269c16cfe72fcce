/**
 * Decoder profiles: what a session saves once its decoder is ready and what
 * `--profile` loads, for every decoder. A baseline profile holds the fitted LDA;
 * a model profile names the ONNX file with its SHA-256 (a changed file is refused,
 * not silently used), the paradigm whose adapter head decodes, the device and the
 * labels.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BaselineDecoder, type BaselineOptions } from './baseline.ts';
import { BaselineFrameDecoder, ModelFrameDecoder, type FrameDecoder } from './frame-decoder.ts';
import { ModelDecoder } from './model-decoder.ts';
import type { CalibrationOptions } from './calibration.ts';

export interface ModelProfile {
  kind: 'neurox-model-profile';
  version: 1;
  /** The ONNX step model, as given when the profile was made. */
  model: string;
  sha256: string;
  paradigm: string;
  /** Which head decodes: the task adapter shipped inside the model. */
  head: 'model-adapter';
  device: 'cpu' | 'gpu';
  labels: string[];
  createdAt: string;
}

/** The decoders `--decoder` names. */
export const DECODERS = ['baseline', 'diver-s'] as const;
export type DecoderName = (typeof DECODERS)[number];

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Load an ONNX step model as a decoder, with the profile fields it will save. */
export async function modelDecoder(path: string, paradigm: string, device: 'cpu' | 'gpu' = 'cpu'): Promise<ModelFrameDecoder> {
  const sha256 = sha256File(path);
  const m = await ModelDecoder.load(path, paradigm, { device });
  const fields: Omit<ModelProfile, 'paradigm' | 'labels'> = { kind: 'neurox-model-profile', version: 1, model: path, sha256, head: 'model-adapter', device, createdAt: new Date().toISOString() };
  return new ModelFrameDecoder(m, fields);
}

/** Load any saved profile (baseline or model) as a decoder; errors name the file and the problem. */
export async function loadProfile(path: string, opts: { baseline?: BaselineOptions; calibration?: CalibrationOptions; device?: 'cpu' | 'gpu' } = {}): Promise<FrameDecoder> {
  let p: { kind?: unknown };
  try {
    p = JSON.parse(readFileSync(path, 'utf8')) as { kind?: unknown };
  } catch (e) {
    throw new Error(`cannot read decoder profile ${path}: ${(e as Error).message}`);
  }
  if (p.kind === 'neurox-baseline-profile') return new BaselineFrameDecoder(BaselineDecoder.load(path, opts.baseline), opts.calibration);
  if (p.kind === 'neurox-model-profile') {
    const m = p as ModelProfile;
    if (m.version !== 1 || typeof m.model !== 'string' || typeof m.paradigm !== 'string' || typeof m.sha256 !== 'string') throw new Error(`${path}: not a valid neurox model profile (v1)`);
    let sha: string;
    try {
      sha = sha256File(m.model);
    } catch (e) {
      throw new Error(`${path}: its model ${m.model} cannot be read: ${(e as Error).message}`);
    }
    if (sha !== m.sha256) throw new Error(`${path}: model ${m.model} has changed since the profile was saved (sha256 ${sha.slice(0, 12)}…, profile says ${m.sha256.slice(0, 12)}…)`);
    return modelDecoder(m.model, m.paradigm, opts.device ?? m.device);
  }
  throw new Error(`${path} is not a neurox decoder profile (kind ${typeof p.kind === 'string' ? `"${p.kind.slice(0, 40)}"` : 'missing'})`);
}
