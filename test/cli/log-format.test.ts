/** `--log-format`: JSON lines when asked (and by default off a terminal), readable lines with `pretty`; a bad value is a usage error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN, ROOT } from '../helpers/runtime.ts';

const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60000, env: { ...process.env, NEUROX_LOG_LEVEL: 'info', NEUROX_LOG_FORMAT: '' } });
const ev = ['evaluate', '--paradigm', 'mi', '--train', 'test/data/eegmmidb/S001R04.edf'];

test('log lines are JSON off a terminal and with --log-format json, readable with pretty', { timeout: 120000 }, () => {
  for (const args of [ev, ['--log-format', 'json', ...ev]]) {
    const r = run(args);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    const done = lines.map((l) => JSON.parse(l) as { msg: string; mod: string }).find((l) => l.msg === 'evaluation done');
    assert.equal(done?.mod, 'eval');
  }
  const p = run(['--log-format=pretty', ...ev]);
  assert.equal(p.status, 0, p.stderr);
  const line = p.stderr.split('\n').find((l) => l.includes('evaluation done'))!;
  assert.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: eval: evaluation done \{/);
  const bad = run(['--log-format', 'xml', ...ev]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--log-format: expected json or pretty/);
  assert.match(run(['--version']).stdout, /^neurox \d+\.\d+\.\d+/);
});
