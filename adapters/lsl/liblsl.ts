/**
 * Finds and binds the real liblsl through koffi.
 *
 * Search order (DESIGN.md): $NEUROX_LIBLSL, then the system library, then the
 * binary shipped inside the `lsl.js` npm package (only its binary is used; its
 * own FFI layer does not build on Node 20+).
 */
import koffi from 'koffi';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** liblsl channel formats (lsl_channel_format_t). */
export const CF = {
  float32: 1,
  double64: 2,
  string: 3,
  int32: 4,
  int16: 5,
  int8: 6,
  int64: 7,
} as const;
export type ChannelFormat = keyof typeof CF;
export const CF_NAME: Record<number, ChannelFormat> = Object.fromEntries(
  Object.entries(CF).map(([k, v]) => [v, k as ChannelFormat]),
) as Record<number, ChannelFormat>;

/** Thrown when no liblsl could be loaded; the message lists every place tried. */
export class LiblslNotFoundError extends Error {
  constructor(public readonly tried: { path: string; error: string }[]) {
    super(
      'liblsl could not be loaded. Tried:\n' +
        tried.map((t) => `  - ${t.path}: ${t.error}`).join('\n') +
        '\nSet NEUROX_LIBLSL=/path/to/liblsl.so (or .dylib/.dll), install liblsl system-wide, ' +
        'or run `npm install` so that the lsl.js package (which ships a liblsl binary) is present.',
    );
    this.name = 'LiblslNotFoundError';
  }
}

function bundledCandidates(): string[] {
  try {
    const req = createRequire(import.meta.url);
    const dir = join(dirname(req.resolve('lsl.js/package.json')), 'prebuilt');
    const is64 = process.arch === 'x64' || process.arch === 'arm64';
    if (process.platform === 'linux') return [join(dir, is64 ? 'liblsl64.so' : 'liblsl32.so')];
    if (process.platform === 'darwin')
      return [join(dir, process.arch === 'arm64' ? 'liblslarm.dylib' : 'liblsl64.dylib')];
    if (process.platform === 'win32') return [join(dir, is64 ? 'liblsl64.dll' : 'liblsl32.dll')];
  } catch {
    /* package absent: fall through */
  }
  return [];
}

function systemCandidates(): string[] {
  if (process.platform === 'darwin') return ['liblsl.dylib', '/usr/local/lib/liblsl.dylib', '/opt/homebrew/lib/liblsl.dylib'];
  if (process.platform === 'win32') return ['lsl.dll', 'liblsl64.dll'];
  return ['liblsl.so', 'liblsl.so.2', 'liblsl.so.1', '/usr/lib/liblsl.so', '/usr/local/lib/liblsl.so'];
}

/** Ordered list of places liblsl is looked for. */
export function liblslCandidates(): string[] {
  const env = process.env.NEUROX_LIBLSL;
  // An explicit choice is honoured or reported, never silently replaced by another library.
  if (env) return [env];
  return [...systemCandidates(), ...bundledCandidates()];
}

function loadFirst(): { lib: koffi.IKoffiLib; path: string } {
  const tried: { path: string; error: string }[] = [];
  for (const p of liblslCandidates()) {
    if (p.includes('/') && !existsSync(p)) {
      tried.push({ path: p, error: 'no such file' });
      continue;
    }
    try {
      return { lib: koffi.load(p), path: p };
    } catch (e) {
      tried.push({ path: p, error: (e as Error).message.split('\n')[0] ?? String(e) });
    }
  }
  throw new LiblslNotFoundError(tried);
}

