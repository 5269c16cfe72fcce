/**
 * BIDS electrodes.tsv: units (sidecar, caller, detected), n/a, name matching, attaching
 * positions to real recordings' channels. Known answers: MNE's reading of the same files
 * (scripts/gen-seeg-montage-fixture.py → test/fixtures/ieeg/montage.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  attachElectrodes, attachElectrodesToChannels, coordsystemPathFor, detectLengthUnit, ElectrodesError, parseElectrodesTsv, readElectrodes,
} from '../../adapters/bids/electrodes.ts';
import { readEdf } from '../../adapters/edf/reader.ts';
import type { ChannelInfo, StreamMeta } from '../../src/types.ts';

const SEEG_TSV = resolve('test/data/ieeg/seeg/sample_seeg_electrodes.tsv');
const ECOG_TSV = resolve('test/data/ieeg/ecog/sample_ecog_electrodes.tsv');
const fx = JSON.parse(readFileSync(resolve('test/fixtures/ieeg/montage.json'), 'utf8')) as {
  seeg: { positionsMetres: Record<string, [number, number, number]> };
  ecog: { positionsMetres: Record<string, [number, number, number]> };
};

function assertPositions(got: Map<string, [number, number, number] | undefined>, want: Record<string, [number, number, number]>) {
  assert.deepEqual([...got.keys()].sort(), Object.keys(want).sort());
  for (const [k, p] of Object.entries(want)) {
    const g = got.get(k)!;
    assert.ok(g, k);
    for (let d = 0; d < 3; d++) assert.ok(Math.abs(g[d]! - p[d]!) <= 1e-12 * Math.max(1e-3, Math.abs(p[d]!)), `${k}[${d}] ${g[d]} vs ${p[d]}`);
  }
}
const asMap = (t: { electrodes: { name: string; pos?: [number, number, number] }[] }) => new Map(t.electrodes.map((e) => [e.name, e.pos]));

test('SEEG electrodes.tsv in mm and ECoG in m both read as metres, equal to MNE (units detected)', () => {
  const s = readElectrodes(SEEG_TSV);
  assert.equal(s.unit, 'mm');
  assert.equal(s.unitSource, 'detected');
  assert.equal(s.electrodes.length, 88);
  assertPositions(asMap(s), fx.seeg.positionsMetres);
  const e = readElectrodes(ECOG_TSV);
  assert.equal(e.unit, 'm');
  assert.equal(e.unitSource, 'detected');
  assertPositions(asMap(e), fx.ecog.positionsMetres);
  // metres: every SEEG contact lies inside a head (|p| < 0.15 m)
  for (const x of s.electrodes) assert.ok(Math.hypot(...x.pos!) < 0.15, x.name);
});

test('units: the caller\'s unit when there is no sidecar; the coordsystem sidecar wins when present', () => {
  const mm = readElectrodes(SEEG_TSV, { units: 'mm' });
  assert.equal(mm.unitSource, 'caller');
  const cm = readElectrodes(SEEG_TSV, { units: 'cm' });
  assert.equal(cm.unit, 'cm');
  assert.ok(Math.abs(cm.electrodes[0]!.pos![0] - 10 * mm.electrodes[0]!.pos![0]) < 1e-15);
  const dir = mkdtempSync(join(tmpdir(), 'neurox-bids-'));
  try {
    const tsv = join(dir, 'sub-01_ses-01_space-MNI_electrodes.tsv');
    writeFileSync(tsv, readFileSync(SEEG_TSV));
    assert.equal(coordsystemPathFor(tsv), join(dir, 'sub-01_ses-01_space-MNI_coordsystem.json'));
    writeFileSync(coordsystemPathFor(tsv)!, JSON.stringify({ iEEGCoordinateSystem: 'MNI152NLin2009aSym', iEEGCoordinateUnits: 'mm' }));
    const side = readElectrodes(tsv, { units: 'm' });
    assert.equal(side.unitSource, 'sidecar');
    assert.equal(side.unit, 'mm');
    assertPositions(asMap(side), fx.seeg.positionsMetres);
    writeFileSync(coordsystemPathFor(tsv)!, JSON.stringify({ EEGCoordinateUnits: 'cm' }));
    assert.equal(readElectrodes(tsv).unit, 'cm');
    // a sidecar without a usable unit falls back to the caller, then to detection
    writeFileSync(coordsystemPathFor(tsv)!, JSON.stringify({ iEEGCoordinateUnits: 'pixels' }));
    assert.equal(readElectrodes(tsv).unitSource, 'detected');
    assert.equal(readElectrodes(tsv, { units: 'mm' }).unitSource, 'caller');
    writeFileSync(coordsystemPathFor(tsv)!, '{ not json');
    assert.throws(() => readElectrodes(tsv), ElectrodesError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('detection rule, n/a coordinates, other columns, malformed files', () => {
  assert.equal(detectLengthUnit([0.07, -0.09, 1.5]), 'm');
  assert.equal(detectLengthUnit([0.07, -1.51]), 'mm');
  assert.equal(detectLengthUnit([]), 'm');
  const t = parseElectrodesTsv('name\tx\ty\tz\tsize\tgroup\nA1\t1\t2\t3\t5\tA\nA2\tn/a\tn/a\tn/a\t5\tA\nA3\t4\t\t6\t5\tA\n', { units: 'mm' });
  assert.deepEqual(t.electrodes[0]!.pos, [0.001, 0.002, 0.003]);
  assert.equal(t.electrodes[1]!.pos, undefined);
  assert.equal(t.electrodes[2]!.pos, undefined, 'an empty cell is no position');
  assert.deepEqual(t.electrodes[0]!.extra, { size: '5', group: 'A' });
  // CRLF and a BOM are tolerated
  assert.equal(parseElectrodesTsv('\uFEFFname\tx\ty\tz\r\nC1\t0.01\t0\t0\r\n').electrodes[0]!.pos![0], 0.01);
  assert.throws(() => parseElectrodesTsv('label,x,y,z\nA1,1,2,3\n'), /header must name the columns name, x, y and z/);
  assert.throws(() => parseElectrodesTsv('name\tx\ty\tz\nA1\t1\t2\t3\nPOL A1\t1\t2\t3\n'), /line 3: electrode POL A1 is listed twice/);
  assert.throws(() => parseElectrodesTsv(''), /empty file/);
});

test('attaching to the real SEEG channels: names matched robustly, unmatched reported both ways', () => {
  const edf = readEdf(resolve('test/data/ieeg/seeg/sample_seeg.edf'));
  const channels: ChannelInfo[] = edf.signals.filter((s) => !s.isAnnotation).map((s) => ({ label: s.label, type: 'EEG' }));
  const table = readElectrodes(SEEG_TSV);
  const r = attachElectrodesToChannels(channels, table);
  assert.equal(r.matched, 88);
  assert.deepEqual(r.unmatchedChannels, [], 'EKG and DC inputs are not expected in the table');
  assert.deepEqual(r.unmatchedElectrodes, []);
  assert.equal(r.channels.find((c) => c.label === 'EKG1')!.pos, undefined);
  assert.deepEqual(r.channels.find((c) => c.label === "X'7")!.pos, fx.seeg.positionsMetres["X'7"]);
  assert.equal(channels[0]!.pos, undefined, 'the input list is not modified');

  // clinical spellings of the same contacts; a contact the table lacks; a row no channel has
  const spelled: ChannelInfo[] = [{ label: "POL L'1" }, { label: 'SEEG l\u20192' }, { label: "EEG L' 3-Ref" }, { label: 'Q1' }, { label: 'EKG1' }];
  const small = parseElectrodesTsv("name\tx\ty\tz\nL'1\t1\t2\t3\nL'2\t4\t5\t6\nL'3\tn/a\tn/a\tn/a\nZ'9\t1\t1\t1\n", { units: 'mm' });
  const s = attachElectrodesToChannels([...spelled.slice(0, 2), { ...spelled[2]!, pos: [9, 9, 9] }, ...spelled.slice(3)], small);
  assert.deepEqual(s.channels.map((c) => c.pos), [[0.001, 0.002, 0.003], [0.004, 0.005, 0.006], undefined, undefined, undefined]);
  assert.equal(s.matched, 2);
  assert.deepEqual(s.withoutPosition, ["EEG L' 3-Ref"]);
  assert.deepEqual(s.unmatchedChannels, ['Q1']);
  assert.deepEqual(s.unmatchedElectrodes, ["Z'9"]);

  // on stream metadata: channels replaced; a stream with no name in common is returned as is
  const meta = { name: 'seeg', type: 'EEG', channelCount: channels.length, srate: 1000, channels } as StreamMeta;
  const m = attachElectrodes(meta, table);
  assert.notEqual(m, meta);
  assert.equal(m.channels.filter((c) => c.pos).length, 88);
  const markers = { ...meta, channels: [{ label: 'annotation' }] } as StreamMeta;
  assert.equal(attachElectrodes(markers, table), markers);
});

test('neurox replay --electrodes/--bad-channels run on the real SEEG; bad units are a usage error', () => {
  const bin = resolve('bin/neurox.mjs');
  const seeg = resolve('test/data/ieeg/seeg/sample_seeg.edf');
  const bad = spawnSync(process.execPath, [bin, 'replay', seeg, '--electrodes', SEEG_TSV, '--electrode-units', 'inch'], { encoding: 'utf8', timeout: 120_000 });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--electrode-units: expected mm, cm or m, got "inch"/);
  const ok = spawnSync(process.execPath, [bin, 'replay', seeg, '--electrodes', SEEG_TSV, '--bad-channels', '--quiet'], {
    encoding: 'utf8', timeout: 240_000, env: { ...process.env, NEUROX_LOG_LEVEL: 'info', NEUROX_LOG_FORMAT: 'json' },
  });
  assert.equal(ok.status, 0, ok.stderr.slice(-2000));
  const logs = ok.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const attached = logs.find((l) => l.msg === 'electrode positions attached');
  assert.ok(attached, 'positions attached before the pipeline');
  assert.equal(attached.matched, 88);
  assert.ok(logs.some((l) => l.msg === 'no unit stated for electrode coordinates; assuming mm'));
  assert.match(ok.stdout, /replayed .*sample_seeg\.edf: 2 streams, 20000 samples/);
  // the detector ran in the replayed dsp stage (the real file has transient high-variance contacts)
  const flagged = logs.filter((l) => l.msg === 'channel marked bad').map((l) => l.channel);
  assert.ok(flagged.length > 0 && flagged.every((c) => typeof c === 'string' && /^[LNFOGX]'\d+$/.test(c)), `flagged: ${flagged}`);
});
