/**
 * The protocol boundary: every byte a client sends passes through
 * `decodeClientMessage`, which never throws. Size and nesting are checked on the
 * raw bytes before any value is built, and error texts name the field and the
 * expected type, never the client's value (a value can be a 64-bit integer that
 * JSON.stringify rejects, a string of megabytes, or a structure thousands of
 * levels deep).
 */
import { Unpackr } from 'msgpackr';
import { CLIENT_SCHEMAS, MAX_STRING, type ClientMessage, type ErrorMessage, type WireFormat } from './protocol.ts';

/**
 * Largest client message, in bytes. Client messages are control messages of a
 * few hundred bytes at most (a feedback with a label is under 100); 4 KiB leaves
 * room for later fields. The socket layer closes a client that sends more with
 * 1009 and a reason.
 */
export const MAX_MESSAGE_BYTES = 4096;
/** Deepest nesting of arrays/objects accepted in a client message (ours are 1–2 deep). */
export const MAX_DEPTH = 8;
export { MAX_STRING };

// int64 as plain numbers: a BigInt must never reach code that formats values.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Err = { error: ErrorMessage };
const fail = (code: ErrorMessage['code'], message: string): Err => ({ error: { type: 'error', code, message } });

/** What a value is, for error texts: its type and size, never its content. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Uint8Array) return `binary of ${v.length} bytes`;
  switch (typeof v) {
    case 'string': return `a string of ${v.length} chars`;
    case 'number': return Number.isFinite(v) ? (Number.isInteger(v) ? 'an integer' : 'a number') : 'a non-finite number';
    case 'bigint': return 'a 64-bit integer';
    case 'boolean': return 'a boolean';
    case 'undefined': return 'nothing';
    case 'object': return 'an object';
    default: return typeof v;
  }
}

/**
 * Nesting depth of a JSON text, scanned without parsing (strings skipped), or
 * -1 as soon as it exceeds `limit`.
 */
export function jsonDepth(s: string, limit = MAX_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return -1;
      if (depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Walk one MessagePack value over the raw bytes without building it: checks that
 * every length fits in the buffer, that nesting stays within `limit`, that the
 * value uses no extension types (the protocol has none; msgpackr would turn some
 * into records or dates) and that nothing follows it. Returns null when the bytes
 * are acceptable, otherwise the reason.
 */
export function msgpackProblem(b: Uint8Array, limit = MAX_DEPTH): string | null {
  let p = 0;
  // Items still expected at each open container level (maps count keys and values).
  const pending: number[] = [1];
  const need = (n: number): boolean => p + n <= b.length;
  const readUint = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[p + i]!;
    p += n;
    return v;
  };
  while (pending.length > 0) {
    if (pending[pending.length - 1] === 0) {
      pending.pop();
      continue;
    }
    pending[pending.length - 1]!--;
    if (!need(1)) return 'truncated MessagePack value';
    const t = b[p++]!;
    let open = -1; // items of a container that starts here
    let skip = 0; // payload bytes to skip
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) skip = 0;
    else if (t >= 0x80 && t <= 0x8f) open = 2 * (t & 0x0f);
    else if (t >= 0x90 && t <= 0x9f) open = t & 0x0f;
    else if (t >= 0xa0 && t <= 0xbf) skip = t & 0x1f;
    else {
      switch (t) {
        case 0xc4: case 0xd9: if (!need(1)) return 'truncated MessagePack length'; skip = readUint(1); break;
        case 0xc5: case 0xda: if (!need(2)) return 'truncated MessagePack length'; skip = readUint(2); break;
        case 0xc6: case 0xdb: if (!need(4)) return 'truncated MessagePack length'; skip = readUint(4); break;
        case 0xca: skip = 4; break;
        case 0xcb: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xdc: if (!need(2)) return 'truncated MessagePack length'; open = readUint(2); break;
        case 0xdd: if (!need(4)) return 'truncated MessagePack length'; open = readUint(4); break;
        case 0xde: if (!need(2)) return 'truncated MessagePack length'; open = 2 * readUint(2); break;
        case 0xdf: if (!need(4)) return 'truncated MessagePack length'; open = 2 * readUint(4); break;
        case 0xc1: return 'invalid MessagePack type byte 0xc1';
        default: return 'MessagePack extension types are not part of the protocol';
      }
    }
    if (open >= 0) {
      if (pending.length >= limit + 1) return `nesting deeper than ${limit} levels`;
      // Every item takes at least one byte: a count beyond the buffer is a lie.
      if (open > b.length - p) return 'truncated MessagePack container';
      pending.push(open);
      continue;
    }
    if (!need(skip)) return 'truncated MessagePack value';
    p += skip;
  }
  if (p !== b.length) return `${b.length - p} bytes after the end of the MessagePack value`;
  return null;
}

