/**
 * DIVER-S on the one path: `neurox run --decoder diver-s` semantics through
 * runSession — the shipped int8 ONNX model steps every frame of a simulated EEG
 * stream (real LSL) in its worker; intents reach a WebSocket client in order; the
 * status goes to `running`; feedback sent over the socket reaches the adapt stage
 * in order with its intent, and the recording; and the recording replayed with
 * the same model gives the same intents (labels, probabilities within 1e-5,
 * frame times).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../../devices/simulate.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { AckMessage, IntentMessage, StatusMessage } from '../../adapters/ws/protocol.ts';
import { readXdf } from '../../adapters/xdf/index.ts';
import type { FeedbackRecord } from '../../src/adapt/stage.ts';
import { loadProfile, modelDecoder } from '../../src/decode/profile.ts';
import { runSession } from '../../src/session/run.ts';
import { profilePathFor, SessionRecorder } from '../../src/session/record.ts';
import { compareIntents, replayRecording } from '../../src/session/replay/index.ts';

const MODEL = 'models/diver-s.int8.onnx';

test('DIVER-S live: ordered intents, running status, feedback to the adapt stage, replay parity', { timeout: 120000 }, async (t) => {
  const tag = `diver-live-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'neurox-diver-'));
  const file = join(dir, 'diver.xdf');
  const sim = await startSimulator({ profile: 'eeg64-160', paradigm: 'mi', seed: 4, name: tag, sourceId: `${tag}-src` });
  const decoder = await modelDecoder(MODEL, 'mi');
  assert.deepEqual(decoder.labels, ['left', 'right']);
  const rec = await SessionRecorder.open(file, { headerFields: { neurox_hop: '0.08', neurox_window: '1', neurox_abstain_below: '0', neurox_dsp: '{}' } });
  const s = await runSession({ signal: { prop: 'source_id', value: `${tag}-src` }, markers: null, port: 0, decoder });
  s.onRawChunk((c) => rec.write(c));
  s.onIntent((i) => rec.intent(i));
  const fbs: FeedbackRecord[] = [];
  s.onFeedback((f) => {
    fbs.push(f);
    rec.event({ type: 'feedback', ...f }, f.receivedAt);
  });
  rec.saveDecoder(s.pipeline.decoder);
  const client = await NeuroxClient.connect(`ws://127.0.0.1:${s.port}`);
  const got: IntentMessage[] = [];
  try {
    assert.equal(client.hello!.model.name, 'diver-s:mi');
    assert.match(client.hello!.model.backend, /^onnxruntime-cpu/);
    client.on('intent', (i) => got.push(i));
    await client.next((m): m is StatusMessage => m.type === 'status' && m.state === 'running', 20000);
    const deadline = Date.now() + 30000;
    while (got.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(got.length >= 60, `intents: ${got.length}`);
    // Feedback on three intents, in this order.
    const on = [got[10]!, got[5]!, got[20]!];
    for (const [k, i] of on.entries()) {
      client.feedback(i.seq, k === 1 ? { label: 'left' } : { reward: k === 0 ? 1 : -0.5 });
      await client.next((m): m is AckMessage => m.type === 'ack' && m.seq === i.seq, 5000);
    }
    assert.deepEqual(fbs.map((f) => f.seq), on.map((i) => i.seq), 'feedback arrives at the adapt stage in order');
    assert.deepEqual(fbs.map((f) => f.order), [0, 1, 2]);
    for (const [k, f] of fbs.entries()) {
      assert.equal(f.intent?.seq, on[k]!.seq, 'with its intent');
      assert.equal(f.intent?.label, on[k]!.label);
      assert.equal(f.intent?.tFrame, on[k]!.tFrame);
    }
    assert.equal(fbs[1]!.label, 'left');
    assert.equal(fbs[2]!.reward, -0.5);
    got.forEach((i, k) => {
      if (k) assert.equal(i.seq, got[k - 1]!.seq + 1);
      if (k) assert.ok(i.tFrame > got[k - 1]!.tFrame, 'frames in order');
      assert.ok(['left', 'right'].includes(i.label));
      assert.ok(Math.abs(i.probs.left! + i.probs.right! - 1) < 1e-5);
      assert.equal(i.model, 'diver-s:mi');
    });
    const lat = got.map((i) => i.latencyMs).sort((a, b) => a - b);
    t.diagnostic(`${got.length} intents; latency median ${lat[lat.length >> 1]!.toFixed(2)} ms (model step in its worker)`);
  } finally {
    client.close();
    await s.stop();
    await sim.stop();
    await rec.close();
  }
  try {
    // Feedback is in the recording, with its intent.
    const x = await readXdf(file);
    const events = (x.streams.find((st) => st.info.name === 'neurox-events')!.data as string[]).map((v) => JSON.parse(v) as { type: string; seq?: number; intent?: { seq: number } });
    const recorded = events.filter((e) => e.type === 'feedback');
    assert.deepEqual(recorded.map((e) => e.seq), fbs.map((f) => f.seq));
    assert.deepEqual(recorded.map((e) => e.intent?.seq), fbs.map((f) => f.seq));
    // Replay through the same pipeline with the decoder the profile next to the recording names.
    const again = await loadProfile(profilePathFor(file));
    const r = await replayRecording(file, { decoder: again });
    await again.close();
    const cmp = compareIntents(r.intents, r.recordedIntents, 1e-5);
    t.diagnostic(`replay: ${r.intents.length} intents vs ${r.recordedIntents.length} recorded; max |Δp| ${cmp.maxProbDiff.toExponential(2)}`);
    assert.ok(r.recordedIntents.length >= 60);
    assert.ok(cmp.equal, JSON.stringify({ ...cmp, missing: cmp.missing.slice(0, 5), extra: cmp.extra.slice(0, 5) }));
    const byRec = new Map(r.recordedIntents.map((i) => [i.seq, i]));
    for (const i of r.intents) if (byRec.has(i.seq)) assert.equal(i.tFrame, byRec.get(i.seq)!.tFrame, 'same frame times');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
