/**
 * One entry point for the classical decoders: build one by name (`--decoder`), or
 * restore one from its JSON profile.
 */
import { CcaDecoder, type CcaOptions } from './cca.ts';
import { checkProfile, type ClassicalDecoder, type ClassicalKind } from './classical.ts';
import { CspDecoder } from './csp.ts';
import { MdmDecoder } from './mdm.ts';
import { TangentSpaceDecoder } from './tangent-space.ts';
import { TrcaDecoder } from './trca.ts';
import { XdawnDecoder } from './xdawn.ts';

/** Options accepted by `createClassical` (each decoder reads the ones it knows). */
export type ClassicalOptions = Record<string, unknown> & Partial<CcaOptions>;

/** A new, unfitted decoder. `cca` / `fbcca` need `freqs`. */
export function createClassical(kind: ClassicalKind, opts: ClassicalOptions = {}): ClassicalDecoder {
  switch (kind) {
    case 'csp':
    case 'fbcsp':
      return new CspDecoder(kind, opts);
    case 'ts-lr':
      return new TangentSpaceDecoder(opts);
    case 'mdm':
      return new MdmDecoder(opts);
    case 'xdawn-lda':
    case 'xdawn-ts':
      return new XdawnDecoder(kind, opts);
    case 'cca':
    case 'fbcca':
      if (!opts.freqs) throw new Error(`${kind} needs the stimulus frequencies (freqs)`);
      return new CcaDecoder(kind, opts as CcaOptions);
    case 'trca':
      return new TrcaDecoder(opts);
    default:
      throw new Error(`unknown classical decoder '${String(kind)}'`);
  }
}

/** Restore a fitted decoder from `toProfile()` output (parsed JSON). */
export function classicalFromProfile(p: unknown): ClassicalDecoder {
  const q = checkProfile(p);
  switch (q.decoder) {
    case 'csp':
    case 'fbcsp':
      return CspDecoder.fromProfile(q);
    case 'ts-lr':
      return TangentSpaceDecoder.fromProfile(q);
    case 'mdm':
      return MdmDecoder.fromProfile(q);
    case 'xdawn-lda':
    case 'xdawn-ts':
      return XdawnDecoder.fromProfile(q);
    case 'cca':
    case 'fbcca':
      return CcaDecoder.fromProfile(q);
    case 'trca':
      return TrcaDecoder.fromProfile(q);
  }
}
