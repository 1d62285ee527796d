/**
 * Deterministic random streams: one generator (mulberry32) used by initializers on the host
 * and by random ops in every executor, so a seed draws the same values everywhere.
 */

/** mulberry32: a small, well-distributed 32-bit generator; uniform in [0, 1), deterministic per seed. */
export function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box-Muller over a uniform stream; the second value of each pair is kept). */
export function makeNormal(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u <= Number.MIN_VALUE) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Normal draws truncated to within two standard deviations (redrawn otherwise), as TF's truncated_normal. */
export function makeTruncatedNormal(uniform: () => number): () => number {
  const normal = makeNormal(uniform);
  return () => {
    for (;;) {
      const z = normal();
      if (Math.abs(z) <= 2) return z;
    }
  };
}

/** A seed for an unseeded draw (different on every call, as TF without a seed). */
export function freshSeed(): number {
  return (Math.random() * 4294967296) >>> 0;
}
