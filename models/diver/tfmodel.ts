/**
 * DIVER-S / teacher forward pass in TensorFlow.js.
 *
 * One function serves training (full sequences, B×T frames, optional masked
 * channels and reconstruction output) and exactness checks (a step is the
 * same call with T = 1 and past K/V). The math is mirrored node-for-node by
 * the ONNX exporter in models/diver/export.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { type DiverConfig, featDim, nClasses, weightShapes } from './config.ts';
import { gaussian as boxMuller, mulberry32 } from '../../src/util/random.ts';

export type WeightArrays = Record<string, Float32Array>;
export type WeightTensors = Record<string, tf.Tensor>;

export const LN_EPS = 1e-5;

/** A tensor's shape as plain numbers. */
export const S = (t: tf.Tensor): number[] => t.shape as number[];

/** Seeded PRNG for init and data order: the project's mulberry32 (same sequence). */
export const rng = mulberry32;

/** Normal draws for the initial weights: the project's Box–Muller, cosine-only sequence (the shipped weights' one). */
export const gaussian = (r: () => number): (() => number) => boxMuller(r, false);

/** Seeded initial weights (plain arrays, so the same numbers reach tfjs and ONNX). */
export function initWeights(cfg: DiverConfig, seed: number): WeightArrays {
  const g = gaussian(rng(seed));
  const out: WeightArrays = {};
  for (const [name, shape] of Object.entries(weightShapes(cfg))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const leaf = name.split('.').pop()!;
    if (name.endsWith('.g') || leaf === 'isd') a.fill(1);
    else if (leaf === 'mu') a.fill(0);
    else if (name.endsWith('bias.dist')) a.fill(-0.5);
    else if (name.endsWith('bias.self')) a.fill(0.5);
    else if (name.endsWith('.emb')) for (let i = 0; i < n; i++) a[i] = 0.02 * g();
    else if (leaf === 'w') {
      const std = 1 / Math.sqrt(shape[0]);
      for (let i = 0; i < n; i++) a[i] = std * g();
    } else if (leaf === 'b') a.fill(0);
    else for (let i = 0; i < n; i++) a[i] = 0.5 * g(); // queries, mask token, null k/v
    out[name] = a;
  }
  return out;
}

let varGeneration = 0;

export function toTensors(cfg: DiverConfig, w: WeightArrays, trainable = false): WeightTensors {
  const shapes = weightShapes(cfg);
  const out: WeightTensors = {};
  const gen = trainable ? varGeneration++ : 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const a = w[name];
    if (!a) throw new Error(`missing weight ${name}`);
    const t = tf.tensor(a, shape, 'float32');
    out[name] = trainable ? tf.variable(t, true, `${cfg.name}#${gen}/${name}`) : t;
    if (trainable) t.dispose();
  }
  return out;
}

export async function toArrays(w: WeightTensors): Promise<WeightArrays> {
  const out: WeightArrays = {};
  for (const [k, t] of Object.entries(w)) out[k] = (await t.data()) as Float32Array;
  return out;
}

export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(LN_EPS))).mul(g).add(b);
}

export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shp = S(x);
  const y = tf.matMul(x.reshape([-1, shp[shp.length - 1]]), w as tf.Tensor2D);
  const out = b ? y.add(b) : y;
  return out.reshape([...shp.slice(0, -1), S(w)[1]]);
}

function silu(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.sigmoid(x));
}

/** RoPE angles [T, Dh/2] for absolute positions t0..t0+T-1. */
export function ropeAngles(cfg: DiverConfig, t0: number, T: number): tf.Tensor2D {
  const Dh = cfg.dModel / cfg.heads;
  const half = Dh / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.pow(cfg.ropeBase, (-2 * i) / Dh);
  const pos = new Float32Array(T);
  for (let i = 0; i < T; i++) pos[i] = t0 + i;
  return tf.mul(tf.tensor2d(pos, [T, 1]), tf.tensor2d(inv, [1, half]));
}

