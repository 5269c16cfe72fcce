/** The one version string, read from package.json (what `--version`, `hello` and file headers say). */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** `neurox <version>`, as servers and writers name themselves. */
export const SERVER_NAME = `neurox ${VERSION}`;
