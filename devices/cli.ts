/**
 * `neurox simulate`: publish a simulated device as real LSL outlets until SIGINT/SIGTERM
 * (or --duration seconds). Prints one JSON line with the published streams on stdout.
 */
import { UsageError, optNum, parse } from '../src/cli/args.ts';
import { PARADIGMS, PROFILES, type Paradigm } from './profiles.ts';
import { localClock } from '../adapters/lsl/index.ts';
import { startSimulator, type Simulator } from './simulate.ts';
import { watchParent } from '../src/util/parent-watch.ts';

const HELP = `usage: neurox simulate --device <profile> [options]

  --device <profile>     ${Object.keys(PROFILES).join(' | ')}
                         several, comma-separated (e.g. seeg,audio16k): one shared clock
                         start and schedule, one marker stream (from the first device)
  --paradigm <p>         ${PARADIGMS.join(' | ')}  (default: the profile's)
  --seed <n>             integer seed (default 1); same seed → identical stream
  --duration <s>         stop after s seconds of stream time (default: until Ctrl-C)
  --channels <n>         counter profile only: total channels incl. COUNTER (default 256)
  --srate <hz>           override the sampling rate
  --chunk-ms <ms>        push granularity (default 20)
  --line <50|60>         mains frequency (default 50)
  --no-artifacts         no line noise, blinks, pops or drift
  --dropout              channels go flat for a while now and then
  --counter              append the COUNTER channel (sample index mod 2^24)
  --no-markers           do not publish the marker stream
  --annotate             also publish truth:* markers (blinks, pops, dropouts, ripples, speech on/offsets)
  --name <name>          LSL stream name (default neurox-sim-<profile>)
  --source-id <id>       LSL source_id (default neurox-sim-<profile>-<seed>)
  --exit-with-parent     stop when the parent process dies (stdin closes or the parent pid changes)
  --list                 list the device profiles and exit
  -h, --help             this help
`;

const OPTIONS = {
  'exit-with-parent': { type: 'boolean' },
  device: { type: 'string' },
  paradigm: { type: 'string' },
  seed: { type: 'string' },
  duration: { type: 'string' },
  channels: { type: 'string' },
  srate: { type: 'string' },
  'chunk-ms': { type: 'string' },
  line: { type: 'string' },
  'no-artifacts': { type: 'boolean' },
  dropout: { type: 'boolean' },
  counter: { type: 'boolean' },
  'no-markers': { type: 'boolean' },
  annotate: { type: 'boolean' },
  name: { type: 'string' },
  'source-id': { type: 'string' },
  list: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parse argv (without the `simulate` word), run until SIGINT/SIGTERM or --duration; returns the exit code. */
export async function simulateCli(argv: string[]): Promise<number> {
  const { values: a } = parse('simulate', argv, OPTIONS);
  if (a.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (a.list) {
    for (const p of Object.values(PROFILES)) {
      process.stdout.write(`${p.name.padEnd(10)} ${String(p.channels.length + (p.counter ? 1 : 0)).padStart(4)} ch  ${String(p.srate).padStart(5)} Hz  ${p.description}\n`);
    }
    return 0;
  }
  if (!a.device) throw new UsageError(`neurox simulate: --device is required; one of ${Object.keys(PROFILES).join(', ')}`);
  const devices = a.device.split(',').map((d) => d.trim()).filter(Boolean);
  for (const d of devices) {
    if (!Object.prototype.hasOwnProperty.call(PROFILES, d)) {
      throw new UsageError(`neurox simulate: unknown device '${d}'; valid profiles: ${Object.keys(PROFILES).join(', ')}`);
    }
  }
  if (devices.length === 0) throw new UsageError(`neurox simulate: --device is empty`);
  if (new Set(devices).size !== devices.length) throw new UsageError(`neurox simulate: --device lists a profile twice`);
  if (a.paradigm !== undefined && !PARADIGMS.includes(a.paradigm as Paradigm)) {
    throw new UsageError(`neurox simulate: unknown paradigm '${a.paradigm}'; valid: ${PARADIGMS.join(', ')}`);
  }
  const seed = optNum('seed', a.seed, Number.isSafeInteger) ?? 1;
  const duration = optNum('duration', a.duration, (x) => x > 0);
  const channels = optNum('channels', a.channels, (x) => Number.isInteger(x) && x >= 1);
  const srate = optNum('srate', a.srate, (x) => x > 0);
  const chunkMs = optNum('chunk-ms', a['chunk-ms'], (x) => x > 0 && x <= 1000);
  const line = optNum('line', a.line, (x) => x === 50 || x === 60) as 50 | 60 | undefined;
  if (channels !== undefined && !(devices.length === 1 && devices[0] === 'counter')) {
    throw new UsageError(`neurox simulate: --channels only applies to --device counter`);
  }
  if (srate !== undefined && devices.length > 1) throw new UsageError(`neurox simulate: --srate needs a single --device`);
  // with several devices they share one paradigm (the first device's default unless given)
  const paradigm = (a.paradigm as Paradigm | undefined) ?? PROFILES[devices[0]].defaultParadigm;
  const multi = devices.length > 1;

  const sims: Simulator[] = [];
  const t0 = localClock() + 0.05;
  try {
    for (const [i, device] of devices.entries()) {
      sims.push(
        await startSimulator({
          profile: device,
          paradigm,
          seed,
          channels,
          srate,
          chunkMs,
          markers: !a['no-markers'] && i === 0,
          name: a.name !== undefined && multi ? `${a.name}-${device}` : a.name,
          sourceId: a['source-id'] !== undefined && multi ? `${a['source-id']}-${device}` : a['source-id'],
          durationSec: duration,
          t0,
          generator: {
            artifacts: !a['no-artifacts'],
            dropout: a.dropout ?? false,
            lineFreq: line,
            counterChannel: a.counter ? true : undefined,
            annotate: a.annotate ?? false,
          },
        }),
      );
    }
  } catch (e) {
    await Promise.all(sims.map((s) => s.stop()));
    const msg = (e as Error).message;
    if (/unknown|must|only|cannot/.test(msg) && !/liblsl/i.test(msg)) throw new UsageError(`neurox simulate: ${msg}`);
    throw e;
  }
  const streams = sims.flatMap((s) => s.streams);
  process.stdout.write(JSON.stringify({ event: 'simulating', device: a.device, paradigm, seed, t0, streams }) + '\n');
  const stopAll = (): void => void Promise.all(sims.map((s) => s.stop()));
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  const unwatch = a['exit-with-parent'] ? watchParent(stopAll) : () => undefined;
  try {
    await Promise.all(sims.map((s) => s.done));
  } finally {
    process.off('SIGINT', stopAll);
    process.off('SIGTERM', stopAll);
    unwatch();
  }
  const samples = sims.reduce((n, s) => n + s.samplesPushed(), 0);
  process.stdout.write(JSON.stringify({ event: 'stopped', samples, perStream: sims.map((s) => s.samplesPushed()) }) + '\n');
  return 0;
}
