/**
 * Bad configuration files and CLI arguments of `neurox run` (beyond the ones
 * process-faults.test.ts checks): each fails with a message naming the option, the
 * file or the field, a non-zero exit status, and leaves no recording behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT } from '../helpers/runtime.ts';

interface Case {
  what: string;
  args: string[];
  /** Exit status: 2 for a bad argument, 1 for a file that cannot be used. */
  status: number;
  message: RegExp;
}

function runCli(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, 'run', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('exit', (status) => (clearTimeout(timer), resolve({ status, stderr })));
  });
}

test('bad profiles, token files and dsp arguments: named, non-zero exit, nothing recorded', { timeout: 180000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurox-config-'));
  const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  const valid = {
    kind: 'neurox-baseline-profile', version: 1, bands: [{ name: 'mu', lo: 8, hi: 13 }], channels: ['C3', 'C4'], car: false, srate: 160,
    lda: { classes: ['left', 'right'], mean: [0, 0], scale: [1, 1], weights: [[1, 0], [0, 1]], bias: [0, 0], shrinkage: 0.1 },
    calibratedAt: '2024-01-01T00:00:00Z', trainAccuracy: 1,
  };
  const malformed = file('malformed.json', '{"kind": "neurox-baseline-profile", ');
  const wrongKind = file('wrong-kind.json', JSON.stringify({ kind: 'neurox-session', version: 1 }));
  const array = file('array.json', '[1, 2]');
  const noBands = file('no-bands.json', JSON.stringify({ ...valid, bands: undefined }));
  const badWeights = file('bad-weights.json', JSON.stringify({ ...valid, lda: { ...valid.lda, weights: [[1, 0], [0]] } }));
  const badModel = file('bad-model.json', JSON.stringify({ kind: 'neurox-model-profile', version: 1 }));
  const emptyTokens = file('empty-tokens', '\n\n');
  const cases: Case[] = [
    { what: 'malformed profile JSON', args: ['--profile', malformed], status: 1, message: /cannot read decoder profile .*malformed\.json: .*JSON/ },
    { what: 'profile of the wrong kind', args: ['--profile', wrongKind], status: 1, message: /wrong-kind\.json is not a neurox decoder profile \(kind "neurox-session"\)/ },
    { what: 'profile that is no object', args: ['--profile', array], status: 1, message: /array\.json is not a neurox decoder profile \(kind missing\)/ },
    { what: 'baseline profile without bands', args: ['--profile', noBands], status: 1, message: /no-bands\.json: invalid baseline profile: field "bands"/ },
    { what: 'baseline profile with ragged weights', args: ['--profile', badWeights], status: 1, message: /bad-weights\.json: invalid baseline profile: field "lda\.weights" must be 2 lists of 2 numbers/ },
    { what: 'model profile without its model', args: ['--profile', badModel], status: 1, message: /bad-model\.json: not a valid neurox model profile/ },
    { what: 'profile that does not exist', args: ['--profile', join(dir, 'absent.json')], status: 1, message: /cannot read decoder profile .*absent\.json: ENOENT/ },
    { what: 'missing token file', args: ['--token-file', join(dir, 'absent-tokens')], status: 2, message: /--token-file: ENOENT/ },
    { what: 'empty token file', args: ['--token-file', emptyTokens], status: 2, message: /--token-file: .*empty-tokens holds no token/ },
    { what: 'band-pass the wrong way round', args: ['--bandpass', '40,1'], status: 2, message: /--bandpass: expected LO,HI in Hz with 0 < LO < HI, got "40,1"/ },
    { what: 'notch not at a line frequency', args: ['--notch', '55'], status: 2, message: /--notch: expected 50 or 60, got "55"/ },
    { what: 'zero window', args: ['--window', '0'], status: 2, message: /--window: invalid value "0"/ },
    { what: 'health interval too short', args: ['--health-every', '0.1'], status: 2, message: /--health-every: invalid value "0\.1"/ },
    { what: 'abstain threshold above 1', args: ['--abstain-below', '2'], status: 2, message: /--abstain-below: invalid value "2"/ },
    { what: 'option without its value', args: ['--allow-origin'], status: 2, message: /--allow-origin/ },
    { what: 'unknown simulator device', args: ['--calibrate-sim', 'nope'], status: 1, message: /unknown device profile 'nope'; valid profiles: / },
  ];
  try {
    // A few at a time: each is a whole CLI start.
    for (let i = 0; i < cases.length; i += 4) {
      await Promise.all(cases.slice(i, i + 4).map(async (c, k) => {
        const rec = join(dir, `rec-${i + k}.xdf`);
        const r = await runCli(['--record', rec, '--port', '0', ...c.args]);
        assert.equal(r.status, c.status, `${c.what}: exit ${c.status} (stderr: ${r.stderr.slice(-400)})`);
        assert.match(r.stderr, c.message, `${c.what}: the message names it`);
        assert.doesNotMatch(r.stderr, /\n\s+at .*\.ts:\d+/, `${c.what}: a message, not a stack trace`);
        assert.equal(existsSync(rec), false, `${c.what}: no recording left behind`);
      }));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
