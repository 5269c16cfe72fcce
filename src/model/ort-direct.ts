/**
 * A step session on ONNX Runtime's C API, called through koffi, for the
 * model worker's hot path.
 *
 * onnxruntime-node's binding converts every input and output between JS and
 * ORT on each run: it wraps the feeds, creates a JS object and a fresh
 * ArrayBuffer per output and copies the results into them. For a small
 * streaming step that conversion is a large share of the run (about a seventh
 * of the instructions of a DIVER-S step at 64 channels, measured with
 * callgrind). Here the input and output tensors are created once over native
 * buffers that JS reads and writes through views, and a step is one `Run`
 * call with pre-bound outputs, so ORT writes the results straight into them.
 *
 * It uses the libonnxruntime that onnxruntime-node ships (same version, same
 * process-wide environment) and only the C API's stable function table: the
 * table's order is fixed across releases (new functions are appended), and
 * the indices below are those of ONNX Runtime's `OrtApi` struct (the same
 * order the project's C# binding mirrors in NativeMethods.shared.cs). A
 * status round trip (CreateStatus → GetErrorMessage) checks the table before
 * anything else is called; any failure makes the caller fall back to the
 * binding.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import koffi from 'koffi';
import type { StepDims } from './protocol.ts';

/** Indices into OrtApi (onnxruntime_c_api.h), API version 1 onwards. */
const FN = {
  CreateStatus: 0,
  GetErrorMessage: 2,
  CreateEnv: 3,
  CreateSession: 7,
  Run: 9,
  CreateSessionOptions: 10,
  SetSessionExecutionMode: 13,
  SetSessionGraphOptimizationLevel: 23,
  SetIntraOpNumThreads: 24,
  SetInterOpNumThreads: 25,
  CreateTensorWithDataAsOrtValue: 49,
  CreateCpuMemoryInfo: 69,
  ReleaseEnv: 92,
  ReleaseStatus: 93,
  ReleaseMemoryInfo: 94,
  ReleaseSession: 95,
  ReleaseValue: 96,
  ReleaseSessionOptions: 100,
  AddSessionConfigEntry: 130,
} as const;
/** Oldest API version that has every function above (AddSessionConfigEntry came in 1.5 = API 5). */
const API_VERSION = 5;
const ELEM = { float: 1, int64: 7 } as const;
const OPT_LEVEL = { disabled: 0, basic: 1, extended: 2, all: 99 } as const;

type Ptr = unknown;
type Fn = (...args: unknown[]) => unknown;

interface Api {
  fn: Record<keyof typeof FN, Fn>;
  check(status: Ptr, what: string): void;
}

let apiCache: Api | null = null;

/** Path of the libonnxruntime inside the installed onnxruntime-node. */
export function ortLibraryPath(): string {
  const req = createRequire(import.meta.url);
  const root = dirname(req.resolve('onnxruntime-node/package.json'));
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const name = process.platform === 'win32' ? 'onnxruntime.dll' : process.platform === 'darwin' ? 'libonnxruntime.1.dylib' : 'libonnxruntime.so.1';
  const p = join(root, 'bin', 'napi-v6', process.platform, arch, name);
  if (!existsSync(p)) throw new Error(`no ONNX Runtime library at ${p}`);
  return p;
}

