/**
 * Layering: imports point down the data flow, and from the outside world to
 * the core, never back. Every import of every .ts/.mjs file in the code
 * folders (static `import … from`, `export … from`, `import '…'`, dynamic
 * `import('…')`, and `new URL('….ts|.mjs', import.meta.url)` for workers and
 * child processes) is checked against the table below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../helpers/data.ts';
import { readText, repoFiles } from './files.ts';

// ------------------------------------------------------------------ the rules

/**
 * The core (`src/`), bottom to top along the data flow: acquire → clock → dsp
 * → align → tokenize → model → decode → adapt → emit. A module may import its
 * own layer or any layer below. A layer is a folder of src/ or a file at the
 * top of src/ (by its name without extension).
 *  - bottom: chunk types, helpers, logging, the version, the paradigm
 *    vocabularies and the stage contract, importable by every layer;
 *  - decode below adapt: the adapt stage adjusts a decoder's output from
 *    feedback, so it may use decode's types, never the other way;
 *  - eval and session side by side: both run whole pipelines (offline
 *    evaluation replays recordings through the session's replay);
 *  - cli on top: the command line, the outside world's entry into the core.
 */
const CORE_LAYERS: readonly (readonly string[])[] = [
  ['types', 'util', 'log', 'version', 'paradigm', 'stage'],
  ['acquire'],
  ['clock'],
  ['dsp'],
  ['align'],
  ['tokenize'],
  ['model'],
  ['decode'],
  ['adapt'],
  ['emit'],
  ['eval', 'session'],
  ['cli'],
];

/**
 * What each top-level area may import, besides itself. `src` is the core (its
 * inner order above); `src/cli` is the entry from the outside world, so it
 * may reach the adapters, the simulator and the model commands.
 */
const AREAS: Record<string, { may: readonly string[]; why: string }> = {
  'src': { may: [], why: 'the core depends on nothing outside it' },
  'src/cli': { may: ['adapters', 'devices', 'models', 'bin'], why: 'the command line wires the outside world to the core (bin: `start` spawns the CLI entry in a child process)' },
  'adapters': { may: ['src'], why: 'formats and transports sit on the core types' },
  'devices': { may: ['src', 'adapters'], why: 'the simulator publishes over the LSL adapter' },
  'models': { may: ['src', 'adapters', 'devices'], why: 'training reads recordings and simulates data' },
  'bench': { may: ['src', 'adapters', 'devices', 'models'], why: 'benchmarks measure the shipped code, never the tests' },
  'scripts': { may: ['src', 'adapters', 'devices', 'models'], why: 'maintenance scripts use the shipped code, never the tests or benchmarks' },
  'bin': { may: ['src'], why: 'the executable starts the CLI' },
  'test': { may: ['src', 'adapters', 'devices', 'models', 'bench', 'scripts', 'bin'], why: 'tests may exercise everything' },
};

/**
 * Narrower rules inside an area: files under `from` may not import anything under `to`.
 */
const FORBIDDEN: readonly { from: string; to: string; why: string }[] = [
  { from: 'models/diver/', to: 'devices/', why: 'the model definition takes its paradigm vocabularies from src/paradigm.ts, not from the simulator' },
];

/**
 * Imports that break the rules today and are to be removed, each with its
 * reason. Only these importer → imported pairs are tolerated (a path ending in
 * '/' stands for everything under it); an entry that no longer occurs fails the
 * test, so the list can only shrink.
 */
const KNOWN_EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [
  // Offline evaluation loads labelled EDF/XDF recordings itself; the loading belongs behind an interface the CLI fills.
  { from: 'src/eval/data.ts', to: 'adapters/edf/index.ts', why: 'src/eval reads EDF recordings directly' },
  { from: 'src/eval/data.ts', to: 'adapters/xdf/index.ts', why: 'src/eval reads XDF recordings directly' },
  // The session drives real sources and sinks (LSL inlets, the WebSocket server, XDF/EDF readers and the
  // XDF recorder) while it is being rewritten; those belong on the CLI side, handed in through interfaces.
  { from: 'src/session/', to: 'adapters/', why: 'the session opens LSL, WebSocket, XDF and EDF adapters itself' },
  // The decoder report reuses the tests' EEGMMIDB epoching and fixture parity; both belong in src/decode or src/eval.
  { from: 'scripts/decoders-eegmmidb.ts', to: 'test/decode/', why: 'the decoder report imports test helpers' },
];

