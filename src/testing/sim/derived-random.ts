import { hashString, seededRandom, type RandomSource } from '../../core/random.js';

/** A random source derived from `seed` and `purpose`: each purpose gets its own stream. */
export function derivedRandom(seed: number, purpose: string): RandomSource {
  return seededRandom(hashString(`${seed}:${purpose}`));
}
