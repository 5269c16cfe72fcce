/**
 * The protocol boundary on its own: the messages that used to kill the runtime,
 * nesting and size limits checked on the raw bytes, error texts that never carry
 * the client's value, and random bytes that never make the decoder throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { decodeClientMessage, jsonDepth, MAX_DEPTH, MAX_MESSAGE_BYTES, msgpackProblem } from '../../adapters/ws/guard.ts';
import { mulberry32 } from '../../src/dsp/chunk.ts';

const bigPackr = new Packr({ useRecords: false });
const errorOf = (r: ReturnType<typeof decodeClientMessage>) => {
  assert.ok('error' in r, `expected an error, got ${JSON.stringify(r)}`);
  return r.error;
};

test('the 17-byte msgpack message with a 64-bit integer type is an error, not a crash', () => {
  // fixmap(1), fixstr "type", uint64 2^63 + 5: 15 bytes, written by hand.
  const buf = Buffer.from([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 5]);
  assert.deepEqual(bigPackr.unpack(buf), { type: 2n ** 63n + 5n });
  const e = errorOf(decodeClientMessage(buf, true, 'msgpack'));
  assert.equal(e.code, 'bad-field');
  assert.match(e.message, /message\.type must be a string/);
  // The same value in other fields.
  const f = errorOf(decodeClientMessage(bigPackr.pack({ type: 'feedback', seq: 2n ** 64n - 1n, reward: 1 }), true, 'msgpack'));
  assert.equal(f.code, 'bad-field');
  assert.match(f.message, /feedback\.seq must be an integer/);
});

test('deep JSON nesting is refused before parsing, shallow nesting is parsed', () => {
  const deep = '{"type":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
  assert.equal(jsonDepth(deep), -1);
  const e = errorOf(decodeClientMessage(Buffer.from(deep.slice(0, MAX_MESSAGE_BYTES)), false, 'json'));
  assert.equal(e.code, 'too-deep');
  // Brackets inside strings do not count.
  assert.equal(jsonDepth('{"label":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'), 1);
  assert.equal(jsonDepth('{"a":"\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[","b":[1]}'), 2);
  const ok = decodeClientMessage(Buffer.from(JSON.stringify({ type: 'ping', t: 1, x: [[[1]]] })), false, 'json');
  assert.deepEqual(ok, { type: 'ping', t: 1 });
});

test('msgpack nesting, truncation, trailing bytes and extension types are caught on the bytes', () => {
  let v: unknown = 1;
  for (let i = 0; i < MAX_DEPTH + 2; i++) v = [v];
  const deep = bigPackr.pack({ type: 'ping', t: 1, x: v });
  assert.match(msgpackProblem(deep) ?? '', /nesting deeper/);
  const e = errorOf(decodeClientMessage(deep, true, 'msgpack'));
  assert.match(e.message, /nesting deeper than 8/);
  // A 4-byte array header that claims 2^32-1 items in a 5-byte message.
  assert.match(msgpackProblem(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])) ?? '', /truncated/);
  assert.match(msgpackProblem(Buffer.from([0xc0, 0xc0])) ?? '', /after the end/);
  assert.match(msgpackProblem(Buffer.from([0xd4, 0x01, 0x02])) ?? '', /extension/);
  assert.equal(msgpackProblem(bigPackr.pack({ type: 'ping', t: 1.5, l: 'x'.repeat(300), b: Buffer.alloc(10) })), null);
});

test('error texts name the field and the expected type, never the value', () => {
  const secret = 'SECRET-' + 'x'.repeat(2000);
  const cases: [unknown, RegExp][] = [
    [{ type: secret }, /unknown message type \(a string of 2007 chars\)/],
    [{ type: 'feedback', seq: secret, reward: 1 }, /feedback\.seq must be an integer, got a string/],
    [{ type: 'feedback', seq: 1, label: secret }, /feedback\.label must be a string of 1–256 chars/],
    [{ type: 'ping', t: secret }, /ping\.t must be a finite number/],
    [[secret], /message must be an object, got an array of 1/],
    [secret, /message must be an object, got a string/],
  ];
  for (const [v, re] of cases) {
    for (const f of ['json', 'msgpack'] as const) {
      const buf = f === 'json' ? Buffer.from(JSON.stringify(v)) : bigPackr.pack(v);
      const e = errorOf(decodeClientMessage(buf, f === 'msgpack', f));
      assert.match(e.message, re);
      assert.ok(!e.message.includes('SECRET'), 'the value is not echoed');
      assert.ok(e.message.length < 200);
    }
  }
  assert.equal(errorOf(decodeClientMessage(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20), false, 'json')).code, 'too-large');
  assert.equal(errorOf(decodeClientMessage(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false, 'json')).code, 'bad-encoding');
  assert.equal(errorOf(decodeClientMessage(Buffer.from('{}'), true, 'json')).code, 'bad-message');
  // Prototype keys are data, not prototypes.
  const proto = decodeClientMessage(Buffer.from('{"__proto__":{"type":"ping"},"t":1}'), false, 'json');
  assert.equal(errorOf(proto).code, 'bad-field');
});

test('200,000 random byte strings and mutated valid messages never make the decoder throw', () => {
  const rnd = mulberry32(12345);
  const valid = [bigPackr.pack({ type: 'ping', t: 1 }), bigPackr.pack({ type: 'feedback', seq: 3, reward: 0.5, label: 'left' })];
  let errors = 0;
  for (let i = 0; i < 200_000; i++) {
    let b: Buffer;
    if (i % 2) {
      b = Buffer.from(valid[i % 4 === 1 ? 0 : 1]!);
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    } else {
      b = Buffer.alloc(Math.floor(rnd() * 40));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
    }
    const fmt = i % 3 === 0 ? 'json' : 'msgpack';
    const r = decodeClientMessage(b, fmt === 'msgpack' || i % 5 === 0, fmt);
    if ('error' in r) {
      errors++;
      assert.equal(typeof r.error.message, 'string');
    } else assert.ok(r.type === 'ping' || r.type === 'feedback');
  }
  assert.ok(errors > 150_000, `${errors} errors`);
});
