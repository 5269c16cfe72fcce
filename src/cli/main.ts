/**
 * The `neurox` command line. Each subcommand lives in its own module and is loaded
 * only when used, so `neurox --help` stays fast.
 */
import { logger } from '../log.ts';
import { UsageError } from './args.ts';
import { installFatalHandlers } from './fatal.ts';
import { SERVER_NAME } from '../version.ts';

const log = logger('cli');

interface Command {
  summary: string;
  run: (argv: string[]) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  start: {
    summary: 'simulator + runtime together on the embedded default (what `npm start` runs)',
    run: async (a) => (await import('./start.ts')).startCli(a),
  },
  run: {
    summary: 'discover LSL streams, calibrate or load a decoder, emit intents on a WebSocket',
    run: async (a) => (await import('./run.ts')).runCli(a),
  },
  simulate: {
    summary: 'publish a simulated device (EEG/SEEG/ECoG/MEG/audio/markers) as real LSL outlets',
    run: async (a) => (await import('../../devices/cli.ts')).simulateCli(a),
  },
  streams: {
    summary: 'list the LSL streams visible on the network',
    run: async (a) => (await import('./streams.ts')).streamsCli(a),
  },
  record: {
    summary: 'record LSL streams to XDF (like LabRecorder)',
    run: async (a) => (await import('./record.ts')).recordCli(a),
  },
  replay: {
    summary: 'replay an XDF/EDF recording through the pipeline (or re-publish it on LSL)',
    run: async (a) => (await import('./replay.ts')).replayCli(a),
  },
  evaluate: {
    summary: 'train and score a decoder offline on labelled recordings (MI, P300, SSVEP)',
    run: async (a) => (await import('./evaluate.ts')).evaluateCli(a),
  },
  export: {
    summary: 'export a recorded session (XDF) to EDF+ for clinical viewers',
    run: async (a) => (await import('./export.ts')).exportCli(a),
  },
  train: {
    summary: 'train the DIVER-style teacher model (`neurox train teacher`)',
    run: async (a) => {
      if (a[0] !== 'teacher') {
        process.stderr.write(`neurox train: expected "teacher" (neurox train teacher [options]), got ${JSON.stringify(a[0] ?? '')}\n`);
        return 2;
      }
      return (await import('../../models/cli.ts')).trainCli(a.slice(1));
    },
  },
  distill: {
    summary: 'distil the teacher into the DIVER-S student',
    run: async (a) => (await import('../../models/cli.ts')).distillCli(a),
  },
  quantize: {
    summary: 'quantise the student to int8 and export it to ONNX',
    run: async (a) => (await import('../../models/cli.ts')).quantizeCli(a),
  },
};

function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'neurox — real-time streaming BCI runtime',
    '',
    'usage: neurox [--log-format json|pretty] <command> [options]      (neurox <command> --help for its options)',
    '  logs go to stderr: readable lines on a terminal, JSON lines otherwise (--log-format chooses)',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    '',
  ].join('\n');
}

/** Run the CLI; returns the process exit code (2 = usage error). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(help());
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') {
    process.stdout.write(`${SERVER_NAME}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  // An error nobody caught closes what is open and exits non-zero with the reason.
  installFatalHandlers();
  // A reader of our stdout that goes away (`neurox start | head`) must not stop the runtime.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  if (!c) {
    process.stderr.write(`neurox: unknown command "${cmd}"\n\n${help()}`);
    return 2;
  }
  try {
    return await c.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    log.error({ err: (e as Error).message }, `neurox ${cmd} failed`);
    log.debug({ stack: (e as Error).stack }, 'stack of the failure');
    process.stderr.write(`neurox ${cmd}: ${(e as Error).message}\n`);
    return 1;
  }
}
