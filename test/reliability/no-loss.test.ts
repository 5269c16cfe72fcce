/**
 * No loss: 60 s of a 256-channel × 2048 Hz stream from another process, read through
 * our inlet while the pipeline (clock + framer) runs, arrives with zero missing or
 * duplicated samples, checked with the counter channel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lslSource } from '../../adapters/lsl/index.ts';
import { ClockCorrector } from '../../src/clock/index.ts';
import { Framer } from '../../src/align/index.ts';
import { CounterCheck, counterOutlet } from '../helpers/counter-process.ts';

const SECONDS = Number(process.env.NEUROX_NOLOSS_SECONDS ?? 60);
const C = 256;
const SRATE = 2048;

test(`no loss: ${SECONDS} s of ${C} ch × ${SRATE} Hz through inlet + clock + framer`, { timeout: (SECONDS + 60) * 1000 }, async (t) => {
  const name = `noloss-${process.pid}`;
  const proc = counterOutlet({ name, sourceId: `${name}-src`, channels: C, srate: SRATE, t0: 'wait', seconds: SECONDS });
  const clock = new ClockCorrector();
  const framer = new Framer({ hop: 0.08, window: 1 });
  const counter = new CounterCheck(0);
  let gaps = 0;
  let frames = 0;
  const done = new Promise<void>((resolve, reject) => {
    const sub = lslSource({ prop: 'name', value: name }, { resolveTimeout: 20 }).subscribe({
      next: (raw) => {
        for (const c of clock.process(raw)) {
          if (c.kind === 'gap') gaps++;
          if (c.kind === 'signal') counter.add(c.data, C);
          frames += framer.push(c, c.kind === 'signal' ? c.arrivedAt : undefined).length;
        }
        if (counter.expected! >= SECONDS * SRATE) (sub.unsubscribe(), resolve());
      },
      error: reject,
    });
    proc.on('exit', () => setTimeout(() => (sub.unsubscribe(), resolve()), 3000));
  });
  await done;
  proc.kill();
  const { received, missing, duplicated } = counter;
  t.diagnostic(`received ${received} samples (${(received * C / 1e6).toFixed(1)} M values), missing ${missing}, duplicated ${duplicated}, gaps ${gaps}, frames ${frames}`);
  assert.equal(received, SECONDS * SRATE, 'every sample arrived');
  assert.equal(missing, 0);
  assert.equal(duplicated, 0);
  assert.equal(gaps, 0);
  assert.ok(frames >= SECONDS / 0.08 - 30, `framer kept up: ${frames} frames`);
});
