import { describe, expect, it } from "vitest";
import { mulberry32 } from "../rng.js";
import { kCenterGreedy, randomK, topK } from "./select.js";

describe("topK", () => {
  it("returns the k highest scores, best first", () => {
    const picked = Array.from(topK([0.1, 0.9, 0.5, 0.8, 0.3], 3, mulberry32(1)));
    expect(picked).toEqual([1, 3, 2]);
  });

  it("agrees with a full sort on random scores", () => {
    const rand = mulberry32(7);
    const scores = Array.from({ length: 5000 }, () => rand());
    const expected = scores
      .map((s, i) => [s, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 37)
      .map(([, i]) => i);
    expect(Array.from(topK(scores, 37, mulberry32(3)))).toEqual(expected);
  });

  it("breaks ties with rand: deterministic per stream, not by position", () => {
    const scores = [1, 1, 1, 1, 0];
    expect(Array.from(topK(scores, 2, mulberry32(5)))).toEqual(Array.from(topK(scores, 2, mulberry32(5))));
    const firsts = new Set<number>();
    for (let s = 0; s < 50; s++) firsts.add(topK(scores, 1, mulberry32(s))[0]!);
    expect(firsts).toEqual(new Set([0, 1, 2, 3]));
  });

  it("returns every position when k exceeds the candidates, and nothing for k = 0", () => {
    expect(Array.from(topK([0.2, 0.7, 0.1], 10, mulberry32(1)))).toEqual([1, 0, 2]);
    expect(topK([0.2, 0.7], 0, mulberry32(1)).length).toBe(0);
    expect(topK([], 3, mulberry32(1)).length).toBe(0);
  });

  it("refuses NaN scores instead of ranking them silently", () => {
    expect(() => topK([0.1, Number.NaN], 1, mulberry32(1))).toThrow(/position 1 is NaN/);
  });
});

describe("randomK", () => {
  it("returns k distinct positions in range, deterministically per stream", () => {
    const a = randomK(100, 30, mulberry32(9));
    expect(new Set(a).size).toBe(30);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(100);
    expect(Array.from(randomK(100, 30, mulberry32(9)))).toEqual(Array.from(a));
    expect(Array.from(randomK(100, 30, mulberry32(10)))).not.toEqual(Array.from(a));
  });

  it("caps k at n", () => {
    expect(Array.from(randomK(4, 9, mulberry32(1))).sort()).toEqual([0, 1, 2, 3]);
  });
});

/** The textbook version: recompute every min-distance from scratch at each step. */
function naiveKCenter(cands: number[][], labelled: number[][], k: number): number[] {
  const d2 = (a: number[], b: number[]) => a.reduce((s, v, j) => s + (v - b[j]!) ** 2, 0);
  const centres = [...labelled];
  const out: number[] = [];
  for (let t = 0; t < k; t++) {
    let best = -1;
    let bestD = -1;
    cands.forEach((c, i) => {
      if (out.includes(i)) return;
      const d = Math.min(...centres.map((x) => d2(c, x)));
      if (d > bestD) {
        bestD = d;
        best = i;
      }
    });
    out.push(best);
    centres.push(cands[best]!);
  }
  return out;
}

describe("kCenterGreedy (core-set)", () => {
  it("picks the candidate farthest from the labelled set first, then the farthest from both", () => {
    // 1-D: labelled at 0; candidates 1, 5, 10, 9.5, 2
    const picked = kCenterGreedy({
      candidates: Float32Array.from([1, 5, 10, 9.5, 2]),
      labelled: Float32Array.from([0]),
      dim: 1,
      k: 3,
      rand: mulberry32(1),
    });
    // 10 (d 100); then 5 (min(25, 25) = 25 beats 2's 4); then 2 (min(4, 9) = 4 beats 1's 1)
    expect(Array.from(picked)).toEqual([2, 1, 4]);
  });

  it("matches the from-scratch algorithm on random embeddings", () => {
    const rand = mulberry32(11);
    const rows = (n: number, d: number) =>
      Array.from({ length: n }, () => Array.from({ length: d }, () => rand()));
    const cands = rows(200, 5);
    const labelled = rows(7, 5);
    const picked = kCenterGreedy({
      candidates: Float32Array.from(cands.flat()),
      labelled: Float32Array.from(labelled.flat()),
      dim: 5,
      k: 12,
      rand: mulberry32(2),
    });
    // compare in float32, the precision the embeddings arrive in
    const f = (m: number[][]) => m.map((r) => r.map((v) => Math.fround(v)));
    expect(Array.from(picked)).toEqual(naiveKCenter(f(cands), f(labelled), 12));
  });

  it("starts at a rand-chosen point when nothing is labelled and never repeats a pick", () => {
    const cands = Float32Array.from([0, 0, 0, 0, 3, 3]); // 3 rows of dim 2, two identical
    const picked = kCenterGreedy({
      candidates: cands,
      labelled: new Float32Array(0),
      dim: 2,
      k: 5,
      rand: mulberry32(4),
    });
    expect(picked.length).toBe(3);
    expect(new Set(picked).size).toBe(3);
    const firsts = new Set<number>();
    for (let s = 0; s < 30; s++) {
      firsts.add(
        kCenterGreedy({
          candidates: cands,
          labelled: new Float32Array(0),
          dim: 2,
          k: 1,
          rand: mulberry32(s),
        })[0]!,
      );
    }
    expect(firsts).toEqual(new Set([0, 1, 2]));
  });
});
