// Installs dependencies when they are missing or older than package-lock.json, so
// `npm test` and `npm start` work on a fresh clone by themselves.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || (existsSync('package-lock.json') && statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  process.stderr.write('neurox: installing dependencies (npm install)…\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
