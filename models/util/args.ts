/** The model commands parse options with the project's one parser, src/cli/args.ts; this name is kept for existing imports. */
export { parseOptions as parseArgs, usage, UsageError, type OptSpec } from '../../src/cli/args.ts';
