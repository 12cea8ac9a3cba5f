import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import { DatasetConfig } from "../../configs/experiment.js";
import { allocate, planSplit, shuffledByClass, splitForSeed, subset } from "./split.js";
import type { Dataset, LoadedSource } from "./types.js";

/** n rows with one feature = the row index, classes with the given sizes (in a class-grouped order, like the embedded digits). */
function grouped(sizes: number[]): Dataset {
  const n = sizes.reduce((a, b) => a + b, 0);
  const y = new Int32Array(n);
  let r = 0;
  sizes.forEach((s, c) => {
    y.fill(c, r, r + s);
    r += s;
  });
  return { x: Float32Array.from({ length: n }, (_, i) => i), y, n, shape: [1], numClasses: sizes.length };
}

function source(train: Dataset, test: Dataset | null = null): LoadedSource {
  return {
    source: test ? "idx" : "embedded",
    name: "mnist",
    location: "test",
    manifestSha256: "0".repeat(64),
    train,
    test,
    seeds: {},
  };
}

const embedded = (extra: Record<string, unknown> = {}) =>
  DatasetConfig.parse({ source: "embedded", ...extra });
const idx = (extra: Record<string, unknown> = {}) =>
  DatasetConfig.parse({ source: "idx", name: "mnist", ...extra });

function histogram(y: Int32Array, k: number): number[] {
  const h = new Array<number>(k).fill(0);
  for (const c of y) h[c]!++;
  return h;
}

const sizes10 = [1000, 1100, 990, 1030, 980, 860, 1010, 1070, 950, 1010];

describe("allocate (largest remainder, capped, one per present class)", () => {
  it("hits the total exactly and stays proportional", () => {
    const a = allocate(sizes10, 100, sizes10);
    expect(a.reduce((x, y) => x + y, 0)).toBe(100);
    a.forEach((v, c) => {
      expect(Math.abs(v - (100 * sizes10[c]!) / 10000)).toBeLessThan(1);
    });
  });
  it("gives every class at least one even when the total is tiny", () => {
    expect(allocate([900, 90, 10], 3, [900, 90, 10])).toEqual([1, 1, 1]);
    expect(allocate([900, 90, 10], 10, [900, 90, 10])).toEqual([8, 1, 1]);
  });
  it("respects caps", () => {
    expect(allocate([5, 5], 8, [4, 4])).toEqual([4, 4]);
  });
});

describe("splitForSeed", () => {
  const src = source(grouped(sizes10));

  it("test and pool are disjoint, and the test set draws testSize stratified from all the data", () => {
    const plan = planSplit(src, embedded({ testSize: 2000 }), 7);
    const test = new Set(plan.test);
    expect(plan.test.length).toBe(2000);
    expect(plan.pool.length).toBe(8000);
    expect(plan.pool.some((r) => test.has(r))).toBe(false);
    const split = splitForSeed(src, embedded({ testSize: 2000 }), 7);
    histogram(split.test.y, 10).forEach((h, c) => {
      expect(Math.abs(h - sizes10[c]! / 5)).toBeLessThan(1);
    });
  });

  it("the test set is identical for every strategy of a seed, and for every fraction", () => {
    const a = splitForSeed(src, embedded({ fraction: 1 }), 3);
    const b = splitForSeed(src, embedded({ fraction: 1 }), 3);
    const small = splitForSeed(src, embedded({ fraction: 0.01 }), 3);
    expect(a.test.x).toEqual(b.test.x);
    expect(a.train.x).toEqual(b.train.x);
    expect(small.test.x).toEqual(a.test.x);
  });

  it("a fraction keeps class proportions, is deterministic per seed and differs across seeds", () => {
    const cfg = embedded({ fraction: 0.1 });
    const s1 = splitForSeed(src, cfg, 1);
    expect(s1.train.n).toBe(800);
    for (const [c, h] of histogram(s1.train.y, 10).entries()) {
      expect(Math.abs(h - (sizes10[c]! * 800) / 10000)).toBeLessThanOrEqual(1);
    }
    expect(splitForSeed(src, cfg, 1).train.x).toEqual(s1.train.x);
    expect(splitForSeed(src, cfg, 2).train.x).not.toEqual(s1.train.x);
    expect(splitForSeed(src, cfg, 2).test.x).not.toEqual(s1.test.x);
  });

  it("1% of 10k digits keeps every class in the pool and a full-size test set", () => {
    const s = splitForSeed(src, embedded({ fraction: 0.01 }), 5);
    expect(s.train.n).toBe(80);
    expect(histogram(s.train.y, 10).every((h) => h >= 1)).toBe(true);
    expect(s.test.n).toBe(2000);
    expect(s.identity.sizes).toEqual({ available: 10000, train: 80, test: 2000 });
    expect(s.identity.fraction).toBe(0.01);
  });

  it("a tiny fraction of an imbalanced source still keeps the rare class", () => {
    const skewed = source(grouped([2000, 2000, 4]));
    const s = splitForSeed(skewed, embedded({ fraction: 0.001, testSize: 3 }), 1);
    // round(0.001 × 4001) = 4 rows, and the class with 4 examples in 4004 still gets one of them.
    expect(s.train.n).toBe(4);
    expect(histogram(s.train.y, 3).every((h) => h >= 1)).toBe(true);
    expect(histogram(s.test.y, 3)).toEqual([1, 1, 1]);
  });

  it("a smaller fraction takes a subset of a larger one's pool for the same seed", () => {
    const big = new Set(planSplit(src, embedded({ fraction: 0.5 }), 9).pool);
    const small = planSplit(src, embedded({ fraction: 0.05 }), 9).pool;
    expect(small.every((r) => big.has(r))).toBe(true);
  });

  it("records every derived seed it used", () => {
    const s = splitForSeed({ ...src, seeds: { "data.generator": 42 } }, embedded(), 11);
    expect(Object.keys(s.seeds!).sort()).toEqual(["data.generator", "data.split"]);
    expect(s.seeds!["data.split"]).not.toBe(splitForSeed(src, embedded(), 12).seeds!["data.split"]);
  });

  it("rows keep their features and labels", () => {
    const s = splitForSeed(src, embedded({ fraction: 0.2 }), 4);
    for (let i = 0; i < s.train.n; i++) expect(src.train.y[s.train.x[i]!]).toBe(s.train.y[i]);
  });

  it("testSize that leaves no pool for some class is DATA_INVALID with the valid range and a hint", () => {
    const small = source(grouped([10, 10, 10]));
    const run = (testSize: number) => () => splitForSeed(small, embedded({ testSize }), 1);
    expect(run(28)).toThrow(RunstackError);
    const e = (() => {
      try {
        run(28)();
      } catch (err) {
        return err as RunstackError;
      }
    })();
    expect(e?.code).toBe("DATA_INVALID");
    expect(e?.message).toContain("dataset.testSize: expected 3..27");
    expect(e?.message).toContain("found 28");
    expect(e?.hint).toContain("dataset.fraction");
    expect(run(2)).toThrow(/expected 3\.\.27 .*found 2/);
    expect(run(27)().train.n).toBe(3);
  });

  it("refuses a config for another source than the one loaded", () => {
    expect(() => splitForSeed(src, idx(), 1)).toThrow(
      /loaded source is embedded\/mnist but the config says idx\/mnist/,
    );
  });
});

