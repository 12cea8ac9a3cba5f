import { createHash } from "node:crypto";

/**
 * One seed in the config; every other seed is derived from it by name, so adding a new consumer
 * never shifts the streams of existing ones. Derived seeds are recorded in the run record.
 */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  const h = createHash("sha256")
    .update(`${seed}/${labels.join("/")}`)
    .digest();
  return h.readUInt32BE(0) & 0x7fffffff;
}

/** mulberry32: small, fast, good enough for sampling and shuffling; returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** In-place Fisher–Yates shuffle driven by `rand`. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(
  arr: T,
  rand: () => number,
): T {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = arr[i];
    arr[i] = arr[j];
    arr[j] = tmp;
  }
  return arr;
}
