/**
 * Controls against `neurox run` as users run it (simulator over real LSL): the
 * tokens made at start carry their roles; an operator stops the recording (the
 * file is closed and readable) and starts a new one mid-session (it gets the
 * stream headers and samples); a clinician freezes adaptation; each is an
 * `event` and shows in `status`; the observer is refused both with the role
 * named; `health` reports the stream; /metrics counts the controls; with
 * --lsl-outlet a liblsl inlet in another process gets the same intents (seq,
 * label) as the socket, stamped with their tFrame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { EventMessage, HealthMessage, StatusMessage } from '../../adapters/ws/protocol.ts';
import { readXdf } from '../../adapters/xdf/index.ts';
import { ROOT, startRuntime } from '../helpers/runtime.ts';
import { runPeer, waitForLine } from '../helpers/peer.ts';
import type { IntentMessage } from '../../adapters/ws/protocol.ts';

/** A step's name on its timeout. */
const step = <T>(name: string, p: Promise<T>): Promise<T> => p.catch((e: Error) => Promise.reject(new Error(`${name}: ${e.message}`)));

test('runtime controls: recording stop/start by an operator, adaptation by a clinician, refused for an observer', { timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurox-ctl-'));
  const first = join(dir, 'first.xdf');
  const rt = await startRuntime('ctl', ['--record', first, '--lsl-outlet']);
  let second: string | undefined;
  const clients: NeuroxClient[] = [];
  try {
    const tokens = Object.fromEntries([...rt.stdout().matchAll(/(operator|clinician):(\S+)/g)].map((m) => [m[1], m[2]]));
    assert.ok(tokens.operator && tokens.clinician, 'operator and clinician tokens printed at start');
    const url = `ws://127.0.0.1:${rt.port}`;
    const obs = await NeuroxClient.connect(url);
    const op = await NeuroxClient.connect(url, { token: tokens.operator, format: 'json' });
    const doc = await NeuroxClient.connect(url, { token: tokens.clinician });
    clients.push(obs, op, doc);
    assert.deepEqual([obs.role, op.role, doc.role], ['observer', 'operator', 'clinician']);
    const events: EventMessage[] = [];
    obs.on('event', (e) => events.push(e));
    obs.subscribe(['event', 'health'], { rate: 1 });
    await obs.next((m) => m.type === 'intent', 30000);

    // The LSL intent stream, read by the C peer, against the intents on the socket.
    const wsIntents = new Map<number, IntentMessage>();
    obs.on('intent', (i) => wsIntents.set(i.seq, i));
    const peer = runPeer(['inlet', 'neurox-intents', '25']);
    await waitForLine(peer.proc, 'ready');
    const lines = (await peer.stdout).trim().split('\n').filter((l) => l !== 'ready');
    assert.equal(lines.length, 25);
    const lsl = lines.map((l) => ({ ts: Number(l.slice(0, l.indexOf(' '))), m: JSON.parse(l.slice(l.indexOf(' ') + 1)) as { seq: number; label: string } }));
    lsl.forEach((x, k) => {
      if (k > 0) assert.equal(x.m.seq, lsl[k - 1]!.m.seq + 1, 'every seq, in order');
      const w = wsIntents.get(x.m.seq);
      assert.ok(w, `seq ${x.m.seq} also on the socket`);
      assert.equal(x.m.label, w.label);
      assert.equal(x.ts, w.tFrame, 'stamped with tFrame');
    });

    await assert.rejects(obs.control('record.stop'), (e: Error & { needs?: string }) => e.needs === 'operator');
    await assert.rejects(op.control('adaptation.freeze'), (e: Error & { needs?: string }) => e.needs === 'clinician');

    const stoppedStatus = obs.next((m): m is StatusMessage => m.type === 'status' && m.recording?.state === 'stopped', 10000);
    await op.control('record.stop');
    assert.equal((await step('stopped status', stoppedStatus)).recording!.file, first);
    const f1 = await readXdf(first);
    assert.ok(f1.streams.some((s) => s.info.type === 'EEG' && s.nSamples > 0), 'the stopped recording is complete and readable');
    await assert.rejects(op.control('record.stop'), /not recording/);

    const startedEvent = obs.next((m): m is EventMessage => m.type === 'event' && m.kind === 'recording' && m.action === 'started', 5000);
    await op.control('record.start');
    const started = await step('started event', startedEvent);
    second = join(ROOT, started.detail!);
    await new Promise((r) => setTimeout(r, 1500));
    await op.control('record.stop');
    const f2 = await readXdf(second);
    const eeg = f2.streams.find((s) => s.info.type === 'EEG');
    assert.ok(eeg && eeg.nSamples > 100, `the recording started mid-session has the stream header and samples (${eeg?.nSamples})`);

    const frozenStatus = obs.next((m): m is StatusMessage => m.type === 'status' && m.adaptation?.frozen === true, 5000);
    await doc.control('adaptation.freeze');
    const frozen = await step('frozen status', frozenStatus);
    assert.equal(frozen.adaptation!.frozen, true);
    await doc.control('adaptation.unfreeze');
    const h = await step('health', obs.next((m): m is HealthMessage => m.type === 'health' && m.streams.length > 0, 5000));
    const s = h.streams.find((x) => x.name === 'neurox-sim-eeg64-160')!;
    assert.equal(h.streams.find((x) => x.name.endsWith('-markers'))?.nominal, 0, 'the marker stream is there too');
    assert.ok(Math.abs(s.rate - 160) < 40, `measured rate ${s.rate}`);
    assert.equal(s.nominal, 160);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(events.map((e) => `${e.kind}:${e.action}`), ['recording:stopped', 'recording:started', 'recording:stopped', 'adaptation:frozen', 'adaptation:unfrozen']);
    assert.equal(events[3]!.by, 'clinician');
    const metrics = await (await fetch(`http://127.0.0.1:${rt.port}/metrics`)).text();
    assert.match(metrics, /^neurox_control_total\{action="record.stop",result="ok"\} 2$/m);
    assert.match(metrics, /^neurox_control_total\{action="record.stop",result="unauthorized"\} 1$/m);
    assert.match(metrics, /^neurox_control_total\{action="adaptation.freeze",result="ok"\} 1$/m);
    assert.match(metrics, /^neurox_ws_clients 3$/m);
  } finally {
    for (const c of clients) c.close();
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
    if (second && existsSync(second)) rmSync(second);
  }
});
