// Runs every test/**/*.test.ts with node's test runner, one file at a time (the
// machine has 2 cores and several tests start real LSL processes).
// Usage: node scripts/test.mjs [path-prefix ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}
const filters = process.argv.slice(2);
const files = find('test').filter((f) => filters.length === 0 || filters.some((x) => f.startsWith(x))).sort();
if (files.length === 0) {
  process.stderr.write(`no test files match ${filters.join(' ')}\n`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', ...files], {
  stdio: 'inherit',
  env: { NEUROX_LOG_LEVEL: 'warn', ...process.env },
});
process.exit(r.status ?? 1);
