/**
 * Export the DIVER-S streaming step to ONNX (opset 17), written from
 * TypeScript with protobufjs. The graph mirrors forward() in tfmodel.ts for a
 * single frame (batch 1, T = 1) with past K/V:
 *
 *   x [1,C,F], pos_code [1,C,P], t int64 [1], past_k/past_v [L,H,T,Dh],
 *   speech int64 [1], text int64 [1]  (0 = absent)
 *   → logits [1,K], embedding [1,D], surprise [1], present_k/present_v [L,H,T+1,Dh],
 *     new_k/new_v [L,H,1,Dh] (this frame's keys/values: present = past ⊕ new)
 *
 * With `quant`, every 2-D weight is stored as int8 with a per-output-column
 * scale and enters its MatMul/Gather through DequantizeLinear.
 */
import { writeFileSync } from 'node:fs';
import { GraphBuilder } from '../onnx/builder.ts';
import { DT } from '../onnx/proto.ts';
import { type DiverConfig, TRAIN_ONLY, allLabels, adapterSlices, featDim, nClasses, paramCount, weightShapes } from './config.ts';
import type { WeightArrays } from './tfmodel.ts';
import { LN_EPS } from './tfmodel.ts';
import { BANDS_HZ, CONTEXT_FRAMES } from '../../src/tokenize/diver-features.ts';

export interface QuantTensor {
  q: Int8Array;
  /** One scale per output column (axis 1). */
  scale: Float32Array;
}

/**
 * Adapter heads stay float32: they are closed-form fits (a few thousand
 * weights), and rounding their columns moved P300 decisions that sit near
 * the boundary for no saving worth having.
 */
const FLOAT_HEADS = new Set(['head.w']);

/** Names quantised to int8: every 2-D matrix/table of the trunk (biases, norms, queries and adapter heads stay float32). */
export function quantizable(cfg: DiverConfig): string[] {
  return Object.entries(weightShapes(cfg))
    .filter(([n, s]) => s.length === 2 && (n.endsWith('.w') || n.endsWith('.emb')) && !TRAIN_ONLY.has(n) && !FLOAT_HEADS.has(n))
    .map(([n]) => n);
}

/** Symmetric per-column int8 quantisation; returns the int8 tensors and the dequantised twin weights. */
export function quantizeWeights(cfg: DiverConfig, w: WeightArrays): { quant: Record<string, QuantTensor>; dequant: WeightArrays } {
  const shapes = weightShapes(cfg);
  const quant: Record<string, QuantTensor> = {};
  const dequant: WeightArrays = { ...w };
  for (const name of quantizable(cfg)) {
    const [rows, cols] = shapes[name];
    const a = w[name];
    const scale = new Float32Array(cols);
    for (let j = 0; j < cols; j++) {
      let m = 0;
      for (let i = 0; i < rows; i++) m = Math.max(m, Math.abs(a[i * cols + j]));
      scale[j] = m > 0 ? m / 127 : 1;
    }
    const q = new Int8Array(rows * cols);
    const dq = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = Math.max(-127, Math.min(127, Math.round(a[i * cols + j] / scale[j])));
        q[i * cols + j] = v;
        dq[i * cols + j] = Math.fround(v * scale[j]); // what DequantizeLinear computes in float32
      }
    }
    quant[name] = { q, scale };
    dequant[name] = dq;
  }
  return { quant, dequant };
}

export interface ExportOptions {
  quant?: Record<string, QuantTensor>;
  /** Extra metadata (model card fields, training provenance). */
  metadata?: Record<string, unknown>;
  /** Write no neurox metadata (to test the external-model path). */
  bare?: boolean;
}

export const STEP_KIND = 'neurox.diver-s.step.v1';

