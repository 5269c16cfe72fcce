/**
 * Online/offline parity: a live session on the simulator (real LSL outlets, real
 * inlets) with a fixed decoder, recorded by the recorder; `neurox replay --compare`
 * of the file reproduces the intents recorded live: same seqs, same labels,
 * probabilities within float32 rounding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../../devices/simulate.ts';
import { startFromOptions } from '../../src/cli/run.ts';
import type { Intent } from '../../src/types.ts';
import { compareIntents, replayRecording } from '../../src/session/replay/index.ts';
import { BaselineDecoder } from '../../src/decode/baseline.ts';
import { profilePathFor } from '../../src/session/record.ts';

const BIN = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'neurox-parity-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('replay of a recorded live session reproduces its intents', { timeout: 60_000 }, async (t) => {
  const tag = `parity-${process.pid}`;
  const sim = await startSimulator({ profile: 'eeg64-160', paradigm: 'mi', seed: 3, name: tag, sourceId: `${tag}-src` });
  const file = join(dir, 'session.xdf');
  const live: Intent[] = [];
  try {
    const s = await startFromOptions({ name: tag, 'markers-type': 'Markers', 'calibrate-sim': 'eeg64-160', seed: '3', port: '0', record: file });
    s.onIntent((i) => live.push(i));
    await new Promise((r) => setTimeout(r, 9000));
    await s.stop();
  } finally {
    await sim.stop();
  }
  assert.ok(live.length > 50, `live session emitted ${live.length} intents`);
  assert.ok(existsSync(profilePathFor(file)), 'decoder profile saved next to the recording');

  // In-process replay.
  const r = await replayRecording(file, { decoder: BaselineDecoder.load(profilePathFor(file)) });
  assert.equal(r.recordedIntents.length, live.length, 'every live intent is in neurox-intents');
  const c = compareIntents(r.intents, r.recordedIntents);
  t.diagnostic(`live ${live.length} intents; replay ${r.intents.length}; compared ${c.compared}; label mismatches ${c.labelMismatches}; max |dp| ${c.maxProbDiff}; missing ${c.missing.length}; extra ${c.extra.length}; replay took ${r.wallSeconds.toFixed(2)} s for ${r.span.toFixed(1)} s`);
  assert.equal(c.missing.length, 0);
  assert.equal(c.labelMismatches, 0);
  assert.ok(c.maxProbDiff <= 1e-6, `max prob diff ${c.maxProbDiff}`);
  for (const i of r.recordedIntents) {
    const j = r.intents.find((x) => x.seq === i.seq)!;
    assert.equal(j.tFrame, i.tFrame, 'same frame times');
  }

  // The CLI: auto-loads <file>.decoder.json, exits 0 when equal.
  const out = join(dir, 'intents.jsonl');
  const p = spawnSync(process.execPath, [BIN, 'replay', file, '--compare', '--quiet', '--json-out', out], { encoding: 'utf8', timeout: 40_000 });
  t.diagnostic(p.stdout.trim());
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /EQUAL/);
});
