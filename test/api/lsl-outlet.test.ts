/**
 * Intents as LSL streams: an independent liblsl inlet in another process (the C
 * peer, none of neurox's code) receives the intent marker stream and the
 * probability stream with every seq, in order, each stamped with its frame's end
 * time (tFrame) to the bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntentOutlet, INTENT_STREAM_TYPE } from '../../adapters/lsl/intent-outlet.ts';
import { runPeer, waitForLine } from '../helpers/peer.ts';
import { localClock } from '../../src/util/clock.ts';
import type { Intent } from '../../src/types.ts';

const N = 200;

test('a liblsl inlet in another process receives every intent with its tFrame timestamp, and the probabilities', { timeout: 90000 }, async () => {
  const name = `neurox-intents-test-${process.pid}`;
  const outlet = new IntentOutlet({ name, sourceId: name, probabilities: true });
  try {
    // The probability outlet appears with the first intent: push one before the peers resolve.
    const t0 = localClock();
    const intents: Intent[] = Array.from({ length: N }, (_, seq) => {
      const p = (seq % 10) / 10;
      return { seq, label: p >= 0.5 ? 'right' : 'left', probs: { left: 1 - p, right: p }, confidence: Math.max(p, 1 - p), tFrame: t0 + seq * 0.08 + 1 / 3, tEmit: t0 + seq * 0.08 + 0.4, latencyMs: 2, model: 'm', abstained: false };
    });
    outlet.push(intents[0]!);
    const markers = runPeer(['inlet', name, String(N - 1)]);
    const probs = runPeer(['inlet', `${name}-probs`, String(N - 1)]);
    await Promise.all([waitForLine(markers.proc, 'ready'), waitForLine(probs.proc, 'ready')]);
    await new Promise((r) => setTimeout(r, 300));
    for (const i of intents.slice(1)) outlet.push(i);
    const [mOut, pOut] = await Promise.all([markers.stdout, probs.stdout]);
    const mLines = mOut.trim().split('\n').filter((l) => l !== 'ready');
    const pLines = pOut.trim().split('\n').filter((l) => l !== 'ready');
    assert.equal(mLines.length, N - 1);
    assert.equal(pLines.length, N - 1);
    mLines.forEach((l, k) => {
      const i = intents[k + 1]!;
      const sp = l.indexOf(' ');
      assert.equal(Number(l.slice(0, sp)), i.tFrame, `seq ${i.seq}: timestamp is tFrame`);
      assert.deepEqual(JSON.parse(l.slice(sp + 1)), { seq: i.seq, label: i.label, confidence: i.confidence, abstained: false });
    });
    pLines.forEach((l, k) => {
      const i = intents[k + 1]!;
      const [ts, left, right] = l.split(' ').map(Number);
      assert.equal(ts, i.tFrame);
      // The peer prints float32 values with %.9g (enough to round-trip a float32).
      assert.equal(Math.fround(left!), Math.fround(i.probs.left!));
      assert.equal(Math.fround(right!), Math.fround(i.probs.right!));
    });
    assert.equal(INTENT_STREAM_TYPE, 'Intents', 'not type Markers: a runtime never takes its own intents for cues');
  } finally {
    outlet.close();
  }
});
