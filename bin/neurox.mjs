#!/usr/bin/env node
// Entry point: reads the global --log-format (before any logger exists), registers
// the TypeScript loader, then runs the CLI.
import { register } from 'tsx/esm/api';

const argv = process.argv.slice(2);
const i = argv.findIndex((a) => a === '--log-format' || a.startsWith('--log-format='));
if (i >= 0) {
  const [flag, inline] = argv[i].split('=');
  const value = inline ?? argv[i + 1];
  if (value !== 'json' && value !== 'pretty') {
    process.stderr.write(`neurox: ${flag}: expected json or pretty, got ${JSON.stringify(value ?? '')}\n`);
    process.exit(2);
  }
  process.env.NEUROX_LOG_FORMAT = value;
  argv.splice(i, inline === undefined ? 2 : 1);
}
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(argv);
