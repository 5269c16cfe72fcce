/**
 * DIVER-S configuration: one shape description shared by the TensorFlow.js
 * training graph (models/diver/tfmodel.ts), the ONNX step exporter
 * (models/diver/export.ts) and the runtime (src/model/).
 */
import { BANDS_HZ, PATCH_LEN, POS_DIM } from '../../src/tokenize/diver-features.ts';
import { SSVEP_FREQS, WORD_LIST } from '../../src/paradigm.ts';

export interface AdapterSpec {
  /** Paradigm name: 'mi' | 'p300' | 'ssvep' | 'speech' | 'idle' | anything. */
  name: string;
  /** Class labels in logit order, e.g. ['mi:left', 'mi:right', 'mi:rest']. */
  labels: string[];
}

export interface DiverConfig {
  name: string;
  /** Frame hop in ms (12.5 Hz frames at 80 ms, as Moshi). */
  hopMs: number;
  /** Per-channel feature vector: resampled patch (patchLen) + log band powers (nBands). */
  patchLen: number;
  nBands: number;
  /** Per-channel position code length (see src/tokenize/diver-features.ts positionCode). */
  posDim: number;
  /** Spatial block (attention across channels inside one frame). */
  dSpatial: number;
  spatialHeads: number;
  spatialLayers: number;
  /**
   * SiLU MLP after each spatial attention (teacher). The student leaves it out:
   * at 64 channels it was a fifth of the step's multiply-adds.
   */
  spatialMlp: boolean;
  /** Perceiver-style latent queries that pool the channels of one frame. */
  nLatents: number;
  /** Temporal causal transformer over frames. */
  dModel: number;
  heads: number;
  layers: number;
  mlpRatio: number;
  ropeBase: number;
  /** Vocabularies of the parallel streams; index 0 is the "absent" embedding. */
  speechVocab: number;
  textVocab: number;
  adapters: AdapterSpec[];
}

/**
 * Task adapters, one per paradigm; label strings follow the simulator's
 * marker vocabulary (src/paradigm.ts). Index 0 of each is the
 * no-task class (rest / silence / nontarget).
 */
export const DEFAULT_ADAPTERS: AdapterSpec[] = [
  { name: 'mi', labels: ['mi:rest', 'mi:left', 'mi:right'] },
  { name: 'p300', labels: ['p300:nontarget', 'p300:target'] },
  { name: 'ssvep', labels: ['ssvep:rest', ...SSVEP_FREQS.map((f) => `ssvep:${f}`)] },
  { name: 'speech', labels: ['speech:silence', ...WORD_LIST.map((w) => `speech:word/${w}`)] },
  { name: 'idle', labels: ['idle:idle', 'idle:active'] },
];

const common = {
  hopMs: 80,
  patchLen: PATCH_LEN,
  nBands: BANDS_HZ.length,
  posDim: POS_DIM,
  ropeBase: 10000,
  speechVocab: 65, // 64 FSQ codes + absent
  textVocab: 257, // bytes + absent
};

export function teacherConfig(adapters: AdapterSpec[] = DEFAULT_ADAPTERS): DiverConfig {
  return {
    ...common,
    name: 'diver-teacher',
    dSpatial: 64,
    spatialHeads: 4,
    spatialLayers: 2,
    spatialMlp: true,
    nLatents: 4,
    dModel: 128,
    heads: 4,
    layers: 4,
    mlpRatio: 2,
    adapters,
  };
}

export function studentConfig(adapters: AdapterSpec[] = DEFAULT_ADAPTERS): DiverConfig {
  return {
    ...common,
    name: 'diver-s',
    dSpatial: 32,
    spatialHeads: 2,
    spatialLayers: 1,
    spatialMlp: false,
    nLatents: 4,
    dModel: 64,
    heads: 4,
    layers: 1,
    mlpRatio: 2,
    adapters,
  };
}

export function featDim(cfg: DiverConfig): number {
  return cfg.patchLen + cfg.nBands;
}

export function nClasses(cfg: DiverConfig): number {
  return cfg.adapters.reduce((s, a) => s + a.labels.length, 0);
}

export function allLabels(cfg: DiverConfig): string[] {
  return cfg.adapters.flatMap((a) => a.labels);
}

/** [start, end) of each adapter's slice in the concatenated logits. */
export function adapterSlices(cfg: DiverConfig): { name: string; start: number; end: number }[] {
  let s = 0;
  return cfg.adapters.map((a) => {
    const r = { name: a.name, start: s, end: s + a.labels.length };
    s += a.labels.length;
    return r;
  });
}

