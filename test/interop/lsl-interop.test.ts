/**
 * Interop with the real liblsl in a separate process (test/interop/lsl_peer.c, plain C,
 * none of our code): our outlet → C inlet, and C outlet → our inlet (the runtime's
 * worker-thread source), for every channel format, exact values and timestamps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, filter, scan, takeWhile, last, timeout } from 'rxjs';
import { StreamOutlet, resolveStreams, inletSource, type ChannelFormat } from '../../adapters/lsl/index.ts';
import type { Chunk, MarkerChunk, SignalChunk } from '../../src/types.ts';
import { runPeer, waitForLine } from '../helpers/peer.ts';

// Same formulas as lsl_peer.c.
const value = (i: number, c: number) => ((i * 7 + c * 3) % 200) - 100 + (c % 4) * 0.25;
const stamp = (i: number) => 1000.123456789 + i / 512 + (i % 3) * 1e-7;
function expected(fmt: ChannelFormat, i: number, c: number): number | string {
  const v = value(i, c);
  switch (fmt) {
    case 'float32': return Math.fround(v);
    case 'double64': return v + 1e-9 * c;
    case 'int32': return Math.trunc(v * 4) * 1000 + 0;
    case 'int16': return Math.trunc(v * 4) + 0;
    case 'int8': return (Math.trunc(v) % 100) + 0; // + 0 turns -0 into 0
    case 'string': return `s${i}_${c}_ä`;
    default: throw new Error(fmt);
  }
}

const FORMATS: ChannelFormat[] = ['float32', 'double64', 'int32', 'int16', 'int8', 'string'];
const N = 600;

for (const fmt of FORMATS) {
  const C = fmt === 'string' ? 2 : 4;

  test(`C liblsl outlet → neurox inlet: ${fmt} round-trips exactly`, async () => {
    const name = `peer-out-${fmt}-${process.pid}`;
    const peer = runPeer(['outlet', name, fmt, String(C), '512', String(N)]);
    try {
      const [meta] = await resolveStreams({ prop: 'name', value: name }, { timeout: 10 });
      assert.ok(meta, 'peer stream resolved');
      assert.equal(meta.format, fmt);
      const data$ = inletSource(meta, { stallAfter: 30 }).pipe(
        filter((c: Chunk): c is SignalChunk | MarkerChunk => c.kind === 'signal' || c.kind === 'marker'),
        scan((acc, c) => [...acc, c], [] as (SignalChunk | MarkerChunk)[]),
        takeWhile((acc) => acc.reduce((n, c) => n + c.timestamps.length, 0) < N, true),
        last(),
        timeout(30000),
      );
      const chunks = await firstValueFrom(data$);
      const ts = chunks.flatMap((c) => [...c.timestamps]);
      assert.equal(ts.length, N);
      for (let i = 0; i < N; i++) assert.equal(ts[i], stamp(i), `timestamp ${i}`);
      const vals: (number | string)[] = chunks.flatMap((c): (number | string)[] =>
        c.kind === 'marker' ? (c.values ?? c.markers) : Array.from(c.raw ?? c.data),
      );
      assert.equal(vals.length, N * C);
      for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) assert.equal(vals[i * C + c], expected(fmt, i, c), `sample ${i} ch ${c}`);
    } finally {
      peer.proc.kill();
    }
  });

  test(`neurox outlet → C liblsl inlet: ${fmt} round-trips exactly`, async () => {
    const name = `peer-in-${fmt}-${process.pid}`;
    const out = new StreamOutlet({ name, type: 'Interop', channelCount: C, srate: 512, format: fmt, sourceId: name });
    const peer = runPeer(['inlet', name, String(N)]);
    try {
      await waitForLine(peer.proc, 'ready');
      await new Promise((r) => setTimeout(r, 300));
      const ts = Float64Array.from({ length: N }, (_, i) => stamp(i));
      if (fmt === 'string') {
        out.pushStrings(Array.from({ length: N * C }, (_, k) => expected(fmt, Math.floor(k / C), k % C) as string), ts);
      } else {
        const Ctor = { float32: Float32Array, double64: Float64Array, int32: Int32Array, int16: Int16Array, int8: Int8Array }[fmt as 'float32'];
        out.pushChunk(Ctor.from({ length: N * C }, (_, k) => expected(fmt, Math.floor(k / C), k % C) as number), ts);
      }
      const lines = (await peer.stdout).trim().split('\n').filter((l) => l !== 'ready');
      assert.equal(lines.length, N);
      lines.forEach((line, i) => {
        const [t, ...v] = line.split(' ');
        assert.equal(Number(t), stamp(i), `timestamp ${i}`);
        assert.equal(v.length, C);
        v.forEach((s, c) => {
          const e = expected(fmt, i, c);
          if (fmt === 'string') assert.equal(s, e);
          else if (fmt === 'float32') assert.equal(Math.fround(Number(s)), e, `sample ${i} ch ${c}`);
          else assert.equal(Number(s), e, `sample ${i} ch ${c}`);
        });
      });
    } finally {
      peer.proc.kill();
      out.close();
    }
  });
}