function bind(lib: koffi.IKoffiLib) {
  const f = (sig: string) => lib.func(sig);
  const fns = {
    lsl_library_version: f('int lsl_library_version()'),
    lsl_protocol_version: f('int lsl_protocol_version()'),
    lsl_local_clock: f('double lsl_local_clock()'),
    lsl_destroy_string: f('void lsl_destroy_string(void *s)'),

    lsl_create_streaminfo: f(
      'void *lsl_create_streaminfo(const char *name, const char *type, int channel_count, double nominal_srate, int channel_format, const char *source_id)',
    ),
    lsl_destroy_streaminfo: f('void lsl_destroy_streaminfo(void *info)'),
    lsl_streaminfo_from_xml: f('void *lsl_streaminfo_from_xml(const char *xml)'),
    lsl_get_name: f('const char *lsl_get_name(void *info)'),
    lsl_get_type: f('const char *lsl_get_type(void *info)'),
    lsl_get_channel_count: f('int lsl_get_channel_count(void *info)'),
    lsl_get_nominal_srate: f('double lsl_get_nominal_srate(void *info)'),
    lsl_get_channel_format: f('int lsl_get_channel_format(void *info)'),
    lsl_get_source_id: f('const char *lsl_get_source_id(void *info)'),
    lsl_get_uid: f('const char *lsl_get_uid(void *info)'),
    lsl_get_hostname: f('const char *lsl_get_hostname(void *info)'),
    lsl_get_session_id: f('const char *lsl_get_session_id(void *info)'),
    lsl_get_created_at: f('double lsl_get_created_at(void *info)'),
    lsl_get_version: f('int lsl_get_version(void *info)'),
    lsl_get_xml: f('void *lsl_get_xml(void *info)'),
    lsl_get_desc: f('void *lsl_get_desc(void *info)'),

    // XML DOM of the desc element (avoids an XML parser of our own).
    lsl_first_child: f('void *lsl_first_child(void *e)'),
    lsl_next_sibling: f('void *lsl_next_sibling(void *e)'),
    lsl_child: f('void *lsl_child(void *e, const char *name)'),
    lsl_empty: f('int lsl_empty(void *e)'),
    lsl_is_text: f('int lsl_is_text(void *e)'),
    lsl_name: f('const char *lsl_name(void *e)'),
    lsl_value: f('const char *lsl_value(void *e)'),
    lsl_child_value: f('const char *lsl_child_value(void *e)'),
    lsl_append_child: f('void *lsl_append_child(void *e, const char *name)'),
    lsl_append_child_value: f('void *lsl_append_child_value(void *e, const char *name, const char *value)'),

    lsl_create_outlet: f('void *lsl_create_outlet(void *info, int chunk_size, int max_buffered)'),
    lsl_destroy_outlet: f('void lsl_destroy_outlet(void *out)'),
    lsl_have_consumers: f('int lsl_have_consumers(void *out)'),
    lsl_push_chunk_ftn: f('int lsl_push_chunk_ftn(void *out, const float *data, unsigned long n, const double *ts)'),
    lsl_push_chunk_dtn: f('int lsl_push_chunk_dtn(void *out, const double *data, unsigned long n, const double *ts)'),
    lsl_push_chunk_itn: f('int lsl_push_chunk_itn(void *out, const int32_t *data, unsigned long n, const double *ts)'),
    lsl_push_chunk_stn: f('int lsl_push_chunk_stn(void *out, const int16_t *data, unsigned long n, const double *ts)'),
    lsl_push_chunk_ctn: f('int lsl_push_chunk_ctn(void *out, const int8_t *data, unsigned long n, const double *ts)'),
    lsl_push_chunk_strtn: f('int lsl_push_chunk_strtn(void *out, const char **data, unsigned long n, const double *ts)'),

    lsl_resolve_all: f('int lsl_resolve_all(_Out_ uint8_t *buffer, unsigned int n, double wait_time)'),
    lsl_resolve_byprop: f(
      'int lsl_resolve_byprop(_Out_ uint8_t *buffer, unsigned int n, const char *prop, const char *value, int minimum, double timeout)',
    ),
    lsl_resolve_bypred: f(
      'int lsl_resolve_bypred(_Out_ uint8_t *buffer, unsigned int n, const char *pred, int minimum, double timeout)',
    ),
    lsl_create_continuous_resolver: f('void *lsl_create_continuous_resolver(double forget_after)'),
    lsl_create_continuous_resolver_bypred: f('void *lsl_create_continuous_resolver_bypred(const char *pred, double forget_after)'),
    lsl_resolver_results: f('int lsl_resolver_results(void *res, _Out_ uint8_t *buffer, unsigned int n)'),
    lsl_destroy_continuous_resolver: f('void lsl_destroy_continuous_resolver(void *res)'),

    lsl_create_inlet: f('void *lsl_create_inlet(void *info, int max_buflen, int max_chunklen, int recover)'),
    lsl_destroy_inlet: f('void lsl_destroy_inlet(void *in)'),
    lsl_get_fullinfo: f('void *lsl_get_fullinfo(void *in, double timeout, _Out_ int *ec)'),
    lsl_open_stream: f('void lsl_open_stream(void *in, double timeout, _Out_ int *ec)'),
    lsl_close_stream: f('void lsl_close_stream(void *in)'),
    lsl_time_correction: f('double lsl_time_correction(void *in, double timeout, _Out_ int *ec)'),
    lsl_samples_available: f('unsigned int lsl_samples_available(void *in)'),
    lsl_was_clock_reset: f('unsigned int lsl_was_clock_reset(void *in)'),
    lsl_pull_sample_f: f('double lsl_pull_sample_f(void *in, _Out_ float *buf, int n, double timeout, _Out_ int *ec)'),
    lsl_pull_chunk_f: f(
      'unsigned long lsl_pull_chunk_f(void *in, _Out_ float *data, _Out_ double *ts, unsigned long n, unsigned long nts, double timeout, _Out_ int *ec)',
    ),
    lsl_pull_chunk_d: f(
      'unsigned long lsl_pull_chunk_d(void *in, _Out_ double *data, _Out_ double *ts, unsigned long n, unsigned long nts, double timeout, _Out_ int *ec)',
    ),
    lsl_pull_chunk_i: f(
      'unsigned long lsl_pull_chunk_i(void *in, _Out_ int32_t *data, _Out_ double *ts, unsigned long n, unsigned long nts, double timeout, _Out_ int *ec)',
    ),
    lsl_pull_chunk_s: f(
      'unsigned long lsl_pull_chunk_s(void *in, _Out_ int16_t *data, _Out_ double *ts, unsigned long n, unsigned long nts, double timeout, _Out_ int *ec)',
    ),
    lsl_pull_chunk_c: f(
      'unsigned long lsl_pull_chunk_c(void *in, _Out_ int8_t *data, _Out_ double *ts, unsigned long n, unsigned long nts, double timeout, _Out_ int *ec)',
    ),
    // Strings are allocated by liblsl: raw pointer buffer, decoded and freed by us.
    lsl_pull_chunk_str: f(
      'unsigned long lsl_pull_chunk_str(void *in, _Out_ uint8_t *data, _Out_ double *ts, unsigned long n, unsigned long nts, double timeout, _Out_ int *ec)',
    ),
  };
  return fns;
}

export type Liblsl = ReturnType<typeof bind> & { path: string; version: number; protocol: number };

let cached: Liblsl | undefined;

/** The loaded liblsl (loaded on first use, once per thread). Throws LiblslNotFoundError. */
export function liblsl(): Liblsl {
  if (cached) return cached;
  const { lib, path } = loadFirst();
  const fns = bind(lib);
  cached = { ...fns, path, version: fns.lsl_library_version() as number, protocol: fns.lsl_protocol_version() as number };
  return cached;
}

/** Read and free a liblsl-allocated C string. */
export function takeString(ptr: unknown): string {
  if (!ptr) return '';
  const s = koffi.decode(ptr, 'char', -1) as string;
  liblsl().lsl_destroy_string(ptr);
  return s;
}

export { localClock } from '../../src/util/clock.ts';

/** liblsl error codes (lsl_error_code_t). */
export const LSL_ERR: Record<number, string> = {
  0: 'no error',
  [-1]: 'timeout',
  [-2]: 'stream lost',
  [-3]: 'argument error',
  [-4]: 'internal error',
};
