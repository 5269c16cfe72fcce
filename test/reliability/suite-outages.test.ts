/**
 * Three outages in one recorded session: the counter outlet's process is SIGKILLed and
 * restarted 5 s later (NEUROX_OUTAGE_SECONDS), three times (NEUROX_OUTAGES). Each time
 * the apps get `stream-lost` then `running`; the recording has one gap per outage in
 * `neurox-gaps`, and every sample that reached the inlet, the counter jumping exactly
 * by each gap's missing count and nowhere else; the inlet is back within 3 s of each
 * restart and nothing before a kill is lost but the outlet's unsent pushes; intents keep consecutive sequence numbers and none comes from a
 * frame cut before a gap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { localClock } from '../../adapters/lsl/index.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { IntentMessage, StatusMessage } from '../../adapters/ws/protocol.ts';
import { readXdf } from '../../adapters/xdf/index.ts';
import { SessionRecorder, NEUROX_STREAMS } from '../../src/session/record.ts';
import { runSession } from '../../src/session/run.ts';
import type { GapEvent } from '../../src/types.ts';
import { CounterCheck } from '../helpers/counter-process.ts';
import { calibratedDecoder, counterOutletReporting, sleep, untilCount } from '../helpers/suite.ts';

const OUTAGES = Number(process.env.NEUROX_OUTAGES ?? 3);
const OUTAGE_S = Number(process.env.NEUROX_OUTAGE_SECONDS ?? 5);
const C = 8;
const SRATE = 250;
const HOP = 0.08;

test(`${OUTAGES} outages of ${OUTAGE_S} s in one recorded session: status, gaps, every sample, no stale intent`, { timeout: (OUTAGES * (OUTAGE_S + 25) + 60) * 1000 }, async (t) => {
  const name = `suite-outages-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'neurox-outages-'));
  const file = join(dir, 'outages.xdf');
  const decoder = calibratedDecoder(C, SRATE);
  const t0 = localClock();
  const outlet = () => counterOutletReporting({ name, sourceId: `${name}-src`, channels: C, srate: SRATE, t0 });
  let proc: ChildProcess = outlet().proc;
  const rec = await SessionRecorder.open(file, { headerFields: { neurox_hop: String(HOP), neurox_window: '1' } });
  const s = await runSession({ signal: { prop: 'name', value: name }, markers: null, port: 0, decoder, hop: HOP });
  const gaps: GapEvent[] = [];
  const acquired = new CounterCheck();
  s.onRawChunk((c) => {
    rec.write(c);
    if (c.kind === 'gap') gaps.push(c);
    if (c.kind === 'signal') acquired.add(c.data, C);
  });
  s.onIntent((i) => rec.intent(i));
  const client = await NeuroxClient.connect(`ws://127.0.0.1:${s.port}`, { format: 'json' });
  const intents: IntentMessage[] = [];
  const states: string[] = [];
  client.on('intent', (i) => intents.push(i));
  client.on('message', (m) => m.type === 'status' && states.push((m as StatusMessage).state));
  const outages: { killedAt: number; lastBefore: number; started: number; intentsBefore: number }[] = [];
  try {
    await untilCount(() => intents.length, 20, 30000, 'first intents');
    for (let k = 0; k < OUTAGES; k++) {
      proc.kill('SIGKILL');
      const killedAt = localClock();
      const lostStatus = await client.next((m): m is StatusMessage => m.type === 'status' && m.state === 'stream-lost', 10000);
      assert.match(lostStatus.detail ?? '', /no samples/, `outage ${k + 1}: the status says why`);
      const intentsBefore = intents.length;
      const lastBefore = acquired.expected! - 1;
      await sleep(Math.max(0, OUTAGE_S * 1000 - (localClock() - killedAt) * 1000));
      const next = outlet();
      proc = next.proc;
      const started = await next.started;
      await client.next((m): m is StatusMessage => m.type === 'status' && m.state === 'running', 20000);
      outages.push({ killedAt, lastBefore, started, intentsBefore });
      await untilCount(() => intents.length, intentsBefore + 20, 30000, `intents after outage ${k + 1}`);
    }
  } finally {
    client.close();
    proc.kill('SIGKILL');
    await s.stop();
    await rec.close();
  }
  try {
    // Status: lost then running, once per outage.
    const transitions = states.filter((st, i) => st === 'stream-lost' && states.slice(i + 1).includes('running') && states[i - 1] !== 'stream-lost');
    assert.equal(transitions.length, OUTAGES, `stream-lost … running ${OUTAGES} times: ${states.join(',')}`);
    // One gap per outage, covering it.
    assert.equal(gaps.length, OUTAGES, `one gap per outage: ${JSON.stringify(gaps)}`);
    gaps.forEach((g, k) => {
      assert.equal(g.reason, 'stream-lost');
      assert.ok(g.tEnd - g.tStart >= OUTAGE_S - 0.5, `gap ${k + 1} covers the outage: ${(g.tEnd - g.tStart).toFixed(2)} s`);
    });
    // The recording: every acquired sample, the counter jumping only at the gaps, by their counts.
    const x = await readXdf(file);
    assert.deepEqual(x.warnings, [], 'the file reads without warnings');
    const eeg = x.streams.find((st) => st.info.name === name)!;
    const v = eeg.data as Float32Array;
    const jumps: { at: number; missing: number; before: number; after: number }[] = [];
    for (let i = 1; i < eeg.nSamples; i++) {
      const a = v[(i - 1) * C + C - 1]!;
      const b = v[i * C + C - 1]!;
      if (b !== a + 1) jumps.push({ at: i, missing: b - a - 1, before: a, after: b });
    }
    assert.equal(eeg.nSamples, acquired.received, 'the recording has every sample that reached the inlet');
    assert.equal(acquired.duplicated, 0, 'no sample twice');
    assert.deepEqual(jumps.map((j) => j.missing), gaps.map((g) => g.missingSamples), 'the counter jumps only at the gaps, by their missing counts');
    const recordedGaps = x.streams.find((st) => st.info.name === NEUROX_STREAMS.gaps.name);
    assert.equal(recordedGaps?.nSamples, OUTAGES, 'neurox-gaps has one entry per outage');
    outages.forEach((o, k) => {
      const j = jumps[k]!;
      const lostAtKill = ((o.killedAt - t0) * SRATE - j.before) / SRATE;
      t.diagnostic(`outage ${k + 1}: last sample ${(lostAtKill * 1000).toFixed(0)} ms before the kill; restarted outlet's first sample ${o.started}, first received ${j.after}; gap ${gaps[k]!.missingSamples} samples`);
      // liblsl hands an inlet only what is pushed after it (re)subscribes: the restarted
      // outlet's first samples fall in the gap (counted there), and the inlet is back
      // within the worker's resolve cycle.
      assert.ok(j.after >= o.started && j.after - o.started <= 3 * SRATE, `outage ${k + 1}: reconnected ${((j.after - o.started) / SRATE).toFixed(2)} s after the restart`);
      // What went with the kill is at most the outlet's last unsent pushes.
      assert.ok(lostAtKill < 0.25, `outage ${k + 1}: samples until the kill (${lostAtKill.toFixed(3)} s before it)`);
    });
    // Intents: consecutive, none from a frame cut before a gap.
    intents.forEach((i, k) => k > 0 && assert.equal(i.seq, intents[k - 1]!.seq + 1, 'seq consecutive across the outages'));
    outages.forEach((o, k) => {
      const stale = intents.slice(o.intentsBefore).filter((i) => i.tFrame <= gaps[k]!.tStart + HOP && i.tFrame > gaps[k]!.tStart - 2);
      assert.deepEqual(stale.map((i) => i.seq), [], `outage ${k + 1}: no intent after it from a frame before its gap`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
