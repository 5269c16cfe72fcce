/**
 * The example app (examples/intent-logger.ts, importing `neurox/client` by the
 * package's own name) runs against a server: it prints the intents it gets and
 * its feedback on every 10th intent reaches the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { IntentServer } from '../../adapters/ws/server.ts';
import type { FeedbackMessage } from '../../adapters/ws/protocol.ts';
import { localClock } from '../../src/util/clock.ts';
import { ROOT } from '../helpers/runtime.ts';

test('examples/intent-logger.ts: prints intents and sends feedback', { timeout: 60000 }, async () => {
  const srv = new IntentServer({ port: 0, hello: () => ({ server: 'test', model: { name: 'm', labels: ['a', 'b'], backend: 'js' }, streams: [] }) });
  const port = await srv.listen();
  const feedback: FeedbackMessage[] = [];
  srv.on('feedback', (f) => feedback.push(f));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'examples/intent-logger.ts', `ws://127.0.0.1:${port}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.resume();
  try {
    for (let i = 0; i < 200 && !out.includes('connected to'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /connected to test \(protocol 1\.1\), model m, role observer/);
    await new Promise((r) => setTimeout(r, 500));
    for (let seq = 0; seq < 21; seq++) {
      const t = localClock();
      srv.sendIntent({ seq, label: 'a', probs: { a: 0.8, b: 0.2 }, confidence: 0.8, tFrame: t, tEmit: t, latencyMs: 1.5, model: 'm', abstained: false });
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < 100 && feedback.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(feedback.map((f) => f.seq), [0, 10, 20]);
    assert.match(out, /#20 a +0\.80 {2}pipeline 1\.50 ms, delivered \d+\.\d\d ms/);
  } finally {
    proc.kill();
    await srv.close();
  }
});
