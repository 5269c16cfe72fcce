/**
 * XDF reader against the example files in test/data/xdf: every value
 * below is taken from that folder's README.md (headers, footers, samples,
 * timestamps, clock offsets, the clock reset).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readXdf, readXdfChunks, type XdfStream } from '../../adapters/xdf/index.ts';
import { dataFile } from './helpers.ts';

const near = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

/** README tables print timestamps with a fixed number of decimals. */
const nearPrinted = (a: number, printed: string, what: string): void => {
  const decimals = printed.includes('.') ? printed.split('.')[1]!.length : 0;
  near(a, Number(printed), 0.5 * 10 ** -decimals + 1e-9, what);
};

function byId(streams: XdfStream[], id: number): XdfStream {
  const s = streams.find((x) => x.id === id);
  assert.ok(s, `stream ${id} present`);
  return s;
}

test('minimal.xdf: headers, footers, every sample and timestamp, clock offsets, sync', async () => {
  const path = dataFile('xdf/minimal.xdf');
  const f = await readXdf(path);
  assert.deepEqual(f.warnings, []);
  assert.equal(f.header.version, '1.0');
  assert.deepEqual(
    f.streams.map((s) => s.id),
    [0, 0x02c0ffee],
  );
  assert.equal(0x02c0ffee, 46202862);

  const s0 = byId(f.streams, 0);
  assert.equal(s0.info.name, 'SendDataC');
  assert.equal(s0.info.type, 'EEG');
  assert.equal(s0.info.channel_count, 3);
  assert.equal(s0.info.nominal_srate, 10);
  assert.equal(s0.info.channel_format, 'int16');
  assert.equal(s0.info.created_at, 50942.723319709003);
  assert.equal(s0.info.uid, 'xdfwriter_11_int');
  assert.deepEqual(s0.info.channels, []);
  assert.ok(s0.data instanceof Int16Array);
  const rows = [
    [5.1, 192, 255, 238],
    [5.2, 12, 22, 32],
    [5.3, 13, 23, 33],
    [5.4, 14, 24, 34],
    [5.5, 15, 25, 35],
    [5.6, 12, 22, 32],
    [5.7, 13, 23, 33],
    [5.8, 14, 24, 34],
    [5.9, 15, 25, 35],
  ];
  assert.equal(s0.nSamples, 9);
  rows.forEach(([t, a, b, c], k) => {
    // Omitted timestamps are previous + 0.1, accumulated in double precision as the spec defines.
    near(s0.timestamps[k]!, t!, 1e-12, `stream 0 timestamp ${k}`);
    assert.deepEqual(Array.from(s0.data.slice(k * 3, k * 3 + 3) as Int16Array), [a, b, c]);
  });
  assert.equal(s0.timestamps[0], 5.1); // stored explicitly
  assert.deepEqual(Array.from(s0.clockTimes), [6.1, 7.1]);
  assert.deepEqual(Array.from(s0.clockValues), [-0.1, -0.1]);
  const footer = {
    first_timestamp: 5.1,
    last_timestamp: 5.9,
    sample_count: 9,
    clock_offsets: [
      { time: 50979.76, value: -0.01 },
      { time: 50979.86, value: -0.02 },
    ],
    extra: { writer: 'LabRecorder xdfwriter' },
  };
  assert.deepEqual(s0.footer, footer);

  const s1 = byId(f.streams, 46202862);
  assert.equal(s1.info.name, 'SendDataString');
  assert.equal(s1.info.type, 'StringMarker');
  assert.equal(s1.info.channel_count, 1);
  assert.equal(s1.info.nominal_srate, 10);
  assert.equal(s1.info.channel_format, 'string');
  assert.equal(s1.info.uid, 'xdfwriter_11_str');
  assert.deepEqual(s1.footer, footer, 'footer identical to stream 0');
  assert.equal(s1.data[0], s1.footerXml, 'first string sample is the XML footer');
  assert.deepEqual(s1.data.slice(1), ['Hello', 'World', 'from', 'LSL', 'Hello', 'World', 'from', 'LSL']);
  rows.forEach(([t], k) => near(s1.timestamps[k]!, t!, 1e-12, `string stream timestamp ${k}`));
  assert.equal(s1.clockTimes.length, 0);

  // Synchronisation: the only clock segment (offset −0.1) applies to all of
  // stream 0, even before the first measurement; the string stream has no
  // offsets, so it is unchanged.
  const g = await readXdf(path, { sync: true });
  const g0 = byId(g.streams, 0);
  assert.equal(g0.clockSegments!.length, 1);
  rows.forEach(([t], k) => near(g0.syncedTimestamps![k]!, t! - 0.1, 1e-12, `synced ${k}`));
  assert.deepEqual(byId(g.streams, 46202862).syncedTimestamps, byId(g.streams, 46202862).timestamps);

  // The chunk iterator sees both length-field sizes and the boundary chunks.
  const tags: string[] = [];
  let explicit = 0;
  for await (const c of readXdfChunks(path)) {
    tags.push(c.tag);
    if (c.tag === 'samples') explicit += c.explicitTimestamps;
  }
  assert.equal(tags[0], 'fileHeader');
  assert.ok(tags.includes('boundary'));
  assert.equal(tags.filter((t) => t === 'streamFooter').length, 2);
  assert.ok(explicit > 0 && explicit < 18, `mix of explicit (${explicit}) and omitted timestamps`);
});