describe("splitForSeed with a predefined test split (idx)", () => {
  const src = source(grouped([600, 600, 600, 600, 600]), grouped([100, 100, 100, 100, 100]));

  it("the fraction applies to both train and test; testSize caps the test set", () => {
    const s = splitForSeed(src, idx({ fraction: 0.1 }), 1);
    expect([s.train.n, s.test.n]).toEqual([300, 50]);
    expect(histogram(s.train.y, 5)).toEqual([60, 60, 60, 60, 60]);
    expect(histogram(s.test.y, 5)).toEqual([10, 10, 10, 10, 10]);
    expect(splitForSeed(src, idx({ fraction: 0.1, testSize: 20 }), 1).test.n).toBe(20);
    expect(splitForSeed(src, idx({ testSize: 20000 }), 1).test.n).toBe(500);
    expect(Object.keys(s.seeds!).sort()).toEqual(["data.pool", "data.test"]);
  });

  it("the full split shares the loaded arrays instead of copying them per seed", () => {
    const s = splitForSeed(src, idx(), 1);
    expect(s.train).toBe(src.train);
    expect(s.test).toBe(src.test);
    expect(s.identity.sizes).toEqual({ available: 3500, train: 3000, test: 500 });
  });

  it("a tiny fraction still keeps one example of every class in train and test", () => {
    const s = splitForSeed(src, idx({ fraction: 0.0001 }), 1);
    expect(histogram(s.train.y, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(histogram(s.test.y, 5)).toEqual([1, 1, 1, 1, 1]);
  });

  it("a testSize below the number of classes is refused", () => {
    expect(() => splitForSeed(src, idx({ testSize: 3 }), 1)).toThrow(
      /expected at least 5 \(one per class\), found 3/,
    );
  });

  it("different seeds pick different subsamples of both splits", () => {
    const a = splitForSeed(src, idx({ fraction: 0.1 }), 1);
    const b = splitForSeed(src, idx({ fraction: 0.1 }), 2);
    expect(a.train.x).not.toEqual(b.train.x);
    expect(a.test.x).not.toEqual(b.test.x);
  });
});

describe("helpers", () => {
  it("shuffledByClass returns each class's rows exactly once, seeded", () => {
    const y = Int32Array.from([0, 1, 0, 2, 1, 0]);
    const a = shuffledByClass(y, 3, 5);
    expect(a.map((r) => Array.from(r).sort())).toEqual([[0, 2, 5], [1, 4], [3]]);
    expect(shuffledByClass(y, 3, 5)).toEqual(a);
  });
  it("subset copies rows in order", () => {
    const d = grouped([2, 2]);
    const s = subset(d, Int32Array.from([3, 1]));
    expect(Array.from(s.x)).toEqual([3, 1]);
    expect(Array.from(s.y)).toEqual([1, 0]);
    expect(s.x).not.toBe(d.x);
  });
});
