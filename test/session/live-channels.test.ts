/**
 * The live runtime with `--bad-channels` and `--electrodes` semantics: flat
 * channels of a real LSL stream are flagged by the dsp stage's detector, every
 * client is told in the status, and the pipeline sees the stream's channels with
 * the positions the electrode table gives (the acquired stream is untouched).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localClock } from '../../adapters/lsl/index.ts';
import { NeuroxClient } from '../../adapters/ws/client.ts';
import type { StatusMessage } from '../../adapters/ws/protocol.ts';
import type { BadChannelEvent } from '../../src/dsp/badchannels.ts';
import { runSession } from '../../src/session/run.ts';
import type { StreamMeta } from '../../src/types.ts';
import { counterOutlet } from '../helpers/counter-process.ts';

test('flat channels are flagged live and reported to apps; mapped positions reach the pipeline', { timeout: 60000 }, async () => {
  const name = `live-ch-${process.pid}`;
  const proc = counterOutlet({ name, sourceId: `${name}-src`, channels: 6, srate: 250, t0: localClock() });
  const events: BadChannelEvent[] = [];
  let rawMeta: StreamMeta | undefined;
  const s = await runSession({
    signal: { prop: 'name', value: name }, markers: null, port: 0,
    dsp: { badChannels: true },
    mapStream: (m) => ({ ...m, channels: m.channels.map((c, i) => ({ ...c, pos: [i * 0.01, 0, 0] as [number, number, number] })) }),
  });
  s.onRawChunk((c) => c.kind === 'stream' && (rawMeta = c.meta));
  s.onBadChannel((e) => events.push(e));
  const client = await NeuroxClient.connect(`ws://127.0.0.1:${s.port}`, { format: 'json' });
  try {
    // ch2–ch5 of the counter outlet are all zeros: flat.
    const st = await client.next((m): m is StatusMessage => m.type === 'status' && (m.warnings ?? []).some((w) => /bad channels on .*ch2/.test(w)), 30000);
    assert.match(st.warnings!.join(' '), /ch3/);
    assert.ok(events.some((e) => e.bad && e.label === 'ch2' && e.reasons.includes('flat')), JSON.stringify(events.slice(0, 3)));
    assert.ok(!events.some((e) => e.bad && e.label === 'ch1' && e.reasons.includes('flat')), 'the sine channel is not flat');
    const meta = [...s.streams.values()][0]!;
    assert.deepEqual(meta.channels[2]!.pos, [0.02, 0, 0], 'the pipeline sees the mapped positions');
    assert.equal(rawMeta?.channels[2]!.pos, undefined, 'the acquired stream (what is recorded) is untouched');
  } finally {
    client.close();
    proc.kill('SIGKILL');
    await s.stop();
  }
});
