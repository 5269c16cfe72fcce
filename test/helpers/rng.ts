/** Seeded uniform and normal draws for tests, on the project's mulberry32 PRNG and Box–Muller sampler. */
import { gaussian, mulberry32 } from '../../src/util/random.ts';

/** A seeded source: `uniform()` in [0, 1) and `normal()` ~ N(0, 1), reproducible from `seed`. */
export function rng(seed: number): { uniform(): number; normal(): number } {
  const uniform = mulberry32(seed);
  return { uniform, normal: gaussian(uniform) };
}