/** Rotate the last axis (split halves) of x [..., T, Dh] by angles [T, Dh/2]. */
export function rope(x: tf.Tensor, ang: tf.Tensor2D): tf.Tensor {
  const Dh = S(x)[S(x).length - 1];
  const half = Dh / 2;
  const cos = tf.cos(ang);
  const sin = tf.sin(ang);
  const [x1, x2] = tf.split(x, [half, half], -1);
  return tf.concat([x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))], -1);
}

export interface ForwardIn {
  /** [B, T, C, F] frame features. */
  x: tf.Tensor;
  /** [B, C, P] position codes (same channels in every frame of a sequence). */
  pos: tf.Tensor;
  /** Absolute position of the first frame. */
  t0?: number;
  /** [L, B, H, Tp, Dh] cached keys/values (RoPE already applied to keys). */
  pastK?: tf.Tensor;
  pastV?: tf.Tensor;
  /** [B, T] int32 speech code / text token ids, 0 = absent. */
  speech?: tf.Tensor;
  text?: tf.Tensor;
  /** [B, T, C] 1 where a channel's patch is masked (pretraining). */
  chanMask?: tf.Tensor;
  /** Also return per-channel reconstructions [B, T, C, 2·patch + bands]. */
  wantRecon?: boolean;
}

export interface ForwardOut {
  /** [B, T, D] pooled frame token (the next-frame prediction target). */
  z: tf.Tensor;
  /** [B, T, D] final normalised hidden state (the embedding output). */
  emb: tf.Tensor;
  /** [B, T, K] concatenated adapter logits. */
  logits: tf.Tensor;
  /** [B, T, D] prediction of z from strictly earlier frames. */
  pred: tf.Tensor;
  /** [B, T] mean squared error of pred vs z. */
  surprise: tf.Tensor;
  presentK: tf.Tensor;
  presentV: tf.Tensor;
  recon?: tf.Tensor;
}

function spatialPairBias(cfg: DiverConfig, pos: tf.Tensor): { d2: tf.Tensor; eye: tf.Tensor } {
  // pos [N, C, P] → coordinates [N, C, 3] → squared distances [N, 1, C, C]
  const N = S(pos)[0];
  const C = S(pos)[1];
  const p = pos.slice([0, 0, 0], [N, C, 3]);
  const sq = p.square().sum(-1); // [N, C]
  const dot = tf.matMul(p, p, false, true); // [N, C, C]
  const d2 = sq.expandDims(2).add(sq.expandDims(1)).sub(dot.mul(2)).expandDims(1);
  return { d2, eye: tf.eye(C) };
}