export function buildStepOnnx(cfg: DiverConfig, w: WeightArrays, opts: ExportOptions = {}): Uint8Array {
  const g = new GraphBuilder();
  const shapes = weightShapes(cfg);
  const F = featDim(cfg);
  const P = cfg.posDim;
  const Ds = cfg.dSpatial;
  const Hs = cfg.spatialHeads;
  const D = cfg.dModel;
  const H = cfg.heads;
  const Dh = D / H;
  const L = cfg.layers;
  const M = cfg.nLatents;
  const half = Dh / 2;
  const K = nClasses(cfg);

  const made = new Map<string, string>();
  const W = (name: string): string => {
    const have = made.get(name);
    if (have) return have;
    const r = makeW(name);
    made.set(name, r);
    return r;
  };
  const makeW = (name: string): string => {
    const shape = shapes[name];
    if (!shape) throw new Error(`no weight ${name}`);
    const qt = opts.quant?.[name];
    if (qt) {
      const q = g.initializer(`${name}.q`, shape, qt.q);
      const s = g.initializer(`${name}.scale`, [shape[1]], qt.scale);
      const zp = g.initializer(`${name}.zp`, [shape[1]], new Int8Array(shape[1]));
      return g.o('DequantizeLinear', [q, s, zp], { axis: 1 }, name);
    }
    return g.initializer(name, shape, w[name]);
  };
  const raw = (name: string, dims: number[], data: Float32Array): string => g.initializer(name, dims, data);
  const MS = 'com.microsoft:';
  const eps = { float: LN_EPS };
  /** x·W (+ b) on 3-D activations; W may be a folded constant expression. */
  const mm = (x: string, wName: string, bias?: string): string => {
    const y = g.o('MatMul', [x, wName]);
    return bias ? g.o('Add', [y, bias]) : y;
  };
  const ln = (x: string, p: string): string => g.o('LayerNormalization', [x, W(p + '.g'), W(p + '.b')], { axis: -1, epsilon: eps });
  /**
   * Residual add + LayerNorm in one node: returns [LN(x + skip + bias), x + skip + bias].
   * The sum output is requested only when `wantSum`.
   */
  const skipLn = (x: string, skip: string, p: string, bias: string, wantSum: boolean): [string, string] => {
    const outs = [g.fresh('sln'), '', '', wantSum ? g.fresh('sum') : ''];
    g.op(MS + 'SkipLayerNormalization', [x, skip, W(p + '.g'), W(p + '.b'), bias], { epsilon: eps }, 4, outs);
    return [outs[0], outs[3]];
  };
  /** SiLU x·σ(x) = QuickGelu with alpha 1. */
  const silu = (x: string): string => g.o(MS + 'QuickGelu', [x], { alpha: { float: 1 } });
  const reshape = (x: string, s: number[]): string => g.o('Reshape', [x, g.i64(s)]);
  /**
   * Attention over [past ⊕ new] keys; returns [out, present_k, present_v] (names given or
   * generated). `qkvBias` ([q | k | v] biases) is added inside the kernel, one node fewer.
   */
  const mha = (q: string, k: string, v: string, heads: number, opt: { qkvBias?: string; bias?: string; pastK?: string; pastV?: string; outs?: string[] } = {}): string[] => {
    const inputs = [q, k, v, opt.qkvBias ?? '', '', opt.bias ?? '', opt.pastK ?? '', opt.pastV ?? ''];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const outs = opt.outs ?? [g.fresh('mha'), ...(opt.pastK ? [g.fresh('pk'), g.fresh('pv')] : [])];
    return g.op(MS + 'MultiHeadAttention', inputs, { num_heads: heads }, outs.length, outs);
  };

  // ---- inputs
  const x = g.input('x', DT.FLOAT, [1, 'C', F]);
  const pos = g.input('pos_code', DT.FLOAT, [1, 'C', P]);
  const t = g.input('t', DT.INT64, [1]);
  const pastK = g.input('past_k', DT.FLOAT, [L, H, 'T', Dh]);
  const pastV = g.input('past_v', DT.FLOAT, [L, H, 'T', Dh]);
  const speech = g.input('speech', DT.INT64, [1]);
  const text = g.input('text', DT.INT64, [1]);

  // Weight expressions below (Concat / Gather / Mul / Reshape of initializers) have only
  // constant inputs: ONNX Runtime folds them into plain float32 tensors when the session
  // loads, so int8 storage stays compact and every step runs a lean graph.

  // ---- spatial block, activations [1, C, ·]
  const xn = g.o('Mul', [g.o('Sub', [x, W('norm.mu')]), W('norm.isd')]);
  // [x', pos]·[in.w; pos.w]: one GEMM for feature and position embeddings
  let h = mm(g.o('Concat', [xn, pos], { axis: 2 }), g.o('Concat', [W('in.w'), W('pos.w')], { axis: 0 }), W('in.b'));
  const p2 = reshape(pos, [-1, P]);
  const coords = g.o('Slice', [p2, g.i64([0]), g.i64([3]), g.i64([1])]);
  const sq = g.o('ReduceSumSquare', [coords], { axes: [1], keepdims: 0 }); // [C]
  // Squared distances |a_i|² + |a_j|² − 2a_i·a_j less the |a_i|² term: constant along each
  // softmax row, so the attention is unchanged, and one Gemm (its C input a row) computes it.
  const d2 = g.o('Gemm', [coords, coords, sq], { alpha: { float: -2 }, beta: { float: 1 }, transB: 1 });
  const eye = g.o('EyeLike', [d2]);
  let a = ln(h, 'sp0.ln1');
  // the residual branch still to be added to h, and its bias (added inside the next SkipLayerNormalization)
  let f = '';
  let fBias = '';
  for (let l = 0; l < cfg.spatialLayers; l++) {
    const p = `sp${l}.`;
    if (l > 0) [a, h] = skipLn(f, h, p + 'ln1', fBias, true);
    const [q, k, v] = g.op('Split', [mm(a, W(p + 'qkv.w')), g.i64([Ds, Ds, Ds])], { axis: 2 }, 3);
    // per-head distance and same-channel biases → [1, Hs, C, C]
    const bias = g.o('Add', [g.o('Mul', [d2, reshape(W(p + 'bias.dist'), [1, Hs, 1, 1])]), g.o('Mul', [eye, reshape(W(p + 'bias.self'), [1, Hs, 1, 1])])]);
    const [o] = mha(q, k, v, Hs, { bias, qkvBias: W(p + 'qkv.b') });
    if (cfg.spatialMlp !== false) {
      let b: string;
      [b, h] = skipLn(mm(o, W(p + 'o.w')), h, p + 'ln2', W(p + 'o.b'), true);
      f = mm(silu(mm(b, W(p + 'fc1.w'), W(p + 'fc1.b'))), W(p + 'fc2.w'));
      fBias = W(p + 'fc2.b');
    } else {
      f = mm(o, W(p + 'o.w'));
      fBias = W(p + 'o.b');
    }
  }
  // ---- Perceiver pooling: M learned queries attend over the channels
  {
    const [pa] = skipLn(f, h, 'pool.ln', fBias, false);
    const [k, v] = g.op('Split', [mm(pa, W('pool.kv.w')), g.i64([Ds, Ds])], { axis: 2 }, 2);
    const [lat] = mha(reshape(W('pool.q'), [1, M, Ds]), k, v, Hs, { qkvBias: g.o('Concat', [raw('pool.qbias', [Ds], new Float32Array(Ds)), W('pool.kv.b')], { axis: 0 }) });
    // linear skip: ((posᵀ·x')/C − mu)·isd·W = (posᵀ·x')·(isd⊙W)/C − (mu⊙isd)·W
    const wSkip = g.o('Mul', [reshape(W('skip.isd'), [P * F, 1]), W('skip.w')]);
    const cSkip = g.o('MatMul', [reshape(g.o('Mul', [W('skip.mu'), W('skip.isd')]), [1, P * F]), W('skip.w')]);
    h = g.o('Gemm', [reshape(lat, [1, M * Ds]), W('frame.w'), g.o('Sub', [W('frame.b'), cSkip])]);
    const outer = g.o('Gemm', [p2, reshape(xn, [-1, F])], { transA: 1 }); // [P, F]
    const nC = g.o('Cast', [g.o('Shape', [x], { start: 1, end: 2 })], { to: DT.FLOAT });
    h = g.o('Add', [h, g.o('Div', [g.o('MatMul', [reshape(outer, [1, P * F]), wSkip]), nC])]);
  }
  const z = h; // [1, D]
  let u = reshape(g.o('Sum', [z, g.o('Gather', [W('speech.emb'), speech], { axis: 0 }), g.o('Gather', [W('text.emb'), text], { axis: 0 })]), [1, 1, D]);

  // ---- RoPE on [q | k] at absolute position t: r = qk⊙cos + rot(qk)⊙sin, where rot
  // (rotate-half per head) is folded into extra projection columns (a signed permutation)
  // Angles for [q | k | prediction query]: the last layer rotates the surprise head's
  // query too, in the same Mul/Add (its projection columns are zero, its bias the query).
  const inv = new Float32Array(3 * D);
  for (let j = 0; j < 3 * D; j++) inv[j] = Math.pow(cfg.ropeBase, (-2 * (j % half)) / Dh);
  const ang = g.o('Mul', [g.o('Cast', [t], { to: DT.FLOAT }), raw('rope.inv', [1, 1, 3 * D], inv)]);
  const cos3 = g.o('Cos', [ang]);
  const sin3 = g.o('Sin', [ang]);
  const first2D = (x3: string): string => g.o('Slice', [x3, g.i64([0]), g.i64([2 * D]), g.i64([2])]);
  const cos2 = L > 1 ? first2D(cos3) : '';
  const sin2 = L > 1 ? first2D(sin3) : '';
  const rotIdx = new BigInt64Array(2 * D);
  const rotSign = new Float32Array(2 * D);
  for (let j = 0; j < 2 * D; j++) {
    const i = j % Dh;
    rotIdx[j] = BigInt(j - i + (i < half ? i + half : i - half));
    rotSign[j] = i < half ? -1 : 1;
  }
  const rotI = g.initializer('rope.rot_idx', [2 * D], rotIdx);
  const rotS = raw('rope.rot_sign', [2 * D], rotSign);
  const rot = (wb: string, axis: number): string => g.o('Mul', [g.o('Gather', [wb, rotI], { axis }), rotS]);
  const qkCols = (wb: string, axis: number): string => g.o('Slice', [wb, g.i64([0]), g.i64([2 * D]), g.i64([axis])]);
  const vCols = (wb: string, axis: number): string => g.o('Slice', [wb, g.i64([2 * D]), g.i64([3 * D]), g.i64([axis])]);
  const pq = w['pred.q'];
  const pqR = new Float32Array(D);
  for (let j = 0; j < D; j++) pqR[j] = rotSign[j] * pq[Number(rotIdx[j])];
  let qPred = '';
  const presK: string[] = [];
  const presV: string[] = [];
  const newK: string[] = [];
  const newV: string[] = [];
  const pastKs = L > 1 ? g.op('Split', [pastK], { axis: 0 }, L) : [pastK];
  const pastVs = L > 1 ? g.op('Split', [pastV], { axis: 0 }, L) : [pastV];
  a = ln(u, 'tm0.ln1');
  for (let l = 0; l < L; l++) {
    const p = `tm${l}.`;
    if (l > 0) [a, u] = skipLn(f, u, p + 'ln1', W(`tm${l - 1}.fc2.b`), true);
    let q: string, k: string, v: string;
    if (l < L - 1) {
      const w5 = g.o('Concat', [W(p + 'qkv.w'), rot(qkCols(W(p + 'qkv.w'), 1), 1)], { axis: 1 });
      const b5 = g.o('Concat', [W(p + 'qkv.b'), rot(qkCols(W(p + 'qkv.b'), 0), 0)], { axis: 0 });
      let qk: string, qkR: string;
      [qk, v, qkR] = g.op('Split', [mm(a, w5, b5), g.i64([2 * D, D, 2 * D])], { axis: 2 }, 3);
      [q, k] = g.op('Split', [g.o('Add', [g.o('Mul', [qk, cos2]), g.o('Mul', [qkR, sin2])]), g.i64([D, D])], { axis: 2 }, 2);
    } else {
      // columns [q k pq | v | rot(q k) rot(pq)]; the pq columns are zero with pred.q as their bias
      const zero = raw('pred.zero_w', [D, D], new Float32Array(D * D));
      const w7 = g.o('Concat', [qkCols(W(p + 'qkv.w'), 1), zero, vCols(W(p + 'qkv.w'), 1), rot(qkCols(W(p + 'qkv.w'), 1), 1), zero], { axis: 1 });
      const b7 = g.o('Concat', [qkCols(W(p + 'qkv.b'), 0), raw('pred.q_flat', [D], pq), vCols(W(p + 'qkv.b'), 0), rot(qkCols(W(p + 'qkv.b'), 0), 0), raw('pred.q_rot', [D], pqR)], { axis: 0 });
      const [qkp, v7, qkpR] = g.op('Split', [mm(a, w7, b7), g.i64([3 * D, D, 3 * D])], { axis: 2 }, 3);
      v = v7;
      [q, k, qPred] = g.op('Split', [g.o('Add', [g.o('Mul', [qkp, cos3]), g.o('Mul', [qkpR, sin3])]), g.i64([D, D, D])], { axis: 2 }, 3);
    }
    const [o, pk, pv] = mha(q, k, v, H, { pastK: pastKs[l], pastV: pastVs[l], outs: L > 1 ? undefined : [g.fresh('mha'), 'present_k', 'present_v'] });
    presK.push(pk);
    presV.push(pv);
    // this frame's key/value, [1, 1, D] = [1, H, 1, Dh] in memory (one frame, head-major)
    newK.push(reshape(k, [1, H, 1, Dh]));
    newV.push(reshape(v, [1, H, 1, Dh]));
    let b: string;
    [b, u] = skipLn(mm(o, W(p + 'o.w')), u, p + 'ln2', W(p + 'o.b'), true);
    f = mm(silu(mm(b, W(p + 'fc1.w'), W(p + 'fc1.b'))), W(p + 'fc2.w'));
  }
  if (L > 1) {
    g.o('Concat', presK, { axis: 0 }, 'present_k');
    g.o('Concat', presV, { axis: 0 }, 'present_v');
  }
  // The new frame alone (optional outputs): the runtime fetches these instead of the
  // whole present, so it neither copies the cache out of ORT nor checks present = past ⊕ new.
  g.o(L > 1 ? 'Concat' : 'Identity', newK, L > 1 ? { axis: 0 } : {}, 'new_k');
  g.o(L > 1 ? 'Concat' : 'Identity', newV, L > 1 ? { axis: 0 } : {}, 'new_v');
  const [e3] = skipLn(f, u, 'out.ln', W(`tm${L - 1}.fc2.b`), false);
  const emb = g.o('Reshape', [e3, g.i64([1, D])], {}, 'embedding');
  g.o('Gemm', [emb, W('head.w'), W('head.b')], {}, 'logits');
  // ---- next-frame prediction from strictly earlier frames (+ null slot) → surprise of this frame.
  // Attention is order-free over keys, so [past ⊕ null] equals the training graph's [null ⊕ past].
  // (ORT's CPU MultiHeadAttention ignores past K/V unless the present outputs are requested.)
  {
    const [po] = mha(qPred, reshape(W('pred.knull'), [1, 1, D]), reshape(W('pred.vnull'), [1, 1, D]), H, { pastK: pastKs[L - 1], pastV: pastVs[L - 1] });
    const pred = g.o('Gemm', [reshape(po, [1, D]), W('pred.w'), W('pred.b')]);
    const d = g.o('Sub', [pred, z]);
    g.o('Mul', [g.o('ReduceSumSquare', [d], { axes: [1], keepdims: 0 }), g.f(1 / D)], {}, 'surprise');
  }
  g.output('logits', DT.FLOAT, [1, K]);
  g.output('embedding', DT.FLOAT, [1, D]);
  g.output('surprise', DT.FLOAT, [1]);
  g.output('present_k', DT.FLOAT, [L, H, 'T1', Dh]);
  g.output('present_v', DT.FLOAT, [L, H, 'T1', Dh]);
  g.output('new_k', DT.FLOAT, [L, H, 1, Dh]);
  g.output('new_v', DT.FLOAT, [L, H, 1, Dh]);

  const meta = {
    kind: STEP_KIND,
    name: cfg.name,
    labels: allLabels(cfg),
    adapters: adapterSlices(cfg),
    hopMs: cfg.hopMs,
    features: { patchLen: cfg.patchLen, bandsHz: BANDS_HZ.map(([a, b]) => [a, Number.isFinite(b) ? b : null]), posDim: P, contextFrames: CONTEXT_FRAMES },
    kv: { layers: L, heads: H, headDim: Dh },
    params: paramCount(cfg),
    quantized: !!opts.quant,
    config: cfg,
    ...(opts.metadata ?? {}),
  };
  return g.build({
    graphName: cfg.name,
    opset: 17,
    producer: 'neurox',
    docString: 'DIVER-S streaming step (frame features, position, past K/V) → (logits, embedding, surprise, present K/V)',
    metadata: opts.bare ? {} : { neurox: JSON.stringify(meta) },
  });
}

export function writeStepOnnx(path: string, cfg: DiverConfig, w: WeightArrays, opts: ExportOptions = {}): number {
  const bytes = buildStepOnnx(cfg, w, opts);
  writeFileSync(path, bytes);
  return bytes.length;
}