/** The folders whose code is checked. */
const CODE_DIRS = ['src', 'adapters', 'models', 'devices', 'bench', 'scripts', 'bin', 'test'];

// ------------------------------------------------------------------ classification

/** Top-level area of a repository path: 'src/cli' for the CLI, 'src' for the rest of the core, else the first folder. */
function areaOf(path: string): string | undefined {
  const [top, second] = path.split('/');
  if (top === 'src') return second === 'cli' ? 'src/cli' : 'src';
  return top !== undefined && top in AREAS ? top : undefined;
}

/** Core layer of a path under src/: its folder, or a top-level file's name. */
function layerOf(path: string): string {
  const second = path.split('/')[1]!;
  return second.replace(/\.(ts|mjs)$/, '');
}

function layerIndex(layer: string): number {
  return CORE_LAYERS.findIndex((l) => l.includes(layer));
}

/** Why `from` may not import `to`, or undefined when it may. */
export function ruleBroken(from: string, to: string): string | undefined {
  const a = areaOf(from);
  const b = areaOf(to);
  if (a === undefined) return `${from} is outside the checked folders`;
  const narrow = FORBIDDEN.find((r) => from.startsWith(r.from) && to.startsWith(r.to));
  if (narrow) return `${narrow.from} may not import ${narrow.to} (${narrow.why})`;
  if (b === undefined) return `imports ${to}, outside every code folder`;
  const aCore = a === 'src' || a === 'src/cli';
  const bCore = b === 'src' || b === 'src/cli';
  if (aCore && bCore) {
    const la = layerIndex(layerOf(from));
    const lb = layerIndex(layerOf(to));
    if (la < 0) return `src/${layerOf(from)} is not in CORE_LAYERS`;
    if (lb < 0) return `src/${layerOf(to)} is not in CORE_LAYERS`;
    if (lb > la) return `core layer '${layerOf(from)}' imports '${layerOf(to)}', which is above it in the data flow`;
    return undefined;
  }
  if (a === b) return undefined;
  const target = bCore ? 'src' : b;
  if (AREAS[a]!.may.includes(target)) return undefined;
  return `${a}/ may not import ${b}/ (${AREAS[a]!.why})`;
}

// ------------------------------------------------------------------ parsing

export interface Edge {
  from: string;
  to: string;
  line: number;
  kind: string;
}

/** Every relative import of one file's source, resolved to a repository path. */
export function importsOf(file: string, source: string): Edge[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, file.endsWith('.mjs') ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const out: Edge[] = [];
  const add = (spec: string, node: ts.Node, kind: string): void => {
    if (!spec.startsWith('.')) return; // packages and node: builtins
    const to = normalize(join(dirname(file), spec)).replaceAll('\\', '/');
    out.push({ from: file, to, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, kind });
  };
  const isImportMetaUrl = (e: ts.Expression | undefined): boolean =>
    e !== undefined && ts.isPropertyAccessExpression(e) && ts.isMetaProperty(e.expression) && e.expression.keywordToken === ts.SyntaxKind.ImportKeyword && e.name.text === 'url';
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node, ts.isImportDeclaration(node) ? 'import' : 'export from');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) add(arg.text, node, 'import()');
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL') {
      const [spec, base] = node.arguments ?? [];
      if (spec && ts.isStringLiteralLike(spec) && /\.(ts|mjs)$/.test(spec.text) && isImportMetaUrl(base)) add(spec.text, node, 'new URL');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Whether an exception's path (a file, or a folder ending in '/') covers `path`. */
function covers(pattern: string, path: string): boolean {
  return pattern.endsWith('/') ? path.startsWith(pattern) : path === pattern;
}

/** The code files under CODE_DIRS. */
function codeFiles(): string[] {
  return repoFiles().filter((f) => CODE_DIRS.includes(f.split('/')[0]!) && /\.(ts|mjs)$/.test(f) && !f.endsWith('.d.ts'));
}