/** Frame encoder: features [N, C, F] + positions [N, C, P] → frame tokens z [N, D], channel tokens [N, C, Ds]. */
export function encodeFrames(
  cfg: DiverConfig,
  W: WeightTensors,
  x: tf.Tensor,
  pos: tf.Tensor,
  chanMask?: tf.Tensor,
): { z: tf.Tensor; chan: tf.Tensor } {
  const N = S(x)[0];
  const C = S(x)[1];
  const Ds = cfg.dSpatial;
  const Hs = cfg.spatialHeads;
  const dh = Ds / Hs;
  x = x.sub(W['norm.mu']).mul(W['norm.isd']);
  let xe = linear(x, W['in.w'], W['in.b']);
  if (chanMask) {
    const m = chanMask.reshape([N, C, 1]);
    xe = xe.mul(tf.sub(1, m)).add(m.mul(W['mask.tok']));
  }
  let h = xe.add(linear(pos, W['pos.w']));
  const { d2, eye } = spatialPairBias(cfg, pos);
  const scale = 1 / Math.sqrt(dh);
  for (let l = 0; l < cfg.spatialLayers; l++) {
    const p = `sp${l}.`;
    const a = layerNorm(h, W[p + 'ln1.g'], W[p + 'ln1.b']);
    const qkv = linear(a, W[p + 'qkv.w'], W[p + 'qkv.b']);
    const [q, k, v] = tf.split(qkv, 3, -1).map((t) => t.reshape([N, C, Hs, dh]).transpose([0, 2, 1, 3]));
    let s = tf.matMul(q, k, false, true).mul(scale);
    s = s.add(d2.mul(W[p + 'bias.dist'].reshape([1, Hs, 1, 1])));
    s = s.add(eye.reshape([1, 1, C, C]).mul(W[p + 'bias.self'].reshape([1, Hs, 1, 1])));
    const att = tf.softmax(s, -1);
    const o = tf.matMul(att, v).transpose([0, 2, 1, 3]).reshape([N, C, Ds]);
    h = h.add(linear(o, W[p + 'o.w'], W[p + 'o.b']));
    if (cfg.spatialMlp !== false) {
      const b = layerNorm(h, W[p + 'ln2.g'], W[p + 'ln2.b']);
      h = h.add(linear(silu(linear(b, W[p + 'fc1.w'], W[p + 'fc1.b'])), W[p + 'fc2.w'], W[p + 'fc2.b']));
    }
  }
  // Perceiver-style pooling into nLatents tokens
  const M = cfg.nLatents;
  const a = layerNorm(h, W['pool.ln.g'], W['pool.ln.b']);
  const kv = linear(a, W['pool.kv.w'], W['pool.kv.b']);
  const [k, v] = tf.split(kv, 2, -1).map((t) => t.reshape([N, C, Hs, dh]).transpose([0, 2, 1, 3]));
  const q = W['pool.q'].reshape([M, Hs, dh]).transpose([1, 0, 2]).expandDims(0); // [1, Hs, M, dh]
  const s = tf.matMul(q.tile([N, 1, 1, 1]), k, false, true).mul(scale); // [N, Hs, M, C]
  const att = tf.softmax(s, -1);
  const lat = tf.matMul(att, v).transpose([0, 2, 1, 3]).reshape([N, M * Ds]);
  // linear skip (permutation invariant, position aware): mean_c pos_c ⊗ x_c → D.
  // Gives the heads a direct linear view of every channel's band powers and
  // patch, weighted by smooth functions of electrode position.
  const F = S(x)[2];
  const P = S(pos)[2];
  const xs = chanMask ? x.mul(tf.sub(1, chanMask.reshape([N, C, 1]))) : x;
  const outer = tf.matMul(pos, xs, true, false).div(C).reshape([N, P * F]).sub(W['skip.mu']).mul(W['skip.isd']);
  const z = linear(lat, W['frame.w'], W['frame.b']).add(tf.matMul(outer, W['skip.w'] as tf.Tensor2D));
  return { z, chan: h };
}

function embedIds(ids: tf.Tensor | undefined, table: tf.Tensor, B: number, T: number): tf.Tensor {
  const vocab = S(table)[0];
  if (!ids) return table.slice([0, 0], [1, S(table)[1]]).reshape([1, 1, S(table)[1]]); // absent
  const oh = tf.oneHot(ids.reshape([-1]).toInt(), vocab).toFloat(); // gather without a Gather gradient (wasm lacks it)
  return tf.matMul(oh, table as tf.Tensor2D).reshape([B, T, S(table)[1]]);
}

