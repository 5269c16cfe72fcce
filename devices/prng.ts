/** The simulator's random numbers live in src/util/random.ts (one PRNG module for the project); this name is kept for existing imports. */
export { Rng, hash32, hashString, hashUniform, invNormCdf } from '../src/util/random.ts';
