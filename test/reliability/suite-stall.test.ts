/**
 * A stall: the runtime's event loop is blocked for 2 s (NEUROX_STALL_SECONDS) while
 * a session records. The inlet workers stop at their in-flight bound and leave the
 * backlog in liblsl's buffer instead of queueing a message per pull, so the backlog
 * arrives in a few large chunks; every sample still reaches the recording (counter
 * channel, no gap); the frames cut from the backlog are too old and are dropped
 * (counted in the status), so no intent is made from data older than the
 * maximum frame age; intents go on with consecutive sequence numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localClock } from '../../adapters/lsl/index.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { IntentMessage, StatusMessage } from '../../adapters/ws/protocol.ts';
import { readXdf } from '../../adapters/xdf/index.ts';
import { SessionRecorder } from '../../src/session/record.ts';
import { runSession } from '../../src/session/run.ts';
import { CounterCheck, counterOutlet } from '../helpers/counter-process.ts';
import { calibratedDecoder, recordedCounter, untilCount } from '../helpers/suite.ts';

const STALL_S = Number(process.env.NEUROX_STALL_SECONDS ?? 2);
const C = 16;
const SRATE = 1000;
const HOP = 0.08;
const MAX_AGE = 4 * HOP; // the pipeline's default maximum frame age
/** The source's default in-flight bound (LslSourceOptions.maxInFlight). */
const IN_FLIGHT = 8;

test(`event loop blocked ${STALL_S} s: bounded inlet queue, nothing lost, no stale intent`, { timeout: (STALL_S + 90) * 1000 }, async (t) => {
  const name = `suite-stall-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'neurox-stall-'));
  const file = join(dir, 'stall.xdf');
  const decoder = calibratedDecoder(C, SRATE);
  const proc = counterOutlet({ name, sourceId: `${name}-src`, channels: C, srate: SRATE, t0: localClock() });
  const rec = await SessionRecorder.open(file, { headerFields: { neurox_hop: String(HOP), neurox_window: '1' } });
  const s = await runSession({ signal: { prop: 'name', value: name }, markers: null, port: 0, decoder, hop: HOP });
  const counter = new CounterCheck();
  let gaps = 0;
  const chunks: { arrivedAt: number; handledAt: number; samples: number }[] = [];
  s.onRawChunk((c) => {
    rec.write(c);
    if (c.kind === 'gap') gaps++;
    if (c.kind === 'signal') {
      counter.add(c.data, C);
      chunks.push({ arrivedAt: c.arrivedAt!, handledAt: localClock(), samples: c.timestamps.length });
    }
  });
  s.onIntent((i) => rec.intent(i));
  const client = await NeuroxClient.connect(`ws://127.0.0.1:${s.port}`, { format: 'json' });
  const intents: IntentMessage[] = [];
  const statuses: StatusMessage[] = [];
  client.on('intent', (i) => intents.push(i));
  client.on('message', (m) => m.type === 'status' && statuses.push(m));
  let stall = { from: 0, to: 0 };
  try {
    await untilCount(() => intents.length, 30, 30000, 'intents before the stall');
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        const from = localClock();
        const t0 = Date.now();
        while (Date.now() - t0 < STALL_S * 1000);
        stall = { from, to: localClock() };
        resolve();
      }, 10),
    );
    const before = intents.findIndex((i) => i.tEmit >= stall.to);
    await untilCount(() => intents.length, (before < 0 ? intents.length : before) + 40, 30000, 'intents after the stall');
  } finally {
    client.close();
    proc.kill('SIGKILL');
    await s.stop();
    await rec.close();
  }
  try {
    // The bound: chunks whose samples reached the inlet during the stall. One message per
    // outlet push (20 ms) would be ~50 per second; bounded, at most IN_FLIGHT went out
    // before the worker held back, then the backlog in ≤ 1 s pieces.
    const during = chunks.filter((c) => c.arrivedAt >= stall.from && c.arrivedAt <= stall.to);
    const biggest = Math.max(...chunks.map((c) => c.samples));
    t.diagnostic(`stall ${(stall.to - stall.from).toFixed(2)} s: ${during.length} chunks carried its samples (${during.reduce((a, c) => a + c.samples, 0)} samples, biggest chunk ${biggest}); ${chunks.length} chunks in all`);
    assert.ok(during.length <= IN_FLIGHT + Math.ceil(STALL_S) + 2, `queue bounded: ${during.length} chunks for the stall`);
    assert.ok(biggest <= SRATE, `no chunk over 1 s of samples: ${biggest}`);
    // Nothing lost.
    assert.equal(counter.missing, 0, 'no sample missing');
    assert.equal(counter.duplicated, 0, 'no sample duplicated');
    assert.equal(gaps, 0, 'a stall of the runtime is not a gap in the stream');
    // No stale intent: each intent's frame ended at most the maximum age (plus one hop,
    // the frame's own cut delay) before it was emitted; sender clock ≈ local here.
    // (Only intents emitted after the stall: the first frames of a session can come from
    // the samples an outlet hands a new inlet at once, which is another matter.)
    const ages = intents.filter((i) => i.tEmit >= stall.from).map((i) => i.tEmit - i.tFrame);
    const oldest = Math.max(...ages);
    t.diagnostic(`oldest frame at emission after the stall ${(oldest * 1000).toFixed(1)} ms (${ages.length} intents); stale frames ${s.pipeline.staleFrames}`);
    assert.ok(oldest <= MAX_AGE + HOP, `no intent from data older than the maximum age: ${oldest.toFixed(3)} s`);
    assert.ok(s.pipeline.staleFrames >= Math.floor(STALL_S / HOP) - IN_FLIGHT, `the stalled frames were dropped: ${s.pipeline.staleFrames}`);
    assert.ok(statuses.some((m) => (m.staleFrames ?? 0) >= 1), 'a status told the clients');
    intents.forEach((i, k) => k > 0 && assert.equal(i.seq, intents[k - 1]!.seq + 1, 'seq consecutive'));
    assert.ok(intents.some((i) => i.tFrame > stall.to), 'intents resumed after the stall');
    // The recording has every sample acquired, in order.
    const x = await readXdf(file);
    assert.deepEqual(x.warnings, [], 'the file reads without warnings');
    const eeg = x.streams.find((st) => st.info.name === name)!;
    const inFile = recordedCounter(eeg);
    assert.equal(inFile.received, counter.received, 'the recording has every sample acquired');
    assert.equal(inFile.missing + inFile.duplicated, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