export function forward(cfg: DiverConfig, W: WeightTensors, inp: ForwardIn): ForwardOut {
  const [B, T, C, F] = S(inp.x);
  if (F !== featDim(cfg)) throw new Error(`feature dim ${F} != ${featDim(cfg)}`);
  const D = cfg.dModel;
  const H = cfg.heads;
  const Dh = D / H;
  const L = cfg.layers;
  const t0 = inp.t0 ?? 0;
  const Tp = inp.pastK ? S(inp.pastK)[3] : 0;
  const N = B * T;
  const xf = inp.x.reshape([N, C, F]);
  const posN = inp.pos.expandDims(1).tile([1, T, 1, 1]).reshape([N, C, cfg.posDim]);
  const mask = inp.chanMask ? inp.chanMask.reshape([N, C]) : undefined;
  const { z: zN, chan } = encodeFrames(cfg, W, xf, posN, mask);
  const z = zN.reshape([B, T, D]);
  let u = z.add(embedIds(inp.speech, W['speech.emb'], B, T)).add(embedIds(inp.text, W['text.emb'], B, T));
  const ang = ropeAngles(cfg, t0, T);
  // causal mask: query i (absolute Tp+i) sees keys j <= Tp+i
  const Tk = Tp + T;
  const maskData = new Float32Array(T * Tk);
  const predMaskData = new Float32Array(T * (1 + Tk));
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < Tk; j++) {
      maskData[i * Tk + j] = j <= Tp + i ? 0 : -1e9;
      predMaskData[i * (1 + Tk) + 1 + j] = j < Tp + i ? 0 : -1e9;
    }
  }
  const causal = tf.tensor2d(maskData, [T, Tk]);
  const scale = 1 / Math.sqrt(Dh);
  const presK: tf.Tensor[] = [];
  const presV: tf.Tensor[] = [];
  for (let l = 0; l < L; l++) {
    const p = `tm${l}.`;
    const a = layerNorm(u, W[p + 'ln1.g'], W[p + 'ln1.b']);
    const qkv = linear(a, W[p + 'qkv.w'], W[p + 'qkv.b']);
    let [q, k, v] = tf.split(qkv, 3, -1).map((t) => t.reshape([B, T, H, Dh]).transpose([0, 2, 1, 3]));
    q = rope(q, ang);
    k = rope(k, ang);
    let K = k;
    let V = v;
    if (inp.pastK && inp.pastV && Tp > 0) {
      const pk = inp.pastK.slice([l, 0, 0, 0, 0], [1, B, H, Tp, Dh]).reshape([B, H, Tp, Dh]);
      const pv = inp.pastV.slice([l, 0, 0, 0, 0], [1, B, H, Tp, Dh]).reshape([B, H, Tp, Dh]);
      K = tf.concat([pk, k], 2);
      V = tf.concat([pv, v], 2);
    }
    presK.push(K);
    presV.push(V);
    const s = tf.matMul(q, K, false, true).mul(scale).add(causal);
    const o = tf.matMul(tf.softmax(s, -1), V).transpose([0, 2, 1, 3]).reshape([B, T, D]);
    u = u.add(linear(o, W[p + 'o.w'], W[p + 'o.b']));
    const b = layerNorm(u, W[p + 'ln2.g'], W[p + 'ln2.b']);
    u = u.add(linear(silu(linear(b, W[p + 'fc1.w'], W[p + 'fc1.b'])), W[p + 'fc2.w'], W[p + 'fc2.b']));
  }
  const emb = layerNorm(u, W['out.ln.g'], W['out.ln.b']);
  const logits = linear(emb, W['head.w'], W['head.b']);
  // next-frame latent prediction from strictly earlier frames of the last layer (+ a null slot)
  const qp = rope(W['pred.q'].reshape([H, 1, Dh]).tile([1, T, 1]), ang).expandDims(0); // [1, H, T, Dh]
  const Kl = tf.concat([W['pred.knull'].reshape([1, H, 1, Dh]).tile([B, 1, 1, 1]), presK[L - 1]], 2);
  const Vl = tf.concat([W['pred.vnull'].reshape([1, H, 1, Dh]).tile([B, 1, 1, 1]), presV[L - 1]], 2);
  const ps = tf.matMul(qp.tile([B, 1, 1, 1]), Kl, false, true).mul(scale).add(tf.tensor2d(predMaskData, [T, 1 + Tk]));
  const po = tf.matMul(tf.softmax(ps, -1), Vl).transpose([0, 2, 1, 3]).reshape([B, T, D]);
  const pred = linear(po, W['pred.w'], W['pred.b']);
  const surprise = pred.sub(z).square().mean(-1);
  const out: ForwardOut = {
    z,
    emb,
    logits,
    pred,
    surprise,
    presentK: tf.stack(presK, 0),
    presentV: tf.stack(presV, 0),
  };
  if (inp.wantRecon) {
    out.recon = linear(chan, W['recon.w'], W['recon.b']).reshape([B, T, C, -1]);
  }
  if (nClasses(cfg) !== S(logits)[2]) throw new Error('head size mismatch');
  return out;
}
