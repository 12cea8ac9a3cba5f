import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import { STRATEGY_NAMES } from "../../configs/experiment.js";
import { mulberry32 } from "../rng.js";
import { getStrategy, strategyNames } from "./registry.js";
import type { StrategyInput } from "./types.js";

// Rows chosen so each measure has a different favourite:
//   A [0.50, 0.50, 0.00]  margin 0.00  max 0.50  entropy 0.693
//   D [0.46, 0.44, 0.10]  margin 0.02  max 0.46  entropy 0.949
//   E [0.50, 0.25, 0.25]  margin 0.25  max 0.50  entropy 1.040
//   C [0.90, 0.05, 0.05]  margin 0.85  max 0.90  entropy 0.394
const probs = Float32Array.from([0.5, 0.5, 0, 0.46, 0.44, 0.1, 0.5, 0.25, 0.25, 0.9, 0.05, 0.05]);
const candidates = Int32Array.from([10, 11, 12, 13]);
const input = (k: number, extra: Partial<StrategyInput> = {}): StrategyInput => ({
  candidates,
  k,
  numClasses: 3,
  rand: mulberry32(1),
  probs,
  ...extra,
});

describe("strategies pick what they should", () => {
  it("margin picks the smallest top-1 − top-2 gap first", () => {
    expect(Array.from(getStrategy("margin").select(input(3)))).toEqual([0, 1, 2]);
  });

  it("least-confidence picks the lowest top probability first", () => {
    expect(getStrategy("least-confidence").select(input(1))[0]).toBe(1);
  });

  it("entropy picks the most spread-out distribution first", () => {
    expect(Array.from(getStrategy("entropy").select(input(2)))).toEqual([2, 1]);
  });

  it("bald prefers passes that disagree over passes that agree on an uncertain answer", () => {
    // 2 passes × 2 rows × 2 classes: row 0 is 50/50 in both passes, row 1 flips between passes
    const mc = Float32Array.from([0.5, 0.5, 0.9, 0.1, 0.5, 0.5, 0.1, 0.9]);
    const s = getStrategy("bald");
    expect(s.needs).toBe("mc");
    const picked = s.select({
      candidates: Int32Array.from([0, 1]),
      k: 1,
      numClasses: 2,
      rand: mulberry32(1),
      mcProbs: { data: mc, passes: 2 },
    });
    expect(Array.from(picked)).toEqual([1]);
  });

  it("coreset picks the candidate farthest from the labelled rows first", () => {
    const s = getStrategy("coreset");
    const embeddings = {
      candidates: Float32Array.from([0, 1, 3, 3, 1, 0, 9, 9]),
      labelled: Float32Array.from([0, 0]),
      dim: 2,
    };
    expect(s.select(input(1, { embeddings }))[0]).toBe(3);
  });

  it("random returns k distinct positions and ignores the scores", () => {
    const picked = getStrategy("random").select(input(3, { probs: undefined }));
    expect(picked.length).toBe(3);
    expect(new Set(picked).size).toBe(3);
  });

  it.each(STRATEGY_NAMES)("%s returns every candidate once when k exceeds them", (name) => {
    const s = getStrategy(name);
    const embeddings = {
      candidates: Float32Array.from([0, 1, 2, 3]),
      labelled: Float32Array.from([5]),
      dim: 1,
    };
    const mcProbs = { data: Float32Array.from([...probs, ...probs]), passes: 2 };
    const picked = s.select(input(10, { embeddings, mcProbs }));
    expect(Array.from(picked).sort()).toEqual([0, 1, 2, 3]);
  });

  it("a strategy without the input it needs fails loudly (a wiring bug)", () => {
    expect(() => getStrategy("margin").select(input(1, { probs: undefined }))).toThrow(/StrategyInput.probs/);
  });
});

describe("registry", () => {
  it("resolves every config name to the strategy of that name", () => {
    for (const name of strategyNames()) expect(getStrategy(name).name).toBe(name);
  });

  it("rejects an unknown name with CONFIG_INVALID listing the valid names", () => {
    let caught: unknown;
    try {
      getStrategy("margn");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(RunstackError);
    const err = caught as RunstackError;
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain('"margn"');
    for (const name of STRATEGY_NAMES) expect(err.message).toContain(name);
  });
});