/** Bytes of a ws message, whatever shape ws handed it over in. */
function bytesOf(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/**
 * Decode and validate one client message. Never throws: any problem comes back
 * as the `error` message to send to the client.
 */
export function decodeClientMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean, format: WireFormat): ClientMessage | Err {
  try {
    const buf = bytesOf(data);
    if (buf.length > MAX_MESSAGE_BYTES) return fail('too-large', `message of ${buf.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
    let raw: unknown;
    if (isBinary && format === 'msgpack') {
      const problem = msgpackProblem(buf);
      if (problem) return fail('bad-message', `cannot decode msgpack message: ${problem}`);
      raw = unpackr.unpack(buf);
    } else {
      if (isBinary) return fail('bad-message', 'binary frame on the JSON subprotocol: send JSON as text frames');
      let text: string;
      try {
        text = utf8.decode(buf);
      } catch {
        return fail('bad-encoding', 'text frame is not valid UTF-8');
      }
      if (jsonDepth(text) < 0) return fail('too-deep', `message nests deeper than ${MAX_DEPTH} levels`);
      try {
        raw = JSON.parse(text);
      } catch {
        return fail('bad-message', 'cannot decode JSON message: not valid JSON');
      }
    }
    return parseClientMessage(raw);
  } catch {
    // Not reached with the checks above; kept so the boundary cannot throw whatever a library does.
    return fail('bad-message', 'message could not be decoded');
  }
}

const own = (m: Record<string, unknown>, k: string): unknown => (Object.hasOwn(m, k) ? m[k] : undefined);

/** The value at a zod issue's path, read through own properties only. */
function at(m: unknown, path: readonly PropertyKey[]): unknown {
  let v = m;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || typeof k === 'symbol') return undefined;
    v = Array.isArray(v) ? (v as unknown[])[Number(k)] : own(v as Record<string, unknown>, String(k));
  }
  return v;
}

const TYPES = Object.keys(CLIENT_SCHEMAS) as (keyof typeof CLIENT_SCHEMAS)[];

/**
 * Validate a decoded client message against the protocol's schema; returns it typed
 * or an error naming the field and the expected type (never the value).
 */
export function parseClientMessage(raw: unknown): ClientMessage | Err {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array)
    return fail('bad-message', `message must be an object, got ${describe(raw)}`);
  const m = raw as Record<string, unknown>;
  const type = own(m, 'type');
  if (typeof type !== 'string') return fail('bad-field', `message.type must be a string, got ${describe(type)}`);
  if (!Object.hasOwn(CLIENT_SCHEMAS, type)) return fail('unknown-type', `unknown message type (${describe(type)}); expected ${TYPES.join(', ')}`);
  const schema = CLIENT_SCHEMAS[type as keyof typeof CLIENT_SCHEMAS];
  // Only own, known fields reach the schema: no prototype keys, nothing unbounded.
  const r = schema.safeParse(raw);
  if (r.success) return r.data as ClientMessage;
  const issue = r.error.issues[0]!;
  if (issue.path.length === 0) return fail('bad-field', `${type} ${issue.message}`);
  const field = issue.path.map(String).join('.');
  return fail('bad-field', `${type}.${field} ${issue.message}, got ${describe(at(m, issue.path))}`);
}
