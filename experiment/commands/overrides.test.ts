import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import { applyOverride, parseOverride } from "./overrides.js";

describe("--set overrides", () => {
  it("parses dotted keys and YAML values", () => {
    expect(parseOverride("al.rounds=3")).toMatchObject({ path: ["al", "rounds"], value: 3 });
    expect(parseOverride("seeds=[1, 2]").value).toEqual([1, 2]);
    expect(parseOverride("al.strategies=[margin,bald]").value).toEqual(["margin", "bald"]);
    expect(parseOverride("model.kind=cnn").value).toBe("cnn");
  });
  it("rejects malformed arguments with the expected form", () => {
    for (const bad of ["rounds", "=3", "al..rounds=1", "1a=2"]) {
      expect(() => parseOverride(bad)).toThrow(RunstackError);
    }
    expect(() => parseOverride("x")).toThrow(/expected key\.path=value/);
  });
  it("applies without touching the original, creating missing sections", () => {
    const base = { al: { rounds: 1 }, seeds: [1] };
    const out = applyOverride(base, parseOverride("al.rounds=5"));
    expect(out.al.rounds).toBe(5);
    expect(base.al.rounds).toBe(1);
    expect(applyOverride(base, parseOverride("train.epochs=2"))).toMatchObject({ train: { epochs: 2 } });
  });
  it("refuses to descend into a value that is not a section", () => {
    expect(() => applyOverride({ seeds: [1] }, parseOverride("seeds.x=1"))).toThrow(/seeds is not a section/);
  });
});
