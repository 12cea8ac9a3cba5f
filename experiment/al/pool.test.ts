import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import { mulberry32 } from "../rng.js";
import { chooseInitialSet, Pool, subsample } from "./pool.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof RunstackError ? e.code : `not a RunstackError: ${String(e)}`;
  }
  return undefined;
}

describe("Pool", () => {
  it("tracks labelled and unlabelled rows, ascending", () => {
    const pool = new Pool(6);
    pool.reveal([4, 1]);
    expect(Array.from(pool.labelled())).toEqual([1, 4]);
    expect(Array.from(pool.unlabelled())).toEqual([0, 2, 3, 5]);
    expect(pool.labelledCount).toBe(2);
    expect(pool.unlabelledCount).toBe(4);
    expect(pool.isLabelled(4)).toBe(true);
  });

  it("refuses to reveal a row twice or a row outside the pool", () => {
    const pool = new Pool(3);
    pool.reveal([0]);
    expect(() => pool.reveal([0])).toThrow(/already labelled/);
    expect(() => pool.reveal([3])).toThrow(/outside the pool/);
  });
});

describe("chooseInitialSet", () => {
  // 4 classes, 10 rows each, interleaved
  const labels = Int32Array.from({ length: 40 }, (_, i) => i % 4);
  const counts = (rows: Int32Array) =>
    Array.from({ length: 4 }, (_, c) => rows.filter((r) => labels[r] === c).length);

  it("class-balanced gives the same count per class", () => {
    const rows = chooseInitialSet({
      labels,
      numClasses: 4,
      count: 8,
      classBalanced: true,
      rand: mulberry32(1),
    });
    expect(counts(rows)).toEqual([2, 2, 2, 2]);
    expect(new Set(rows).size).toBe(8);
    expect(Array.from(rows)).toEqual(Array.from(rows).sort((a, b) => a - b));
  });

  it("spreads a count that does not divide evenly so classes differ by at most one", () => {
    const rows = chooseInitialSet({
      labels,
      numClasses: 4,
      count: 10,
      classBalanced: true,
      rand: mulberry32(2),
    });
    const c = counts(rows);
    expect(c.reduce((a, b) => a + b)).toBe(10);
    expect(Math.max(...c) - Math.min(...c)).toBe(1);
  });

  it("is a function of rand alone: same stream, same set; other stream, other set", () => {
    const pick = (s: number) =>
      Array.from(
        chooseInitialSet({ labels, numClasses: 4, count: 8, classBalanced: true, rand: mulberry32(s) }),
      );
    expect(pick(3)).toEqual(pick(3));
    expect(pick(3)).not.toEqual(pick(4));
  });

  it("without balancing draws count rows uniformly", () => {
    const rows = chooseInitialSet({
      labels,
      numClasses: 4,
      count: 7,
      classBalanced: false,
      rand: mulberry32(1),
    });
    expect(rows.length).toBe(7);
    expect(new Set(rows).size).toBe(7);
  });

  it("rejects a balanced count smaller than the class count, naming the key", () => {
    const f = () =>
      chooseInitialSet({ labels, numClasses: 4, count: 3, classBalanced: true, rand: mulberry32(1) });
    expect(codeOf(f)).toBe("CONFIG_INVALID");
    expect(f).toThrow(/al\.initial\.count is 3.*4 classes/);
  });

  it("rejects a balanced set when a class has too few rows", () => {
    const skewed = Int32Array.from([0, 0, 0, 0, 0, 1, 2, 2, 2, 2]);
    const f = () =>
      chooseInitialSet({ labels: skewed, numClasses: 3, count: 6, classBalanced: true, rand: mulberry32(1) });
    expect(codeOf(f)).toBe("CONFIG_INVALID");
    expect(f).toThrow(/class 1 has 1 rows .* needs 2/);
  });

  it("rejects a count larger than the pool, and labels outside the class range", () => {
    expect(
      codeOf(() =>
        chooseInitialSet({ labels, numClasses: 4, count: 41, classBalanced: false, rand: mulberry32(1) }),
      ),
    ).toBe("CONFIG_INVALID");
    const bad = Int32Array.from([0, 1, 5]);
    expect(
      codeOf(() =>
        chooseInitialSet({ labels: bad, numClasses: 2, count: 2, classBalanced: true, rand: mulberry32(1) }),
      ),
    ).toBe("DATA_INVALID");
  });
});

describe("subsample", () => {
  it("returns an ascending subset of the requested size, or everything when it is larger", () => {
    const from = Int32Array.from([3, 5, 8, 13, 21, 34, 55]);
    const s = subsample(from, 4, mulberry32(1));
    expect(s.length).toBe(4);
    for (const v of s) expect(from).toContain(v);
    expect(Array.from(s)).toEqual(Array.from(s).sort((a, b) => a - b));
    expect(Array.from(subsample(from, 100, mulberry32(1)))).toEqual(Array.from(from));
  });
});
