/**
 * Stream metadata through liblsl: channel labels, types, units, locations and SEEG
 * shaft/contact written by our outlet come back in the inlet's full info; queries by
 * property, by predicate and the continuous resolver find the stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { ContinuousResolver, inletSource, predicate, resolveStreams, StreamOutlet } from '../../adapters/lsl/index.ts';
import type { ChannelInfo, StreamOpened } from '../../src/types.ts';

const channels: ChannelInfo[] = [
  { label: 'LA1', type: 'SEEG', unit: 'uV', pos: [-21.5, -5.25, -18], shaft: 'LA', contact: 1 },
  { label: 'LA2', type: 'SEEG', unit: 'uV', pos: [-25, -5.25, -18], shaft: 'LA', contact: 2 },
  { label: 'ECG', type: 'ECG', unit: 'mV' },
];

test('desc channel metadata round-trips through liblsl full info', async () => {
  const name = `meta-${process.pid}`;
  const out = new StreamOutlet({ name, type: 'SEEG', channelCount: 3, srate: 2048, format: 'float32', sourceId: `${name}-src`, channels, desc: { manufacturer: 'neurox-test' } });
  try {
    const [meta] = await resolveStreams({ pred: predicate({ name, type: 'SEEG', channel_count: 3 }) }, { timeout: 5 });
    assert.ok(meta, 'found by predicate');
    const opened = await firstValueFrom(
      inletSource(meta).pipe(
        filter((c): c is StreamOpened => c.kind === 'stream'),
        timeout(10000),
      ),
    );
    assert.deepEqual(opened.meta.channels, channels);
    assert.equal(opened.meta.srate, 2048);
    assert.equal(opened.meta.sourceId, `${name}-src`);
    assert.match(opened.meta.xml, /<manufacturer>neurox-test<\/manufacturer>/);
    assert.match(opened.meta.xml, /<shaft>LA<\/shaft>/);
  } finally {
    out.close();
  }
});

test('the continuous resolver sees a stream appear and, after forget_after, disappear', async () => {
  const name = `cont-${process.pid}`;
  const res = new ContinuousResolver(`name='${name}'`, 1.0);
  try {
    assert.deepEqual(res.results(), []);
    const out = new StreamOutlet({ name, type: 'Markers', channelCount: 1, srate: 0, format: 'string', sourceId: name });
    let seen = false;
    for (let i = 0; i < 50 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = res.results().some((s) => s.name === name);
    }
    assert.ok(seen, 'stream appeared');
    out.close();
    let gone = false;
    for (let i = 0; i < 80 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 100));
      gone = !res.results().some((s) => s.name === name);
    }
    assert.ok(gone, 'stream forgotten after it went away');
  } finally {
    res.close();
  }
});

test('lslSource picks up a matching stream that appears after it started', async () => {
  const type = `Late${process.pid}`;
  const first = new StreamOutlet({ name: `early-${process.pid}`, type, channelCount: 1, srate: 0, format: 'string', sourceId: `early-${process.pid}` });
  const { lslSource } = await import('../../adapters/lsl/index.ts');
  const opened = new Set<string>();
  const sub = lslSource({ prop: 'type', value: type }, { watchEvery: 0.5 }).subscribe((c) => c.kind === 'stream' && opened.add(c.meta.name));
  let late: StreamOutlet | undefined;
  try {
    for (let i = 0; i < 50 && !opened.has(`early-${process.pid}`); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(opened.has(`early-${process.pid}`));
    late = new StreamOutlet({ name: `late-${process.pid}`, type, channelCount: 1, srate: 0, format: 'string', sourceId: `late-${process.pid}` });
    for (let i = 0; i < 80 && !opened.has(`late-${process.pid}`); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(opened.has(`late-${process.pid}`), 'the late stream was opened');
    assert.equal(opened.size, 2);
  } finally {
    sub.unsubscribe();
    first.close();
    late?.close();
  }
});
