// Installs dependencies when they are missing or older than package-lock.json, so
// `npm test` and `npm start` work on a fresh clone by themselves.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || (existsSync('package-lock.json') && statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  process.stderr.write('neurox: installing dependencies (npm install)…\n');
  // ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node never fetches its CUDA provider (npm 11 also denies its script through allowScripts).
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { stdio: 'inherit', shell: process.platform === 'win32', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip' } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