/** Shapes of every weight tensor, by name. The single source of truth for init, export and counts. */
export function weightShapes(cfg: DiverConfig): Record<string, number[]> {
  const F = featDim(cfg);
  const Ds = cfg.dSpatial;
  const D = cfg.dModel;
  const Hs = cfg.spatialHeads;
  const H = cfg.heads;
  const Dh = D / H;
  const K = nClasses(cfg);
  const s: Record<string, number[]> = {
    // fixed input standardisation (training-data statistics, not optimised): x' = (x − mu)·isd
    'norm.mu': [F], 'norm.isd': [F],
    'in.w': [F, Ds],
    'in.b': [Ds],
    'pos.w': [cfg.posDim, Ds],
    'mask.tok': [Ds],
  };
  for (let l = 0; l < cfg.spatialLayers; l++) {
    const p = `sp${l}.`;
    Object.assign(s, {
      [p + 'ln1.g']: [Ds], [p + 'ln1.b']: [Ds],
      [p + 'qkv.w']: [Ds, 3 * Ds], [p + 'qkv.b']: [3 * Ds],
      [p + 'o.w']: [Ds, Ds], [p + 'o.b']: [Ds],
      [p + 'bias.dist']: [Hs], [p + 'bias.self']: [Hs],
    });
    if (cfg.spatialMlp !== false) {
      Object.assign(s, {
        [p + 'ln2.g']: [Ds], [p + 'ln2.b']: [Ds],
        [p + 'fc1.w']: [Ds, cfg.mlpRatio * Ds], [p + 'fc1.b']: [cfg.mlpRatio * Ds],
        [p + 'fc2.w']: [cfg.mlpRatio * Ds, Ds], [p + 'fc2.b']: [Ds],
      });
    }
  }
  Object.assign(s, {
    'pool.ln.g': [Ds], 'pool.ln.b': [Ds],
    'pool.q': [cfg.nLatents, Ds],
    'pool.kv.w': [Ds, 2 * Ds], 'pool.kv.b': [2 * Ds],
    'frame.w': [cfg.nLatents * Ds, D], 'frame.b': [D],
    // linear skip: mean over channels of pos_code ⊗ features, projected to the frame token
    'skip.mu': [cfg.posDim * F], 'skip.isd': [cfg.posDim * F],
    'skip.w': [cfg.posDim * F, D],
    'speech.emb': [cfg.speechVocab, D],
    'text.emb': [cfg.textVocab, D],
    'recon.w': [Ds, 2 * cfg.patchLen + cfg.nBands], 'recon.b': [2 * cfg.patchLen + cfg.nBands],
  });
  for (let l = 0; l < cfg.layers; l++) {
    const p = `tm${l}.`;
    Object.assign(s, {
      [p + 'ln1.g']: [D], [p + 'ln1.b']: [D],
      [p + 'qkv.w']: [D, 3 * D], [p + 'qkv.b']: [3 * D],
      [p + 'o.w']: [D, D], [p + 'o.b']: [D],
      [p + 'ln2.g']: [D], [p + 'ln2.b']: [D],
      [p + 'fc1.w']: [D, cfg.mlpRatio * D], [p + 'fc1.b']: [cfg.mlpRatio * D],
      [p + 'fc2.w']: [cfg.mlpRatio * D, D], [p + 'fc2.b']: [D],
    });
  }
  Object.assign(s, {
    'out.ln.g': [D], 'out.ln.b': [D],
    'head.w': [D, K], 'head.b': [K],
    'pred.q': [H, Dh], 'pred.knull': [H, Dh], 'pred.vnull': [H, Dh],
    'pred.w': [D, D], 'pred.b': [D],
  });
  return s;
}

/** Fixed buffers: set from training-data statistics before training, never optimised. */
export const FROZEN = new Set(['norm.mu', 'norm.isd', 'skip.mu', 'skip.isd']);

/** Weights used only in training (not exported to the streaming step). */
export const TRAIN_ONLY = new Set(['mask.tok', 'recon.w', 'recon.b']);

export function paramCount(cfg: DiverConfig, includeTrainOnly = false): number {
  let n = 0;
  for (const [k, sh] of Object.entries(weightShapes(cfg))) {
    if (!includeTrainOnly && TRAIN_ONLY.has(k)) continue;
    n += sh.reduce((a, b) => a * b, 1);
  }
  return n;
}

/**
 * Multiply-accumulates of one streaming step (one frame) at C channels with T
 * cached frames, counted per MatMul/attention product (×2 for FLOPs).
 * Elementwise ops, norms and softmax are left out (they are < 5 % here).
 */
export function stepMacs(cfg: DiverConfig, C: number, T: number): number {
  const F = featDim(cfg);
  const Ds = cfg.dSpatial;
  const D = cfg.dModel;
  const M = cfg.nLatents;
  const hid = cfg.mlpRatio;
  let m = C * (F * Ds + cfg.posDim * Ds);
  const spMlp = cfg.spatialMlp !== false ? 2 * hid * Ds * Ds : 0;
  m += cfg.spatialLayers * (C * (3 * Ds * Ds + Ds * Ds + spMlp) + 2 * C * C * Ds + C * C * 3);
  m += C * 2 * Ds * Ds + 2 * M * C * Ds + M * Ds * D;
  m += C * cfg.posDim * F + cfg.posDim * F * D; // skip
  m += cfg.layers * (3 * D * D + D * D + 2 * hid * D * D + 2 * (T + 1) * D);
  m += D * nClasses(cfg) + 2 * (T + 1) * D + D * D;
  return m;
}
