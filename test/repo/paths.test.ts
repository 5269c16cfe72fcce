/**
 * The repository refers to nothing outside itself: no path to a sibling folder
 * of the checkout, and no machine-specific absolute path, in any text file it
 * holds (code, tests, docs, scripts, fixtures). A fresh clone on another
 * machine must find everything it names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readText, repoFiles } from './files.ts';

/**
 * Paths that point outside the repository. The lookbehind keeps URLs
 * (`https://host/home/…`) and words (`network/…`) out; a path starts at the
 * beginning of a token.
 */
const OUTSIDE: { name: string; re: RegExp }[] = [
  { name: 'a folder beside the checkout', re: /(?<![\w.-])(?:\.\.\/)+shared\b/ },
  { name: 'a machine path (the work folder)', re: /(?<![\w.~-])\/work\// },
  { name: "root's home folder", re: /(?<![\w.~-])\x2froot(?:\x2f|\b)/ },
  { name: 'a user home folder', re: /(?<![\w.~-])\/(?:home|Users)\/\w/ },
];

/** Every line of `text` that names a path outside the repository, with the rule it breaks. */
export function outsidePaths(text: string): { line: number; rule: string; text: string }[] {
  const hits: { line: number; rule: string; text: string }[] = [];
  text.split('\n').forEach((l, i) => {
    for (const { name, re } of OUTSIDE) if (re.test(l)) hits.push({ line: i + 1, rule: name, text: l.trim().slice(0, 120) });
  });
  return hits;
}

test('the detector finds outside paths and leaves URLs, words and repository paths alone', () => {
  // The examples spell '/' as '§' so that this file does not hold the paths it looks for.
  const slash = (s: string) => s.replaceAll('§', '/');
  const bad = ['see ..§shared§data§x.edf', "new URL('..§..§shared§DESIGN.md')", 'cd §work§main', 'file at §root§.npmrc', '(§root)', 'in §home§alice§data', '"§Users§bob§x"'].map(slash);
  for (const s of bad) assert.equal(outsidePaths(s).length, 1, s);
  const good = ['https://physionet.org/content/eegmmidb/1.0.0/', 'http://example.com/home/page', 'the network/work/ split', 'test/data/eegmmidb/S001R03.edf', 'src/dsp/chunk.ts', '~/root/x is a user path', 'shared memory', 'a/shared/b'];
  for (const s of good) assert.deepEqual(outsidePaths(s), [], s);
  assert.deepEqual(outsidePaths(slash('ok\nok\nuse ..§shared§data\n')).map((h) => h.line), [3]);
});

test('no file in the repository refers to a path outside it', () => {
  const files = repoFiles();
  assert.ok(files.includes('package.json') && files.includes('test/repo/paths.test.ts'), 'the file listing finds the repository');
  const problems: string[] = [];
  let scanned = 0;
  for (const f of files) {
    const text = readText(f);
    if (text === undefined) continue;
    scanned++;
    for (const h of outsidePaths(text)) problems.push(`${f}:${h.line}: ${h.rule}: ${h.text}`);
  }
  assert.ok(scanned > 100, `only ${scanned} text files scanned`);
  assert.deepEqual(problems, [], `paths outside the repository:\n${problems.join('\n')}`);
});
