/**
 * DIVER-S in the live runtime: `neurox run --decoder diver-s` semantics through
 * runSession — the shipped int8 ONNX model steps every frame of a simulated EEG
 * stream (real LSL) in its worker, and intents reach a WebSocket client in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../devices/simulate.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { IntentMessage } from '../../adapters/ws/protocol.ts';
import { ModelDecoder } from '../../src/decode/model-decoder.ts';
import { runSession } from '../../src/session/run.ts';

test('DIVER-S decodes a live simulated stream: ordered intents with the model named in hello', { timeout: 90000 }, async (t) => {
  const tag = `diver-live-${process.pid}`;
  const sim = await startSimulator({ profile: 'eeg64-160', paradigm: 'mi', seed: 4, name: tag, sourceId: `${tag}-src` });
  const model = await ModelDecoder.load('models/diver-s.int8.onnx', 'mi');
  assert.deepEqual(model.labels, ['left', 'right']);
  const s = await runSession({ signal: { prop: 'source_id', value: `${tag}-src` }, markers: null, port: 0, model });
  const client = await NeuroxClient.connect(`ws://127.0.0.1:${s.port}`);
  try {
    assert.equal(client.hello!.model.name, 'diver-s:mi');
    assert.match(client.hello!.model.backend, /^onnxruntime-cpu/);
    const got: IntentMessage[] = [];
    client.on('intent', (i) => got.push(i));
    const deadline = Date.now() + 30000;
    while (got.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(got.length >= 60, `intents: ${got.length}`);
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
  }
});
