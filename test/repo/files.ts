/** The repository's own files, for the tests that check the repository as a whole. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers/data.ts';

/** Folders never part of the repository's contents (installed or produced locally). */
const NOT_OURS = new Set(['.git', 'node_modules', 'dist', 'out', 'recordings', '.tmp']);

/**
 * Repository-relative paths of the files the repository holds: `git ls-files`
 * (tracked, plus untracked files git does not ignore, so a new file is checked
 * before it is committed). Outside a git checkout (an exported source tree) the
 * tree is walked instead, leaving out installed and generated folders.
 */
export function repoFiles(): string[] {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  if (git.status === 0) {
    return git.stdout.split('\0').filter((f) => f !== '' && statSync(join(ROOT, f), { throwIfNoEntry: false })?.isFile());
  }
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!NOT_OURS.has(e.name) && relative(ROOT, p) !== join('models', 'out')) walk(p);
      } else if (e.isFile() && !e.name.endsWith('.log')) out.push(relative(ROOT, p));
    }
  };
  walk(ROOT);
  return out.sort();
}

/** The file's text, or undefined for a binary file (a NUL byte in its first 8 KiB). */
export function readText(rel: string): string | undefined {
  const buf = readFileSync(join(ROOT, rel));
  if (buf.subarray(0, 8192).includes(0)) return undefined;
  return buf.toString('utf8');
}
