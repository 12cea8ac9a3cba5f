import { describe, expect, it } from "vitest";
import { baldMutualInformation, entropy, leastConfidence, margin } from "./uncertainty.js";

const f32 = (rows: number[][]): Float32Array => Float32Array.from(rows.flat());

describe("uncertainty measures (hand-computed)", () => {
  const probs = f32([
    [0.7, 0.2, 0.1],
    [1 / 3, 1 / 3, 1 / 3],
    [0.4, 0.4, 0.2],
    [1, 0, 0],
  ]);

  it("least confidence is 1 − max p", () => {
    const lc = leastConfidence(probs, 3);
    expect(lc[0]).toBeCloseTo(0.3, 6);
    expect(lc[1]).toBeCloseTo(2 / 3, 6);
    expect(lc[2]).toBeCloseTo(0.6, 6);
    expect(lc[3]).toBe(0);
  });

  it("margin is top-1 − top-2, so a two-way tie has margin 0", () => {
    const m = margin(probs, 3);
    expect(m[0]).toBeCloseTo(0.5, 6);
    expect(m[1]).toBeCloseTo(0, 6);
    expect(m[2]).toBe(0);
    expect(m[3]).toBe(1);
  });

  it("entropy is in nats, with 0·log 0 = 0", () => {
    const h = entropy(probs, 3);
    expect(h[0]).toBeCloseTo(-(0.7 * Math.log(0.7) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1)), 6);
    expect(h[1]).toBeCloseTo(Math.log(3), 6);
    expect(h[3]).toBe(0);
    expect(entropy(f32([[0.5, 0.5]]), 2)[0]).toBeCloseTo(Math.LN2, 6);
  });

  it("rejects a matrix whose length does not fit the class count", () => {
    expect(() => entropy(new Float32Array(5), 3)).toThrow(/multiple of numClasses 3/);
    expect(() => margin(new Float32Array(4), 1)).toThrow(/numClasses must be an integer >= 2/);
  });
});

describe("BALD mutual information = H(mean) − mean H", () => {
  it("is log 2 when two confident passes disagree completely", () => {
    // passes × n × c with n = 1
    expect(
      baldMutualInformation(
        f32([
          [1, 0],
          [0, 1],
        ]),
        2,
        2,
      )[0],
    ).toBeCloseTo(Math.LN2, 9);
  });

  it("is 0 when every pass says the same, however uncertain", () => {
    expect(
      baldMutualInformation(
        f32([
          [0.5, 0.5],
          [0.5, 0.5],
        ]),
        2,
        2,
      )[0],
    ).toBeCloseTo(0, 12);
  });

  it("matches a hand computation for partly confident disagreeing passes", () => {
    const h = -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1)); // 0.325083
    expect(
      baldMutualInformation(
        f32([
          [0.9, 0.1],
          [0.1, 0.9],
        ]),
        2,
        2,
      )[0],
    ).toBeCloseTo(Math.LN2 - h, 6);
  });

  it("reads the passes × n × c layout row by row", () => {
    // pass 0: row0 [1,0], row1 [0.5,0.5]; pass 1: row0 [0,1], row1 [0.5,0.5]
    const mi = baldMutualInformation(
      f32([
        [1, 0],
        [0.5, 0.5],
        [0, 1],
        [0.5, 0.5],
      ]),
      2,
      2,
    );
    expect(mi.length).toBe(2);
    expect(mi[0]).toBeCloseTo(Math.LN2, 6);
    expect(mi[1]).toBeCloseTo(0, 6);
  });

  it("rejects a length that is not passes × n × c", () => {
    expect(() => baldMutualInformation(new Float32Array(6), 4, 3)).toThrow(/passes × n × 3/);
  });
});