function api(): Api {
  if (apiCache) return apiCache;
  const lib = koffi.load(ortLibraryPath());
  const base = lib.func('void *OrtGetApiBase()')();
  const getApi = koffi.decode(koffi.decode(base, 0, 'void *'), koffi.proto('void *OrtGetApiFn(uint32_t version)')) as Fn;
  const table = getApi(API_VERSION);
  if (!table) throw new Error(`ONNX Runtime does not offer C API version ${API_VERSION}`);
  const protos: Record<keyof typeof FN, string> = {
    CreateStatus: 'void *f(int code, const char *msg)',
    GetErrorMessage: 'const char *f(void *status)',
    CreateEnv: 'void *f(int level, const char *logid, _Out_ void **out)',
    CreateSession: 'void *f(void *env, const char *path, void *options, _Out_ void **out)',
    Run: 'void *f(void *session, void *runOptions, void *inputNames, void *inputs, size_t nIn, void *outputNames, size_t nOut, void *outputs)',
    CreateSessionOptions: 'void *f(_Out_ void **out)',
    SetSessionExecutionMode: 'void *f(void *options, int mode)',
    SetSessionGraphOptimizationLevel: 'void *f(void *options, int level)',
    SetIntraOpNumThreads: 'void *f(void *options, int n)',
    SetInterOpNumThreads: 'void *f(void *options, int n)',
    CreateTensorWithDataAsOrtValue: 'void *f(void *info, void *data, size_t bytes, void *shape, size_t rank, int type, _Out_ void **out)',
    CreateCpuMemoryInfo: 'void *f(int allocator, int memType, _Out_ void **out)',
    ReleaseEnv: 'void f(void *p)',
    ReleaseStatus: 'void f(void *p)',
    ReleaseMemoryInfo: 'void f(void *p)',
    ReleaseSession: 'void f(void *p)',
    ReleaseValue: 'void f(void *p)',
    ReleaseSessionOptions: 'void f(void *p)',
    AddSessionConfigEntry: 'void *f(void *options, const char *key, const char *value)',
  };
  const fn = {} as Record<keyof typeof FN, Fn>;
  for (const [name, i] of Object.entries(FN) as [keyof typeof FN, number][]) {
    fn[name] = koffi.decode(koffi.decode(table, i * 8, 'void *'), koffi.proto(protos[name].replace(/\bf\(/, `ort_${name}(`))) as Fn;
  }
  // the table must be the one these indices describe: a status must come back with its message
  const probe = 'neurox: C API table check';
  const st = fn.CreateStatus(1, probe);
  const msg = fn.GetErrorMessage(st);
  fn.ReleaseStatus(st);
  if (msg !== probe) throw new Error('ONNX Runtime C API table is not laid out as expected');
  const check = (status: Ptr, what: string) => {
    if (!status) return;
    const m = String(fn.GetErrorMessage(status));
    fn.ReleaseStatus(status);
    throw new Error(`${what}: ${m}`);
  };
  apiCache = { fn, check };
  return apiCache;
}

function out(f: (slot: unknown[]) => Ptr, what: string): Ptr {
  const slot: unknown[] = [null];
  api().check(f(slot), what);
  return slot[0];
}

/** Native memory with a JS view; freed with the session. */
class NativeBuf {
  readonly ptr: Ptr;
  readonly bytes: number;
  constructor(bytes: number) {
    this.bytes = Math.max(8, bytes);
    this.ptr = koffi.alloc('uint8_t', this.bytes);
  }
  f32(n: number): Float32Array {
    return new Float32Array(koffi.view(this.ptr, this.bytes), 0, n);
  }
  i64(n: number): BigInt64Array {
    return new BigInt64Array(koffi.view(this.ptr, this.bytes), 0, n);
  }
  free(): void {
    koffi.free(this.ptr);
  }
}


/**
 * One step model: inputs x [1,C,F], pos_code [1,C,P], t, past_k/past_v
 * [L,H,T,Dh] (+ speech, text when `streams`); outputs logits, embedding,
 * (surprise), new_k/new_v [L,H,1,Dh]. Views stay valid until the next
 * `shape()` with another C or T, or `release()`.
 */
export class DirectStepSession {
  x: Float32Array = new Float32Array(0);
  pos: Float32Array = new Float32Array(0);
  pastK: Float32Array = new Float32Array(0);
  pastV: Float32Array = new Float32Array(0);
  readonly t: BigInt64Array;
  readonly speech: BigInt64Array;
  readonly text: BigInt64Array;
  readonly logits: Float32Array;
  readonly embedding: Float32Array;
  readonly surprise: Float32Array;
  readonly newK: Float32Array;
  readonly newV: Float32Array;
  private readonly a: Api;
  private env: Ptr;
  private session: Ptr;
  private info: Ptr;
  private readonly d: StepDims;
  private readonly inNames: string[];
  private readonly outNames: string[];
  /** name → [buffer, OrtValue] */
  private readonly vals = new Map<string, [NativeBuf, Ptr]>();
  private readonly inPtrs: Ptr;
  private readonly outPtrs: Ptr;
  private readonly inNamePtrs: Ptr;
  private readonly outNamePtrs: Ptr;
  private readonly strings: Ptr[] = [];
  private C = -1;
  private T = -1;

  constructor(path: string, d: StepDims, opts: { intraOpThreads: number; optimization: keyof typeof OPT_LEVEL; inputs: string[]; outputs: string[] }) {
    this.a = api();
    const { fn, check } = this.a;
    this.d = d;
    this.inNames = ['x', 'pos_code', 't', 'past_k', 'past_v', ...['speech', 'text'].filter((n) => opts.inputs.includes(n))];
    this.outNames = ['logits', 'embedding', ...(opts.outputs.includes('surprise') ? ['surprise'] : []), 'new_k', 'new_v'];
    this.env = out((s) => fn.CreateEnv(2, 'neurox', s), 'CreateEnv');
    const so = out((s) => fn.CreateSessionOptions(s), 'CreateSessionOptions');
    try {
      check(fn.SetIntraOpNumThreads(so, opts.intraOpThreads), 'SetIntraOpNumThreads');
      check(fn.SetInterOpNumThreads(so, 1), 'SetInterOpNumThreads');
      check(fn.SetSessionExecutionMode(so, 0), 'SetSessionExecutionMode');
      check(fn.SetSessionGraphOptimizationLevel(so, OPT_LEVEL[opts.optimization]), 'SetSessionGraphOptimizationLevel');
      // fold int8 DequantizeLinear into float weights at load (see LoadOptions.optimization)
      check(fn.AddSessionConfigEntry(so, 'session.disable_quant_qdq', opts.optimization === 'basic' ? '1' : '0'), 'AddSessionConfigEntry');
      this.session = out((s) => fn.CreateSession(this.env, path, so, s), `cannot open ${path}`);
    } finally {
      fn.ReleaseSessionOptions(so);
    }
    this.info = out((s) => fn.CreateCpuMemoryInfo(0, 0, s), 'CreateCpuMemoryInfo');
    const names = (list: string[]) => {
      const arr = koffi.alloc('void *', list.length);
      list.forEach((n, i) => {
        const b = Buffer.from(`${n}\0`, 'utf8');
        const p = koffi.alloc('uint8_t', b.length);
        new Uint8Array(koffi.view(p, b.length)).set(b);
        this.strings.push(p);
        koffi.encode(arr, i * 8, 'void *', p);
      });
      return arr;
    };
    this.inNamePtrs = names(this.inNames);
    this.outNamePtrs = names(this.outNames);
    this.inPtrs = koffi.alloc('void *', this.inNames.length);
    this.outPtrs = koffi.alloc('void *', this.outNames.length);
    this.t = this.tensor('t', 'int64', [1]) as BigInt64Array;
    this.speech = this.inNames.includes('speech') ? (this.tensor('speech', 'int64', [1]) as BigInt64Array) : new BigInt64Array(1);
    this.text = this.inNames.includes('text') ? (this.tensor('text', 'int64', [1]) as BigInt64Array) : new BigInt64Array(1);
    this.logits = this.tensor('logits', 'float', [1, d.nLogits]) as Float32Array;
    this.embedding = this.tensor('embedding', 'float', [1, d.nEmb]) as Float32Array;
    this.surprise = this.outNames.includes('surprise') ? (this.tensor('surprise', 'float', [1]) as Float32Array) : new Float32Array([NaN]);
    this.newK = this.tensor('new_k', 'float', [d.L, d.H, 1, d.Dh]) as Float32Array;
    this.newV = this.tensor('new_v', 'float', [d.L, d.H, 1, d.Dh]) as Float32Array;
  }

  /** (Re)create the OrtValue `name` over native memory of `shape`; returns its JS view. */
  private tensor(name: string, type: keyof typeof ELEM, shape: number[]): Float32Array | BigInt64Array {
    const { fn } = this.a;
    const n = shape.reduce((p, q) => p * q, 1);
    const bytes = n * (type === 'float' ? 4 : 8);
    const old = this.vals.get(name);
    let buf = old?.[0];
    if (old) fn.ReleaseValue(old[1]);
    if (!buf || buf.bytes < bytes) {
      buf?.free();
      buf = new NativeBuf(Math.max(bytes, 2 * (buf?.bytes ?? 0)));
    }
    const dims = BigInt64Array.from(shape.map((v) => BigInt(v)));
    const val = out((s) => fn.CreateTensorWithDataAsOrtValue(this.info, buf!.ptr, bytes, dims, shape.length, ELEM[type], s), `tensor ${name}`);
    this.vals.set(name, [buf, val]);
    const isIn = this.inNames.indexOf(name);
    if (isIn >= 0) koffi.encode(this.inPtrs, isIn * 8, 'void *', val);
    const isOut = this.outNames.indexOf(name);
    if (isOut >= 0) koffi.encode(this.outPtrs, isOut * 8, 'void *', val);
    return type === 'float' ? buf.f32(n) : buf.i64(n);
  }

  /** Input shapes for C channels and T cached frames (no-op when unchanged). */
  shape(C: number, T: number): void {
    const d = this.d;
    if (C !== this.C) {
      this.x = this.tensor('x', 'float', [1, C, d.F]) as Float32Array;
      this.pos = this.tensor('pos_code', 'float', [1, C, d.P]) as Float32Array;
    }
    if (T !== this.T) {
      this.pastK = this.tensor('past_k', 'float', [d.L, d.H, T, d.Dh]) as Float32Array;
      this.pastV = this.tensor('past_v', 'float', [d.L, d.H, T, d.Dh]) as Float32Array;
    }
    this.C = C;
    this.T = T;
  }

  /** One step: ORT reads the input views and writes the output views. */
  run(): void {
    const { fn, check } = this.a;
    check(fn.Run(this.session, null, this.inNamePtrs, this.inPtrs, this.inNames.length, this.outNamePtrs, this.outNames.length, this.outPtrs), 'Run');
  }

  release(): void {
    const { fn } = this.a;
    for (const [buf, val] of this.vals.values()) {
      fn.ReleaseValue(val);
      buf.free();
    }
    this.vals.clear();
    for (const p of [this.inPtrs, this.outPtrs, this.inNamePtrs, this.outNamePtrs, ...this.strings]) koffi.free(p);
    this.strings.length = 0;
    if (this.session) fn.ReleaseSession(this.session);
    if (this.info) fn.ReleaseMemoryInfo(this.info);
    if (this.env) fn.ReleaseEnv(this.env);
    this.session = this.info = this.env = null;
  }
}
