/**
 * Contact names as clinical systems write them: one normalisation shared by the
 * montages (shaft / strip detection), the bad-channel detector and the electrode
 * table readers, so `POL L'1`, `SEEG l’1`, `L' 1` and `L'1-Ref` are the same contact.
 * Rules (docs/dsp.md, "Contact names"):
 *
 * - Unicode NFKC; the primes ’ ‘ ´ ` ′ become `'` (left-hemisphere shafts: `L'1`).
 * - One leading system prefix is dropped: `SEEG `, `EEG `, `ECOG `, `IEEG `, `POL ` (any case,
 *   followed by a space or `:`); one trailing reference suffix: `-REF`, `-AVG`, `-CAR`.
 * - The key is the rest, upper-cased, without spaces, dots, underscores and hyphens.
 * - Contact = the trailing number of the key; shaft = everything before it (must hold a
 *   letter). `LA01`, `la 1`, `LA-1` and `LA.1` are shaft `LA`, contact 1.
 * - Non-neural: a channel whose type is ECG/EKG/EMG/EOG/MISC/TRIG/STIM/… , or whose key is
 *   one of EKG ECG EMG EOG (H/V)EOG TRIG(GER) DC STATUS STI(M) PHOTIC EVENT RESP SPO2 SAO2
 *   PLETH PULSE MARKER, optionally followed by L/R, a number, or `+`/`-`… (EKG1, EKGL, DC01,
 *   ECG+, TRIG), or an `EDF Annotations` / `BDF Annotations` signal.
 */
import type { ChannelInfo } from '../types.ts';

/** Channel types that never carry brain signal. */
export const NON_NEURAL_TYPES: ReadonlySet<string> = new Set([
  'MISC', 'ECG', 'EKG', 'EMG', 'EOG', 'TRIG', 'STIM', 'COUNTER', 'AUDIO', 'RESP', 'BANDPOWER', 'MARKERS', 'DC', 'STATUS', 'BIO', 'SYST', 'EXCI', 'GSR', 'TEMP',
]);

const PRIMES = /[\u2019\u2018\u00b4\u0060\u2032]/g;
const PREFIX = /^(?:SEEG|EEG|ECOG|IEEG|POL)(?:\s+|\s*:\s*)(?=\S)/i;
const REF_SUFFIX = /[\s_-]*(?:REF|AVG|CAR)$/i;
const NON_NEURAL_NAME = /^(?:EKG|ECG|EMG|EOG|HEOG|VEOG|TRIG(?:GER)?|DC|STATUS|STIM?|PHOTIC|EVENT|RESP|SPO2|SAO2|PLETH|PULSE|MARKER|EDFANNOTATIONS|BDFANNOTATIONS)(?:[LR]|\d+|[+-].*)?$/;

/** A label with the system prefix and reference suffix removed, primes unified, original case kept. */
export function cleanLabel(label: string): string {
  let s = label.normalize('NFKC').replace(PRIMES, "'").trim().replace(/\s+/g, ' ');
  const p = s.replace(PREFIX, '');
  if (p) s = p;
  const r = s.replace(REF_SUFFIX, '');
  if (r && r !== s && /\d/.test(r)) s = r;
  return s.replace(/[.\s]+$/, '');
}

/** The key two labels are matched on (see the module comment). */
export function labelKey(label: string): string {
  return cleanLabel(label).toUpperCase().replace(/[\s._-]+/g, '');
}

/** Shaft key as the montages group on it (upper case, primes unified, no separators). */
export function shaftKey(shaft: string): string {
  return shaft.normalize('NFKC').replace(PRIMES, "'").toUpperCase().replace(/[\s._-]+/g, '');
}

/** Split a label like `LA12`, `B'3`, `POL LA 4` or `LA-04` into shaft key and contact number. */
export function parseContactLabel(label: string): { shaft: string; contact: number } | null {
  const m = /^(.*?)(\d+)$/.exec(labelKey(label));
  if (!m || !/\p{L}/u.test(m[1]!)) return null;
  return { shaft: m[1]!, contact: Number(m[2]) };
}

/** Why a channel is not neural ('type' or 'name'), or undefined when it may be. */
export function nonNeuralReason(ch: Pick<ChannelInfo, 'label' | 'type'>): 'type' | 'name' | undefined {
  if (ch.type && NON_NEURAL_TYPES.has(ch.type.toUpperCase())) return 'type';
  if (NON_NEURAL_NAME.test(labelKey(ch.label).replace(/'/g, ''))) return 'name';
  return undefined;
}

/** True when the channel is physiological non-brain, a trigger, DC input or annotation signal. */
export function isNonNeural(ch: Pick<ChannelInfo, 'label' | 'type'>): boolean {
  return nonNeuralReason(ch) !== undefined;
}
