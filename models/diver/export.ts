/**
 * Export the DIVER-S streaming step to ONNX (opset 17), written from
 * TypeScript with protobufjs. The graph mirrors forward() in tfmodel.ts for a
 * single frame (batch 1, T = 1) with past K/V:
 *
 *   x [1,C,F], pos_code [1,C,P], t int64 [1], past_k/past_v [L,H,T,Dh],
 *   speech int64 [1], text int64 [1]  (0 = absent)
 *   → logits [1,K], embedding [1,D], surprise [1], present_k/present_v [L,H,T+1,Dh]
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
import { BANDS_HZ, CONTEXT_FRAMES } from '../../src/model/features.ts';

export interface QuantTensor {
  q: Int8Array;
  /** One scale per output column (axis 1). */
  scale: Float32Array;
}

/** Names quantised to int8: every 2-D matrix/table (biases, norms, queries stay float32). */
export function quantizable(cfg: DiverConfig): string[] {
  return Object.entries(weightShapes(cfg))
    .filter(([n, s]) => s.length === 2 && (n.endsWith('.w') || n.endsWith('.emb')) && !TRAIN_ONLY.has(n))
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
  const dh = Ds / Hs;
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
  const lin = (x: string, wn: string, bn?: string): string => {
    const y = g.o('MatMul', [x, W(wn)]);
    return bn ? g.o('Add', [y, W(bn)]) : y;
  };
  const ln = (x: string, p: string): string =>
    g.o('LayerNormalization', [x, W(p + '.g'), W(p + '.b')], { axis: -1, epsilon: { float: LN_EPS } });
  const silu = (x: string): string => g.o('Mul', [x, g.o('Sigmoid', [x])]);
  const reshape = (x: string, s: number[]): string => g.o('Reshape', [x, g.i64(s)]);
  const transpose = (x: string, perm: number[]): string => g.o('Transpose', [x], { perm });
  const raw = (name: string, dims: number[], data: Float32Array): string => g.initializer(name, dims, data);

  // ---- inputs
  const x = g.input('x', DT.FLOAT, [1, 'C', F]);
  const pos = g.input('pos_code', DT.FLOAT, [1, 'C', P]);
  const t = g.input('t', DT.INT64, [1]);
  const pastK = g.input('past_k', DT.FLOAT, [L, H, 'T', Dh]);
  const pastV = g.input('past_v', DT.FLOAT, [L, H, 'T', Dh]);
  const speech = g.input('speech', DT.INT64, [1]);
  const text = g.input('text', DT.INT64, [1]);

  // ---- spatial block
  const x2 = g.o('Mul', [g.o('Sub', [reshape(x, [-1, F]), W('norm.mu')]), W('norm.isd')]);
  const p2 = reshape(pos, [-1, P]);
  let h = g.o('Add', [lin(x2, 'in.w', 'in.b'), lin(p2, 'pos.w')]);
  const coords = g.o('Slice', [p2, g.i64([0]), g.i64([3]), g.i64([1])]);
  const sq = g.o('ReduceSum', [g.o('Mul', [coords, coords]), g.i64([1])], { keepdims: 1 }); // [C,1]
  const dot = g.o('MatMul', [coords, transpose(coords, [1, 0])]);
  const d2 = g.o('Sub', [g.o('Add', [sq, transpose(sq, [1, 0])]), g.o('Mul', [dot, g.f(2)])]);
  const eye = g.o('EyeLike', [d2]);
  const sScale = g.f(1 / Math.sqrt(dh));
  const heads = (t2: string, nh: number, hd: number): string => transpose(reshape(t2, [-1, nh, hd]), [1, 0, 2]);
  for (let l = 0; l < cfg.spatialLayers; l++) {
    const p = `sp${l}.`;
    const a = ln(h, p + 'ln1');
    const qkv = lin(a, p + 'qkv.w', p + 'qkv.b');
    const [q, k, v] = g.op('Split', [qkv, g.i64([Ds, Ds, Ds])], { axis: 1 }, 3).map((s) => heads(s, Hs, dh));
    let s = g.o('Mul', [g.o('MatMul', [q, transpose(k, [0, 2, 1])]), sScale]);
    s = g.o('Add', [s, g.o('Mul', [d2, reshape(W(p + 'bias.dist'), [Hs, 1, 1])])]);
    s = g.o('Add', [s, g.o('Mul', [eye, reshape(W(p + 'bias.self'), [Hs, 1, 1])])]);
    const att = g.o('Softmax', [s], { axis: -1 });
    const o = reshape(transpose(g.o('MatMul', [att, v]), [1, 0, 2]), [-1, Ds]);
    h = g.o('Add', [h, lin(o, p + 'o.w', p + 'o.b')]);
    const b = ln(h, p + 'ln2');
    h = g.o('Add', [h, lin(silu(lin(b, p + 'fc1.w', p + 'fc1.b')), p + 'fc2.w', p + 'fc2.b')]);
  }
  // ---- Perceiver pooling
  {
    const a = ln(h, 'pool.ln');
    const kv = lin(a, 'pool.kv.w', 'pool.kv.b');
    const [k, v] = g.op('Split', [kv, g.i64([Ds, Ds])], { axis: 1 }, 2).map((s) => heads(s, Hs, dh));
    // queries [M, Ds] → [Hs, M, dh] (a permutation of the stored values, no arithmetic)
    const pq = w['pool.q'];
    const qT = new Float32Array(M * Ds);
    for (let m = 0; m < M; m++) for (let hh = 0; hh < Hs; hh++) for (let d = 0; d < dh; d++) qT[(hh * M + m) * dh + d] = pq[m * Ds + hh * dh + d];
    const q = raw('pool.qT', [Hs, M, dh], qT);
    const s = g.o('Mul', [g.o('MatMul', [q, transpose(k, [0, 2, 1])]), sScale]);
    const att = g.o('Softmax', [s], { axis: -1 });
    const lat = reshape(transpose(g.o('MatMul', [att, v]), [1, 0, 2]), [1, M * Ds]);
    h = lin(lat, 'frame.w', 'frame.b');
    // linear skip: mean over channels of pos_code ⊗ x → [1, P·F] → D
    // posᵀ·x' / C: one small GEMM; C is read from the input shape
    const nC = g.o('Cast', [g.o('Gather', [g.o('Shape', [x]), g.i64(1, [])], { axis: 0 })], { to: DT.FLOAT });
    const outer = g.o('Div', [g.o('MatMul', [transpose(p2, [1, 0]), x2]), nC]);
    const outerN = g.o('Mul', [g.o('Sub', [reshape(outer, [1, P * F]), W('skip.mu')]), W('skip.isd')]);
    h = g.o('Add', [h, g.o('MatMul', [outerN, W('skip.w')])]);
  }
  const z = h; // [1, D]
  let u = g.o('Add', [g.o('Add', [z, g.o('Gather', [W('speech.emb'), speech], { axis: 0 })]), g.o('Gather', [W('text.emb'), text], { axis: 0 })]);

  // ---- RoPE angles from the absolute position
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.pow(cfg.ropeBase, (-2 * i) / Dh);
  const tf32 = reshape(g.o('Cast', [t], { to: DT.FLOAT }), [1, 1]);
  const ang = g.o('Mul', [tf32, raw('rope.inv', [1, half], inv)]);
  const cos = g.o('Cos', [ang]);
  const sin = g.o('Sin', [ang]);
  const rope = (q: string): string => {
    const x1 = g.o('Slice', [q, g.i64([0]), g.i64([half]), g.i64([2])]);
    const x2r = g.o('Slice', [q, g.i64([half]), g.i64([Dh]), g.i64([2])]);
    const a = g.o('Sub', [g.o('Mul', [x1, cos]), g.o('Mul', [x2r, sin])]);
    const b = g.o('Add', [g.o('Mul', [x2r, cos]), g.o('Mul', [x1, sin])]);
    return g.o('Concat', [a, b], { axis: 2 });
  };
  const tScale = g.f(1 / Math.sqrt(Dh));
  const presK: string[] = [];
  const presV: string[] = [];
  let lastPastK = '';
  let lastPastV = '';
  for (let l = 0; l < L; l++) {
    const p = `tm${l}.`;
    const a = ln(u, p + 'ln1');
    const qkv = lin(a, p + 'qkv.w', p + 'qkv.b');
    const [q0, k0, v] = g.op('Split', [qkv, g.i64([D, D, D])], { axis: 1 }, 3).map((s) => heads(s, H, Dh)); // [H,1,Dh]
    const q = rope(q0);
    const k = rope(k0);
    const pk = g.o('Gather', [pastK, g.i64(l, [])], { axis: 0 });
    const pv = g.o('Gather', [pastV, g.i64(l, [])], { axis: 0 });
    if (l === L - 1) {
      lastPastK = pk;
      lastPastV = pv;
    }
    const Kc = g.o('Concat', [pk, k], { axis: 1 });
    const Vc = g.o('Concat', [pv, v], { axis: 1 });
    presK.push(g.o('Unsqueeze', [Kc, g.i64([0])]));
    presV.push(g.o('Unsqueeze', [Vc, g.i64([0])]));
    const s = g.o('Mul', [g.o('MatMul', [q, transpose(Kc, [0, 2, 1])]), tScale]);
    const att = g.o('Softmax', [s], { axis: -1 });
    const o = reshape(transpose(g.o('MatMul', [att, Vc]), [1, 0, 2]), [1, D]);
    u = g.o('Add', [u, lin(o, p + 'o.w', p + 'o.b')]);
    const b = ln(u, p + 'ln2');
    u = g.o('Add', [u, lin(silu(lin(b, p + 'fc1.w', p + 'fc1.b')), p + 'fc2.w', p + 'fc2.b')]);
  }
  g.o('Concat', presK, { axis: 0 }, 'present_k');
  g.o('Concat', presV, { axis: 0 }, 'present_v');
  const emb = g.o('LayerNormalization', [u, W('out.ln.g'), W('out.ln.b')], { axis: -1, epsilon: { float: LN_EPS } }, 'embedding');
  g.o('Add', [g.o('MatMul', [emb, W('head.w')]), W('head.b')], {}, 'logits');
  // ---- next-frame prediction from strictly earlier frames (+ null slot) → surprise of this frame
  {
    const qp = rope(reshape(W('pred.q'), [H, 1, Dh]));
    const Kl = g.o('Concat', [reshape(W('pred.knull'), [H, 1, Dh]), lastPastK], { axis: 1 });
    const Vl = g.o('Concat', [reshape(W('pred.vnull'), [H, 1, Dh]), lastPastV], { axis: 1 });
    const s = g.o('Mul', [g.o('MatMul', [qp, transpose(Kl, [0, 2, 1])]), tScale]);
    const att = g.o('Softmax', [s], { axis: -1 });
    const po = reshape(transpose(g.o('MatMul', [att, Vl]), [1, 0, 2]), [1, D]);
    const pred = lin(po, 'pred.w', 'pred.b');
    const d = g.o('Sub', [pred, z]);
    g.o('ReduceMean', [g.o('Mul', [d, d])], { axes: [1], keepdims: 0 }, 'surprise');
  }
  g.output('logits', DT.FLOAT, [1, K]);
  g.output('embedding', DT.FLOAT, [1, D]);
  g.output('surprise', DT.FLOAT, [1]);
  g.output('present_k', DT.FLOAT, [L, H, 'T1', Dh]);
  g.output('present_v', DT.FLOAT, [L, H, 'T1', Dh]);

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