test('empty_streams.xdf: empty and non-empty streams, headers, footers, clock offsets', async () => {
  const f = await readXdf(dataFile('xdf/empty_streams.xdf'), { sync: true });
  assert.deepEqual(f.warnings, []);
  assert.deepEqual(
    f.streams.map((s) => s.id).sort(),
    [1, 2, 3, 4],
  );
  const s1 = byId(f.streams, 1);
  assert.equal(s1.info.name, 'ctrl');
  assert.equal(s1.info.type, 'control');
  assert.equal(s1.info.source_id, 'kassia');
  assert.equal(s1.info.nominal_srate, 0);
  assert.equal(s1.info.channel_format, 'string');
  assert.equal(s1.info.created_at, 91684.87631725401);
  assert.equal(s1.info.uid, '4740b9ba-d45d-4e2b-9a4b-ee966d9b56df');
  assert.equal(s1.info.hostname, 'kassia');
  assert.equal(s1.info.desc!.children[0]!.name, 'manufacturer');
  assert.equal(s1.info.desc!.children[0]!.text, 'pylsltools');
  assert.deepEqual(s1.data, ['{"state": 2}']);
  assert.equal(s1.timestamps.length, 1);
  nearPrinted(s1.timestamps[0]!, '91725.014004', 'ctrl sample');
  assert.equal(s1.footer!.first_timestamp, 91725.014004246);
  assert.equal(s1.footer!.last_timestamp, 91725.014004246);
  assert.equal(s1.footer!.sample_count, 1);
  assert.deepEqual(s1.footer!.clock_offsets[0], { time: 91716.691545932, value: -1.889200211735442e-5 });
  assert.deepEqual(s1.footer!.clock_offsets.at(-1), { time: 91746.69261952251, value: -3.837950498564169e-5 });

  const clockTables: Record<number, string[]> = {
    1: ['91716.691546', '91721.691770', '91726.692053', '91731.692211', '91736.692330', '91741.692493', '91746.692620'],
    2: ['91716.691514', '91721.691774', '91726.692058', '91731.692287', '91736.692447', '91741.692554', '91746.692766'],
    3: ['91716.691530', '91721.691776', '91726.692048', '91731.692247', '91736.692367', '91741.692487', '91746.692694'],
    4: ['91716.691572', '91721.691773', '91726.692049', '91731.692249', '91736.692457', '91741.692557', '91746.692746'],
  };
  for (const [id, times] of Object.entries(clockTables)) {
    const s = byId(f.streams, Number(id));
    assert.equal(s.clockTimes.length, 7);
    times.forEach((t, k) => nearPrinted(s.clockTimes[k]!, t, `stream ${id} clock time ${k}`));
    for (const v of s.clockValues) assert.ok(Math.abs(v) < 1e-4, `stream ${id} offset ≅ 0`);
  }

  for (const [id, name, fmt, srate] of [
    [2, 'Empty marker stream: test stream 0 counter', 'string', 0],
    [3, 'Empty data stream: test stream 0 counter', 'float32', 1],
  ] as const) {
    const s = byId(f.streams, id);
    assert.equal(s.info.name, name);
    assert.equal(s.info.channel_format, fmt);
    assert.equal(s.info.nominal_srate, srate);
    assert.equal(s.nSamples, 0);
    assert.equal(s.data.length, 0);
    assert.equal(s.timestamps.length, 0);
    assert.equal(s.syncedTimestamps!.length, 0);
    assert.equal(s.footer!.sample_count, 0);
    assert.equal(s.footer!.first_timestamp, 0);
    assert.equal(s.footer!.last_timestamp, 0);
  }
  assert.deepEqual(byId(f.streams, 3).info.channels, [{ label: 'ch:00', type: 'misc' }]);
  assert.ok(byId(f.streams, 3).data instanceof Float32Array);

  const s4 = byId(f.streams, 4);
  assert.equal(s4.info.name, 'Data stream: test stream 0 counter');
  assert.equal(s4.info.channel_format, 'int32');
  assert.equal(s4.info.source_id, 'test_stream.py:191695:0');
  assert.deepEqual(s4.info.channels, [{ label: 'ch:00', type: 'misc' }]);
  assert.ok(s4.data instanceof Int32Array);
  assert.deepEqual(Array.from(s4.data as Int32Array), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (let k = 0; k < 10; k++) nearPrinted(s4.timestamps[k]!, (91725.213948 + k).toFixed(6), `int32 ts ${k}`);
  assert.equal(s4.footer!.first_timestamp, 91725.21394789348);
  assert.equal(s4.footer!.last_timestamp, 91735.21394789348);
  assert.equal(s4.footer!.sample_count, 10);
  // Offsets ≅ 0: synchronisation moves timestamps by well under a millisecond.
  for (let k = 0; k < 10; k++) near(s4.syncedTimestamps![k]!, s4.timestamps[k]!, 1e-4, 'synced ≅ raw');
});

test('clock_resets.xdf: clock offsets, the reset, dejittered samples and synchronised timestamps', async () => {
  const path = dataFile('xdf/clock_resets.xdf');
  const raw = await readXdf(path);
  assert.deepEqual(raw.warnings, []);
  const m = byId(raw.streams, 1);
  const eeg = byId(raw.streams, 2);

  // Headers.
  assert.equal(m.info.name, 'MyMarkerStream');
  assert.equal(m.info.type, 'Markers');
  assert.equal(m.info.channel_format, 'string');
  assert.equal(m.info.nominal_srate, 0);
  assert.equal(m.info.source_id, 'myuidw43536');
  assert.equal(m.info.created_at, 564076.02850699995);
  assert.equal(m.info.hostname, 'BP-LP-022');
  assert.equal(eeg.info.name, 'BioSemi');
  assert.equal(eeg.info.type, 'EEG');
  assert.equal(eeg.info.channel_count, 8);
  assert.equal(eeg.info.nominal_srate, 100);
  assert.equal(eeg.info.channel_format, 'float32');
  assert.equal(eeg.info.source_id, 'myuid34234');
  assert.equal(eeg.info.uid, 'fa3e14ab-b621-480e-a9d5-c740f0e47140');

  // Footers.
  assert.equal(m.footer!.first_timestamp, 653153.2121885);
  assert.equal(m.footer!.last_timestamp, 259.6538279);
  assert.equal(m.footer!.sample_count, 175);
  assert.deepEqual(m.footer!.clock_offsets[0], { time: 653156.02616855, value: -652340.2838639501 });
  assert.deepEqual(m.footer!.clock_offsets.at(-1), { time: 264.6430016000002, value: 1121.165595 });
  assert.equal(eeg.footer!.first_timestamp, 653150.379117);
  assert.equal(eeg.footer!.last_timestamp, 261.9267033);
  assert.equal(eeg.footer!.sample_count, 27815);
  assert.deepEqual(eeg.footer!.clock_offsets[0], { time: 653156.0261441499, value: -652340.28383985 });
  assert.deepEqual(eeg.footer!.clock_offsets.at(-1), { time: 264.6385764000001, value: 1121.1656319 });

  // Marker samples (irregular stream: timestamps as stored).
  assert.equal(m.nSamples, 175);
  const mFirst = [
    ['653153.212188', 'XXX'],
    ['653156.001700', 'Test'],
    ['653158.235593', 'Blah'],
    ['653158.674409', 'Test'],
    ['653161.255786', 'Test-1-2-3'],
  ];
  const mLast = [
    ['255.326187', 'Test-1-2-3'],
    ['255.794242', 'Testtest'],
    ['257.288286', 'Test'],
    ['258.881481', 'Test-1-2-3'],
    ['259.653828', 'XXX'],
  ];
  mFirst.forEach(([t, v], k) => {
    nearPrinted(m.timestamps[k]!, t!, `marker ${k}`);
    assert.equal(m.data[k], v);
  });
  mLast.forEach(([t, v], k) => {
    const i = 170 + k;
    nearPrinted(m.timestamps[i]!, t!, `marker ${i}`);
    assert.equal(m.data[i], v);
  });

  // Clock offsets of both streams (first and last five rows of the README tables).
  const clk = (s: XdfStream, first: string[], last: string[]): void => {
    assert.equal(s.clockTimes.length, s.footer!.clock_offsets.length);
    first.forEach((t, k) => {
      nearPrinted(s.clockTimes[k]!, t, `clock time ${k}`);
      nearPrinted(s.clockValues[k]!, '-652340.284', `clock value ${k}`);
    });
    const n = s.clockTimes.length;
    last.forEach((t, k) => {
      nearPrinted(s.clockTimes[n - 5 + k]!, t, `clock time ${n - 5 + k}`);
      nearPrinted(s.clockValues[n - 5 + k]!, '1121.166', `clock value ${n - 5 + k}`);
    });
    // The file's ClockOffset chunks are the footer's list (printed there in decimal).
    s.footer!.clock_offsets.forEach((o, k) => {
      near(s.clockTimes[k]!, o.time, 1e-9, `clock time ${k} vs footer`);
      near(s.clockValues[k]!, o.value, 1e-9, `clock value ${k} vs footer`);
    });
  };
  clk(
    m,
    ['653156.026169', '653161.027235', '653166.028073', '653171.029007', '653176.029238'],
    ['244.642270', '249.642364', '254.642595', '259.642718', '264.643002'],
  );
  clk(
    eeg,
    ['653156.026144', '653161.027186', '653166.028073', '653171.029031', '653176.029199'],
    ['244.637258', '249.637401', '254.637443', '259.638406', '264.638576'],
  );

  // EEG samples: the README's timestamps are the dejittered ones (least squares
  // per segment, the segments split at the reset).
  const dj = await readXdf(path, { dejitter: true });
  const e2 = byId(dj.streams, 2);
  assert.equal(e2.nSamples, 27815);
  assert.ok(e2.data instanceof Float32Array);
  const eFirst: [string, number[]][] = [
    ['653150.314061', [0.142, 0.463, 0.354, 0.22, 0.761, 0.323, 0.312, 0.861]],
    ['653150.324786', [0.311, 0.74, 0.949, 0.505, 0.034, 0.518, 0.326, 0.788]],
    ['653150.335512', [0.611, 0.838, 0.78, 0.767, 0.065, 0.214, 0.044, 0.238]],
    ['653150.346237', [0.732, 0.318, 0.249, 0.272, 0.923, 0.575, 0.177, 0.086]],
    ['653150.356962', [0.863, 0.334, 0.301, 0.645, 1.0, 0.248, 0.664, 0.246]],
  ];
  const eLast: [string, number[]][] = [
    ['261.975481', [0.418, 0.359, 0.277, 0.898, 0.627, 0.562, 0.021, 0.015]],
    ['261.986272', [0.061, 0.215, 0.19, 0.046, 0.938, 0.523, 0.931, 0.481]],
    ['261.997063', [0.792, 0.337, 0.299, 0.959, 0.023, 0.603, 0.62, 0.861]],
    ['262.007853', [0.89, 0.883, 0.638, 0.113, 0.022, 0.533, 0.604, 0.743]],
    ['262.018644', [0.873, 0.064, 0.684, 0.153, 0.306, 0.123, 0.711, 0.892]],
  ];
  const checkRow = (i: number, [t, vals]: [string, number[]]): void => {
    nearPrinted(e2.syncedTimestamps![i]!, t, `EEG dejittered timestamp ${i}`);
    vals.forEach((v, c) => near(e2.data[i * 8 + c] as number, v, 0.0005 + 1e-7, `EEG sample ${i} ch ${c}`));
  };
  eFirst.forEach((r, k) => checkRow(k, r));
  eLast.forEach((r, k) => checkRow(27815 - 5 + k, r));
  // Raw (stored) timestamps are the footer's first/last.
  assert.equal(eeg.timestamps[0], 653150.379117);
  assert.equal(eeg.timestamps[27814], 261.9267033);

  // Synchronisation: two clock segments (before/after the reset) with offsets
  // ≈ −652340.284 and ≈ 1121.166; after applying them, both streams' times run
  // forward across the reset, and the markers fall inside the EEG's time span.
  const sy = await readXdf(path, { sync: true });
  for (const id of [1, 2]) {
    const s = byId(sy.streams, id);
    const segs = s.clockSegments!;
    assert.equal(segs.length, 2, `stream ${id}: one reset`);
    near(segs[0]!.fit.a, -652340.284, 0.001, 'offset before reset');
    near(segs[1]!.fit.a, 1121.166, 0.001, 'offset after reset');
    const t = s.syncedTimestamps!;
    let back = 0;
    for (let i = 1; i < t.length; i++) back = Math.min(back, t[i]! - t[i - 1]!);
    assert.ok(back > -0.05, `stream ${id}: no backward jump after sync (worst ${back})`);
    // Raw timestamps do jump back by ~653 000 s at the reset.
    let rawBack = 0;
    for (let i = 1; i < s.timestamps.length; i++) rawBack = Math.min(rawBack, s.timestamps[i]! - s.timestamps[i - 1]!);
    assert.ok(rawBack < -600000);
  }
  const st = byId(sy.streams, 1).syncedTimestamps!;
  const se = byId(sy.streams, 2).syncedTimestamps!;
  assert.ok(st[0]! >= se[0]! && st[st.length - 1]! <= se[se.length - 1]!, 'markers inside the EEG span');
  // Segment choice of pre-reset samples: offset −652340.28…, post-reset: +1121.17….
  near(se[0]! - byId(sy.streams, 2).timestamps[0]!, -652340.284, 0.002, 'first EEG sample uses the first segment');
  near(se[27814]! - byId(sy.streams, 2).timestamps[27814]!, 1121.166, 0.002, 'last EEG sample uses the second segment');
  // Without reset handling one line across both clocks cannot fit.
  const noReset = await readXdf(path, { sync: true, handleClockResets: false });
  assert.equal(byId(noReset.streams, 2).clockSegments!.length, 1);
});
