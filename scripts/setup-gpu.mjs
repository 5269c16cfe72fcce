// Opt-in GPU setup: fetches onnxruntime-node's CUDA execution provider
// (libonnxruntime_providers_cuda.so and friends, from the package's own download
// source — outside the npm registry, so never part of `npm install`). Needs CUDA 12
// and cuDNN 9 on the machine. Afterwards `--device gpu` uses the CUDA provider;
// without it `--device gpu` logs the fallback and runs on the CPU.
//   npm run setup:gpu
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let pkg;
try {
  pkg = dirname(require.resolve('onnxruntime-node/package.json'));
} catch {
  process.stderr.write('setup:gpu: onnxruntime-node is not installed; run npm install first\n');
  process.exit(1);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  process.stderr.write(`setup:gpu: the CUDA provider of onnxruntime-node exists for linux/x64 only (this is ${process.platform}/${process.arch})\n`);
  process.exit(1);
}
const script = join(pkg, 'script', 'install.js');
if (!existsSync(script)) {
  process.stderr.write(`setup:gpu: ${script} not found; this onnxruntime-node version installs its CUDA provider differently\n`);
  process.exit(1);
}
process.stderr.write('setup:gpu: fetching the CUDA execution provider for onnxruntime-node (needs network access beyond npm)…\n');
const r = spawnSync(process.execPath, [script], { cwd: pkg, stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' } });
if (r.status !== 0) {
  process.stderr.write('setup:gpu: failed; --device gpu will keep falling back to the CPU (with a log line)\n');
  process.exit(r.status ?? 1);
}
const so = join(pkg, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so');
process.stderr.write(existsSync(so) ? `setup:gpu: installed ${so}\n` : 'setup:gpu: the install script finished but the CUDA provider is not where expected\n');