// ------------------------------------------------------------------ tests

test('the rules: a few known edges are allowed or refused as the table says', () => {
  assert.equal(ruleBroken('src/dsp/sos.ts', 'src/types.ts'), undefined);
  assert.equal(ruleBroken('src/decode/lda.ts', 'src/dsp/fft.ts'), undefined);
  assert.match(ruleBroken('src/dsp/sos.ts', 'src/decode/lda.ts') ?? '', /'dsp' imports 'decode'/);
  assert.match(ruleBroken('src/decode/x.ts', 'src/emit/intents.ts') ?? '', /above it/);
  assert.match(ruleBroken('src/dsp/sos.ts', 'adapters/lsl/index.ts') ?? '', /src\/ may not import adapters\//);
  assert.equal(ruleBroken('src/cli/run.ts', 'adapters/lsl/index.ts'), undefined);
  assert.match(ruleBroken('src/dsp/sos.ts', 'src/cli/args.ts') ?? '', /'cli'/);
  assert.match(ruleBroken('bench/dsp.ts', 'test/helpers/rng.ts') ?? '', /bench\/ may not import test\//);
  assert.match(ruleBroken('models/diver/config.ts', 'devices/schedule.ts') ?? '', /models\/diver\/ may not import devices\//);
  assert.equal(ruleBroken('models/data.ts', 'devices/signal-model.ts'), undefined);
  assert.match(ruleBroken('adapters/xdf/index.ts', 'devices/profiles.ts') ?? '', /adapters\/ may not import devices\//);
  assert.equal(ruleBroken('test/dsp/x.test.ts', 'bench/reference/featurizer-v1.ts'), undefined);
  assert.match(ruleBroken('src/newstage/x.ts', 'src/types.ts') ?? '', /not in CORE_LAYERS/);
});

test('the parser finds every import form, with lines, and ignores packages', () => {
  const src = [
    "import { a } from './a.ts';",
    "import type { B } from '../b/b.ts';",
    "export { c } from './c.ts';",
    "import './side.ts';",
    "import x from 'rxjs';",
    "const m = await import('../dyn.ts');",
    "const w = new URL('./worker.mjs', import.meta.url);",
    "const j = new URL('../package.json', import.meta.url);",
    "// import { no } from './comment.ts';",
    "const s = \"import { no } from './string.ts'\";",
  ].join('\n');
  const edges = importsOf('src/x/y.ts', src).map((e) => `${e.line}:${e.kind}:${e.to}`);
  assert.deepEqual(edges, ['1:import:src/x/a.ts', '2:import:src/b/b.ts', '3:export from:src/x/c.ts', '4:import:src/x/side.ts', '6:import():src/dyn.ts', '7:new URL:src/x/worker.mjs']);
});

test('every import in the repository follows the layering rules', () => {
  const files = codeFiles();
  assert.ok(files.length > 100, `only ${files.length} code files found`);
  const problems: string[] = [];
  const seen = new Set<string>();
  let edges = 0;
  for (const f of files) {
    const text = readText(f);
    if (text === undefined) continue;
    for (const e of importsOf(f, text)) {
      edges++;
      if (!existsSync(join(ROOT, e.to))) {
        problems.push(`${e.from}:${e.line} → ${e.to}: ${e.kind} of a file that does not exist`);
        continue;
      }
      const broken = ruleBroken(e.from, e.to);
      if (broken === undefined) continue;
      const known = KNOWN_EXCEPTIONS.find((x) => covers(x.from, e.from) && covers(x.to, e.to));
      if (known) {
        seen.add(`${known.from} → ${known.to}`);
        continue;
      }
      problems.push(`${e.from}:${e.line} → ${e.to}: ${broken}`);
    }
  }
  assert.ok(edges > 500, `only ${edges} imports found`);
  for (const x of KNOWN_EXCEPTIONS) {
    if (!seen.has(`${x.from} → ${x.to}`)) problems.push(`KNOWN_EXCEPTIONS lists ${x.from} → ${x.to}, which no longer occurs: remove it`);
  }
  assert.deepEqual(problems, [], `imports against the layering rules:\n${problems.join('\n')}`);
});
