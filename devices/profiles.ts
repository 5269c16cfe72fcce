/**
 * Device profiles: montage, sampling rate, units and LSL stream identity of every
 * simulated device. Pure data (+ the `counterProfile` factory); the signal model in
 * `signal-model.ts` turns a profile into samples.
 */
import type { ChannelInfo } from '../src/types.ts';
import {
  EEGMMIDB_LABELS,
  SEEG_SHAFTS,
  ecogGridPositions,
  fibonacciCap,
  megHelmetPositions,
  seegContactPosition,
  tenTenPosition,
} from './geometry.ts';

import type { Paradigm } from '../src/paradigm.ts';

export { PARADIGMS, type Paradigm } from '../src/paradigm.ts';

export type DeviceKind = 'eeg' | 'seeg' | 'ecog' | 'meg' | 'audio' | 'markers' | 'synthetic';

/** Label of the optional loss-test channel (value = sample index mod 2^24). */
export const COUNTER_LABEL = 'COUNTER';
/** Counter wraps here so every value is exactly representable in float32. */
export const COUNTER_MODULUS = 1 << 24;

export interface DeviceProfile {
  name: string;
  kind: DeviceKind;
  description: string;
  /** Nominal sampling rate (Hz); 0 for the irregular marker stream. */
  srate: number;
  /** Signal channels (the COUNTER channel, when enabled, is appended by the generator). */
  channels: ChannelInfo[];
  /** LSL stream type. */
  streamType: string;
  format: 'float32' | 'string';
  /** Unit of the samples. */
  unit: string;
  /** Unit / frame of `ChannelInfo.pos`. */
  posUnit: 'unit-sphere' | 'mm' | 'm' | 'none';
  defaultParadigm: Paradigm;
  /** Append the COUNTER channel by default (the `counter` load-test profile). */
  counter?: boolean;
  /**
   * Ground-truth channel roles (labels): which channels carry which simulated effect.
   * Used by the generator to place local sources, and by tests / model evaluation.
   */
  roles?: {
    /** High-gamma (70–150 Hz) power rises during speech production. */
    speechHG?: string[];
    /** Hippocampal contacts with spontaneous ripples (80–250 Hz). */
    ripple?: string[];
    /** High-gamma rises during (right-hand) motor imagery. */
    motorHG?: string[];
    /** Sensorimotor mu/beta source sites (ECoG). */
    motor?: string[];
  };
}

// ---------------------------------------------------------------- EEG

function eegChannels(): ChannelInfo[] {
  return EEGMMIDB_LABELS.map((label) => ({ label, type: 'EEG', unit: 'uV', pos: tenTenPosition(label) }));
}

function eegProfile(srate: number): DeviceProfile {
  return {
    name: `eeg64-${srate}`,
    kind: 'eeg',
    description: `64-channel 10-10 EEG (EEGMMIDB montage) at ${srate} Hz, positions on the unit sphere`,
    srate,
    channels: eegChannels(),
    streamType: 'EEG',
    format: 'float32',
    unit: 'uV',
    posUnit: 'unit-sphere',
    defaultParadigm: 'mi',
  };
}

// ---------------------------------------------------------------- SEEG

const range = (prefix: string, a: number, b: number): string[] => {
  const out: string[] = [];
  for (let i = a; i <= b; i++) out.push(`${prefix}${i}`);
  return out;
};

function seegProfile(): DeviceProfile {
  const channels: ChannelInfo[] = [];
  for (const s of SEEG_SHAFTS) {
    for (let k = 1; k <= s.contacts; k++) {
      channels.push({ label: `${s.name}${k}`, type: 'SEEG', unit: 'uV', pos: seegContactPosition(s, k), shaft: s.name, contact: k });
    }
  }
  return {
    name: 'seeg',
    kind: 'seeg',
    description: `stereo-EEG, ${SEEG_SHAFTS.length} depth shafts (${channels.length} contacts, 3.5 mm pitch, contact 1 deepest) at 2048 Hz, MNI-like mm`,
    srate: 2048,
    channels,
    streamType: 'SEEG',
    format: 'float32',
    unit: 'uV',
    posUnit: 'mm',
    defaultParadigm: 'speech',
    roles: {
      // auditory cortex (Heschl's, lateral STG), posterior insula, inferior frontal gyrus, right STG
      speechHG: [...range('LT', 1, 4), ...range('LT', 9, 13), ...range('LPI', 1, 3), ...range('LAI', 8, 11), ...range('RT', 2, 4), ...range('RT', 10, 12)],
      ripple: [...range('LH', 1, 3), ...range('RH', 1, 3)],
    },
  };
}

// ---------------------------------------------------------------- ECoG

