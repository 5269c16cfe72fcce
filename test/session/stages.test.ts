/**
 * The stage contract: a reset stage behaves as a new one (its state object holds
 * everything it remembers), any stage runs as an RxJS operator through the one
 * adapter, and intents get one consecutive seq whatever feeds the emit stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray } from 'rxjs';
import { stageOperator } from '../../src/stage.ts';
import { AlignStage, ClockStage, RepairStage } from '../../src/session/stages.ts';
import { IntentStage } from '../../src/emit/intents.ts';
import { AdaptStage } from '../../src/adapt/stage.ts';
import type { Chunk, SignalChunk } from '../../src/types.ts';

function chunks(n: number): SignalChunk[] {
  const channels = [{ label: 'C3', type: 'EEG', unit: 'uV' }, { label: 'C4', type: 'EEG', unit: 'uV' }];
  return Array.from({ length: n }, (_, k) => ({
    kind: 'signal', stream: 's', channels, srate: 100,
    data: Float32Array.from({ length: 20 }, (_, i) => (i === 3 && k === 2 ? NaN : Math.sin(k * 10 + i))),
    timestamps: Float64Array.from({ length: 10 }, (_, i) => 1 + (k * 10 + i) / 100),
    arrivedAt: 1 + (k * 10 + 9) / 100,
  }));
}

test('a reset stage behaves as a new one', () => {
  const run = (a: AlignStage, r: RepairStage, c: ClockStage) =>
    chunks(30).flatMap((x) => r.push(x).flatMap((k) => c.push(k))).flatMap((k) => a.push(k, 5)).map((f) => [f.tStart, f.streams.get('s')!.window.slice()]);
  const a = new AlignStage({ hop: 0.08, window: 0.5, maxLateness: 1e9 });
  const r = new RepairStage();
  const c = new ClockStage();
  const first = run(a, r, c);
  assert.ok(first.length > 20);
  assert.equal(r.state.repaired('s'), 1, 'the NaN was repaired');
  a.reset();
  r.reset();
  c.reset();
  assert.equal(r.state.repaired('s'), 0);
  assert.deepEqual(run(a, r, c), first);
});

test('any stage is an RxJS operator through stageOperator; intents get one consecutive seq', async () => {
  const emit = new IntentStage(0.6, () => 10);
  const frames = [0.5, 0.9, 0.55].map((conf, k) => ({ frame: { tEnd: k, arrivedAt: 9.999, seq: k }, decoded: { label: 'a', probs: { a: conf, b: 1 - conf }, confidence: conf }, model: 'm' }));
  const out = await lastValueFrom(from(frames).pipe(stageOperator(emit, () => 10), toArray()));
  assert.deepEqual(out.map((i) => i.seq), [0, 1, 2]);
  assert.deepEqual(out.map((i) => i.abstained), [true, false, true]);
  assert.ok(Math.abs(out[0]!.latencyMs - 1) < 1e-6);
  const adapt = new AdaptStage(2);
  for (const i of out) adapt.observe(i);
  const [fb] = adapt.push({ seq: 2, reward: 1 }, 11);
  assert.equal(fb!.intent?.seq, 2);
  assert.equal(adapt.push({ seq: 0, label: 'b' }, 12)[0]!.intent, undefined, 'older than the history kept');
  const none: Chunk[] = await lastValueFrom(from([] as Chunk[]).pipe(stageOperator(new RepairStage()), toArray()));
  assert.deepEqual(none, []);
});

test('a clock-reset gap re-anchors the frame grid: frames go on after timestamps step back', () => {
  const a = new AlignStage({ hop: 0.08, window: 0.5, maxLateness: 1e9 });
  const channels = [{ label: 'C3', type: 'EEG' }];
  const block = (t0: number, k: number): SignalChunk => ({
    kind: 'signal', stream: 's', channels, srate: 100, data: new Float32Array(10).fill(k),
    timestamps: Float64Array.from({ length: 10 }, (_, i) => t0 + (k * 10 + i) / 100), arrivedAt: 5,
  });
  let before = 0;
  for (let k = 0; k < 30; k++) before += a.push(block(100, k), 5).length;
  assert.ok(before > 30);
  a.push({ kind: 'gap', stream: 's', tStart: 103, tEnd: 103, missingSamples: 0, reason: 'clock-reset' }, 5);
  const after = [];
  for (let k = 0; k < 30; k++) after.push(...a.push(block(70, k), 5));
  assert.ok(after.length > 30, `${after.length} frames after the reset`);
  assert.ok(after[0]!.tEnd < 71, 'on the new timeline');
});
