/**
 * A small ONNX graph builder over the protobufjs messages in proto.ts.
 * Names are generated; every op returns its output name(s).
 */
import { ATTR, DT, encodeModel } from './proto.ts';
import { VERSION } from '../../src/version.ts';

export type AttrValue = number | number[] | string | { ints: number[] } | { floats: number[] } | { float: number };
export type Dim = number | string;

interface TensorInit {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

export class GraphBuilder {
  private nodes: Record<string, unknown>[] = [];
  private inits: TensorInit[] = [];
  private inputs: Record<string, unknown>[] = [];
  private outputs: Record<string, unknown>[] = [];
  private counter = 0;
  private constCache = new Map<string, string>();
  /** Operator-set domains used besides the default one (e.g. com.microsoft). */
  private domains = new Set<string>();

  /** A new unique value name. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  private static valueInfo(name: string, elemType: number, dims: Dim[]): Record<string, unknown> {
    return {
      name,
      type: {
        tensorType: {
          elemType,
          shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    };
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(GraphBuilder.valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: Dim[]): void {
    this.outputs.push(GraphBuilder.valueInfo(name, elemType, dims));
  }

  initializer(name: string, dims: number[], data: Float32Array | Int8Array | BigInt64Array | Int32Array): string {
    const dataType =
      data instanceof Float32Array ? DT.FLOAT : data instanceof Int8Array ? DT.INT8 : data instanceof BigInt64Array ? DT.INT64 : DT.INT32;
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`initializer ${name}: ${data.length} values for dims ${dims}`);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(); // little-endian, as ONNX raw_data
    this.inits.push({ name, dims, dataType, rawData: raw });
    return name;
  }

  /** Float constant (deduplicated). */
  f(values: number[] | number, dims?: number[]): string {
    const arr = Array.isArray(values) ? values : [values];
    const d = dims ?? (Array.isArray(values) ? [arr.length] : []);
    const key = `f:${d.join(',')}:${arr.join(',')}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.initializer(this.fresh('cf'), d, Float32Array.from(arr));
      this.constCache.set(key, n);
    }
    return n;
  }

  /** int64 constant (deduplicated), e.g. shapes, axes, slice bounds. */
  i64(values: number[] | number, dims?: number[]): string {
    const arr = Array.isArray(values) ? values : [values];
    const d = dims ?? (Array.isArray(values) ? [arr.length] : []);
    const key = `i:${d.join(',')}:${arr.join(',')}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.initializer(this.fresh('ci'), d, BigInt64Array.from(arr.map((v) => BigInt(v))));
      this.constCache.set(key, n);
    }
    return n;
  }

  /**
   * Add a node. `opType` may carry a domain as 'domain:Op' (e.g.
   * 'com.microsoft:MultiHeadAttention'); an empty input name omits an
   * optional input, an empty output name an optional output.
   */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOut = 1, outNames?: string[]): string[] {
    const colon = opType.lastIndexOf(':');
    const domain = colon >= 0 ? opType.slice(0, colon) : '';
    if (domain) {
      opType = opType.slice(colon + 1);
      this.domains.add(domain);
    }
    const outs = outNames ?? Array.from({ length: nOut }, () => this.fresh(opType.toLowerCase()));
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'number') return Number.isInteger(v) ? { name, type: ATTR.INT, i: v } : { name, type: ATTR.FLOAT, f: v };
      if (typeof v === 'string') return { name, type: ATTR.STRING, s: Buffer.from(v) };
      if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
      if ('ints' in v) return { name, type: ATTR.INTS, ints: v.ints };
      if ('floats' in v) return { name, type: ATTR.FLOATS, floats: v.floats };
      return { name, type: ATTR.FLOAT, f: v.float };
    });
    this.nodes.push({ opType, ...(domain ? { domain } : {}), input: inputs, output: outs, name: this.fresh(`n_${opType}`), attribute });
    return outs;
  }

  /** Single-output op. */
  o(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    return this.op(opType, inputs, attrs, 1, outName ? [outName] : undefined)[0];
  }

  nodeCount(): number {
    return this.nodes.length;
  }

  build(opts: { graphName: string; opset: number; producer: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    const model = {
      irVersion: 8,
      producerName: opts.producer,
      producerVersion: VERSION,
      docString: opts.docString ?? '',
      opsetImport: [{ domain: '', version: opts.opset }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return encodeModel(model);
  }
}