function ecogProfile(): DeviceProfile {
  const pos = ecogGridPositions(8, 8, 10);
  const channels: ChannelInfo[] = pos.map((p, i) => ({ label: `G${i + 1}`, type: 'ECOG', unit: 'uV', pos: p }));
  return {
    name: 'ecog64',
    kind: 'ecog',
    description: '8×8 subdural ECoG grid, 10 mm pitch, left sensorimotor/temporal convexity (G1 anterior-superior, row-major), 1000 Hz, mm',
    srate: 1000,
    channels,
    streamType: 'ECOG',
    format: 'float32',
    unit: 'uV',
    posUnit: 'mm',
    defaultParadigm: 'mi',
    roles: {
      motor: ['G12', 'G13', 'G20', 'G21'],
      motorHG: ['G12', 'G13', 'G20', 'G21'],
      speechHG: ['G36', 'G37', 'G44', 'G45', 'G46', 'G53', 'G54', 'G61', 'G62', 'G63'],
    },
  };
}

// ---------------------------------------------------------------- MEG

function megProfile(): DeviceProfile {
  const channels: ChannelInfo[] = megHelmetPositions(102).map((p, i) => ({
    label: `MAG${String(i + 1).padStart(3, '0')}`,
    type: 'MEG',
    unit: 'fT',
    pos: p,
  }));
  return {
    name: 'meg',
    kind: 'meg',
    description: '102 magnetometers on a helmet (golden-spiral layout, metres) at 1000 Hz, fT',
    srate: 1000,
    channels,
    streamType: 'MEG',
    format: 'float32',
    unit: 'fT',
    posUnit: 'm',
    defaultParadigm: 'mi',
  };
}

// ---------------------------------------------------------------- audio, markers, counter

function audioProfile(): DeviceProfile {
  return {
    name: 'audio16k',
    kind: 'audio',
    description: '16 kHz mono speech-like audio (formant-synthesised words during speech events), full scale ±1',
    srate: 16000,
    channels: [{ label: 'audio', type: 'AUDIO', unit: 'a.u.' }],
    streamType: 'Audio',
    format: 'float32',
    unit: 'a.u.',
    posUnit: 'none',
    defaultParadigm: 'speech',
  };
}

function markersProfile(): DeviceProfile {
  return {
    name: 'markers',
    kind: 'markers',
    description: 'irregular-rate string marker stream with the cue schedule of a paradigm',
    srate: 0,
    channels: [{ label: 'marker', type: 'Markers' }],
    streamType: 'Markers',
    format: 'string',
    unit: '',
    posUnit: 'none',
    defaultParadigm: 'mi',
  };
}

/**
 * Synthetic load-test profile: `channels` channels in total at `srate` Hz, the last one
 * being COUNTER (sample index mod 2^24); the others are EEG-like signals at
 * golden-spiral positions on the unit sphere (labels S001…).
 */
export function counterProfile(channels = 256, srate = 2048): DeviceProfile {
  if (!Number.isInteger(channels) || channels < 1) throw new Error(`counter profile: channels must be an integer ≥ 1 (got ${channels})`);
  if (!(srate > 0)) throw new Error(`counter profile: srate must be > 0 (got ${srate})`);
  const n = channels - 1;
  const pos = fibonacciCap(n, -0.3);
  return {
    name: 'counter',
    kind: 'synthetic',
    description: `synthetic load-test stream: ${n} EEG-like channels + COUNTER at ${srate} Hz`,
    srate,
    channels: pos.map((p, i) => ({ label: `S${String(i + 1).padStart(3, '0')}`, type: 'EEG', unit: 'uV', pos: p })),
    streamType: 'EEG',
    format: 'float32',
    unit: 'uV',
    posUnit: 'unit-sphere',
    defaultParadigm: 'mi',
    counter: true,
  };
}

export const PROFILES: Record<string, DeviceProfile> = {
  'eeg64-160': eegProfile(160),
  'eeg64-500': eegProfile(500),
  seeg: seegProfile(),
  ecog64: ecogProfile(),
  meg: megProfile(),
  audio16k: audioProfile(),
  markers: markersProfile(),
  counter: counterProfile(256, 2048),
};

/** Look a profile up by name; throws with the list of valid names. */
export function getProfile(name: string): DeviceProfile {
  const p = Object.prototype.hasOwnProperty.call(PROFILES, name) ? PROFILES[name] : undefined;
  if (!p) {
    throw new Error(`unknown device profile '${name}'; valid profiles: ${Object.keys(PROFILES).join(', ')}`);
  }
  return p;
}

/** Index of a channel label in a profile (throws if absent). */
export function channelIndex(profile: DeviceProfile, label: string): number {
  const i = profile.channels.findIndex((c) => c.label === label);
  if (i < 0) throw new Error(`profile '${profile.name}' has no channel '${label}'`);
  return i;
}
