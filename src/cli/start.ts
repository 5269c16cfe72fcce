/**
 * `neurox start` (= `npm start`): the embedded default. Starts the device simulator
 * in its own process (real LSL outlets), calibrates the baseline decoder from the
 * simulator's labelled calibration block, runs the runtime, and prints intents.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Intent } from '../types.ts';
import { logger } from '../log.ts';
import { num, parse } from './args.ts';
import { startFromOptions, untilStopped } from './run.ts';
import { injectFaultFromEnv } from './fatal.ts';

const log = logger('cli.start');

const HELP = `neurox start [options]
  --device PROFILE   simulated device (default eeg64-160; see neurox simulate --help)
  --seed N           simulator seed (default 1)
  --port N           WebSocket port (default 8765)
  --duration S       stop after S seconds (default: until Ctrl-C)
  --quiet            do not print intents
  --decoder NAME     baseline (default) or diver-s (the shipped ONNX model, MI adapter)
`;

export async function startCli(argv: string[]): Promise<number> {
  const { values } = parse('start', argv, {
    device: { type: 'string' },
    seed: { type: 'string' },
    port: { type: 'string' },
    duration: { type: 'string' },
    quiet: { type: 'boolean' },
    decoder: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const device = values.device ?? 'eeg64-160';
  const seed = num('seed', values.seed, 1, Number.isInteger);
  const duration = values.duration === undefined ? undefined : num('duration', values.duration, 0, (x) => x > 0);
  // Our own simulator's streams only, even when other streams share the network.
  const sourceId = `neurox-start-${process.pid}`;
  const bin = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));
  let sim: ChildProcess | undefined;
  let simExit: Promise<number> = new Promise(() => undefined);
  const spawnSim = () => {
    sim = spawn(process.execPath, [bin, 'simulate', '--device', device, '--paradigm', 'mi', '--seed', String(seed), '--source-id', sourceId, '--exit-with-parent'], {
      // stdin is a pipe the simulator watches: when this process dies, however it dies, the pipe closes and the simulator stops.
      stdio: ['pipe', 'ignore', 'inherit'],
      // Own process group: Ctrl-C reaches us, and we stop the simulator ourselves, in order.
      detached: true,
    });
    const child = sim;
    simExit = new Promise<number>((r) => child.on('exit', (c) => r(c ?? 0)));
    log.info({ pid: child.pid, device, seed }, 'simulator started');
  };
  try {
    // Options are checked and the port is bound before the simulator is spawned.
    const session = await startFromOptions(
      {
        'calibrate-sim': device,
        seed: String(seed),
        port: values.port,
        'source-id': sourceId,
        decoder: values.decoder,
      },
      { afterBind: spawnSim },
    );
    injectFaultFromEnv();
    process.stdout.write(`neurox: simulator "${device}" (seed ${seed}) → runtime → intents on ws://127.0.0.1:${session.port}\n`);
    process.stdout.write('neurox: connect with the TypeScript client (adapters/ws/client.ts) or any WebSocket client; Ctrl-C stops.\n');
    let last = 0;
    let n = 0;
    session.onIntent((i: Intent) => {
      n++;
      if (values.quiet || i.tEmit - last < 0.5) return;
      last = i.tEmit;
      const p = Object.entries(i.probs).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' ');
      process.stdout.write(`intent #${i.seq} ${i.label.padEnd(6)} conf ${i.confidence.toFixed(2)}  [${p}]  latency ${i.latencyMs.toFixed(2)} ms\n`);
    });
    const why = await Promise.race([untilStopped(duration), simExit.then((c) => `simulator exited (${c})`)]);
    log.info({ why, intents: n }, 'stopping');
    await session.stop();
    process.stdout.write(`neurox: stopped (${why}); ${n} intents emitted\n`);
    return why.startsWith('simulator') ? 1 : 0;
  } finally {
    const child = sim as ChildProcess | undefined;
    if (child && child.exitCode === null) child.kill('SIGTERM');
    if (child) await Promise.race([simExit, new Promise((r) => setTimeout(r, 3000))]);
  }
}
