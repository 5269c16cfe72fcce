/**
 * The decoder options every command that decodes shares (`run`, `replay`,
 * `evaluate`): one parser, one way to get a FrameDecoder from `--decoder`,
 * `--model`, `--paradigm`, `--device` and `--profile`.
 */
import type { FrameDecoder } from '../decode/frame-decoder.ts';
import { DECODERS, loadProfile, modelDecoder, type DecoderName } from '../decode/profile.ts';
import { defaultModelPath } from '../model/paths.ts';
import { UsageError } from './args.ts';

export const DECODER_OPTIONS = {
  decoder: { type: 'string' },
  model: { type: 'string' },
  paradigm: { type: 'string' },
  device: { type: 'string' },
  profile: { type: 'string' },
} as const;

export const DECODER_HELP = `  --decoder NAME         ${DECODERS.join(' | ')} (default baseline: band power + shrinkage LDA; diver-s: the ONNX model)
  --model FILE           ONNX step model for --decoder diver-s (default models/diver-s.int8.onnx)
  --paradigm P           model task adapter: mi (default), ssvep, p300, speech
  --device cpu|gpu       ONNX Runtime device for the model (gpu falls back to cpu with a log line)
  --profile FILE         a saved decoder profile (baseline or model; made by --save-profile or next to a recording)
`;

export interface DecoderValues {
  decoder?: string;
  model?: string;
  paradigm?: string;
  device?: string;
  profile?: string;
}

export interface DecoderChoice {
  name: DecoderName;
  device: 'cpu' | 'gpu' | undefined;
}

/** Check the decoder options (before anything is loaded). */
export function decoderChoice(cmd: string, v: DecoderValues): DecoderChoice {
  const name = (v.decoder ?? 'baseline') as DecoderName;
  if (!DECODERS.includes(name)) throw new UsageError(`neurox ${cmd}: --decoder: expected ${DECODERS.join(' or ')}, got "${String(v.decoder).slice(0, 40)}"`);
  if (v.device !== undefined && v.device !== 'cpu' && v.device !== 'gpu') throw new UsageError(`neurox ${cmd}: --device: expected cpu or gpu, got "${v.device.slice(0, 40)}"`);
  if (name !== 'diver-s' && v.model !== undefined && !v.profile) throw new UsageError(`neurox ${cmd}: --model needs --decoder diver-s`);
  return { name, device: v.device as 'cpu' | 'gpu' | undefined };
}

/**
 * The decoder the options name: a profile when given, the model for diver-s;
 * undefined for a baseline without a profile (the caller calibrates it).
 */
export async function loadDecoder(cmd: string, v: DecoderValues): Promise<FrameDecoder | undefined> {
  const c = decoderChoice(cmd, v);
  if (v.profile) return loadProfile(v.profile, { device: c.device });
  if (c.name === 'diver-s') return modelDecoder(v.model ?? defaultModelPath() ?? 'models/diver-s.int8.onnx', v.paradigm ?? 'mi', c.device ?? 'cpu');
  return undefined;
}
