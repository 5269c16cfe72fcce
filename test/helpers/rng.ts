/** Seeded uniform and normal draws for tests, on the project's mulberry32 PRNG. */
import { gaussian, mulberry32 } from '../../src/dsp/chunk.ts';

export function rng(seed: number): { uniform(): number; normal(): number } {
  const uniform = mulberry32(seed);
  return { uniform, normal: gaussian(uniform) };
}
