import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { RunstackError } from "../../configs/errors.js";
import { expandGrid, MAX_VARIANTS, parseGridArg } from "./grid.js";
import { renderVariants } from "./sweep.js";

const BASE_TEXT = `# base comment
name: blobs
dataset: { source: synthetic }
model:
  kind: mlp
  hidden: [64, 32]
al:
  strategies: [random, margin]
  rounds: 3
seeds: [1]
`;
const base = () => parse(BASE_TEXT) as Record<string, unknown>;

function errorOf(f: () => unknown): RunstackError {
  try {
    f();
  } catch (e) {
    if (e instanceof RunstackError) return e;
    throw e;
  }
  throw new Error("expected a RunstackError");
}

describe("sweep grids", () => {
  it("parse typed scalar values", () => {
    expect(parseGridArg("al.querySize=10,20").values).toEqual([10, 20]);
    expect(parseGridArg("train.learningRate=0.001, 1e-2").values).toEqual([0.001, 0.01]);
    expect(parseGridArg("model.kind=mlp").values).toEqual(["mlp"]);
    expect(parseGridArg("al.initial.classBalanced=true,false").values).toEqual([true, false]);
    expect(parseGridArg("model.hidden.0=128").path).toEqual(["model", "hidden", "0"]);
  });

  it("reject malformed arguments", () => {
    expect(errorOf(() => parseGridArg("al.querySize")).code).toBe("USAGE");
    expect(errorOf(() => parseGridArg("al..x=1")).message).toMatch(/not a dotted config path/);
    expect(errorOf(() => parseGridArg("al.querySize=10,,20")).message).toMatch(/empty value/);
    expect(errorOf(() => parseGridArg("al.querySize=10,10")).message).toMatch(/listed twice/);
    expect(errorOf(() => parseGridArg("model.hidden=[1,2]")).message).toMatch(/empty value|not a scalar/);
    expect(errorOf(() => parseGridArg("model.hidden={a: 1}")).message).toMatch(/not a scalar/);
  });

  it("expand to the cartesian product in a stable order, renaming each variant", () => {
    const v = expandGrid({
      base: base(),
      axes: [parseGridArg("al.querySize=10,20"), parseGridArg("train.learningRate=0.001,0.01,0.1")],
      file: "configs/blobs.yaml",
    });
    expect(v).toHaveLength(6);
    expect(v.map((x) => [x.config.al.querySize, x.config.train.learningRate])).toEqual([
      [10, 0.001],
      [10, 0.01],
      [10, 0.1],
      [20, 0.001],
      [20, 0.01],
      [20, 0.1],
    ]);
    expect(v.map((x) => x.config.name)).toEqual([
      "blobs-1",
      "blobs-2",
      "blobs-3",
      "blobs-4",
      "blobs-5",
      "blobs-6",
    ]);
    // the base object is not modified
    expect(base()).toEqual(parse(BASE_TEXT));
  });

  it("set list elements by index and keep the rest of the list", () => {
    const [a, b] = expandGrid({ base: base(), axes: [parseGridArg("model.hidden.1=8,16")], file: "f.yaml" });
    expect(a!.config.model).toMatchObject({ hidden: [64, 8] });
    expect(b!.config.model).toMatchObject({ hidden: [64, 16] });
  });

  it("reject an unknown key with its path, before anything is written", () => {
    const e = errorOf(() =>
      expandGrid({ base: base(), axes: [parseGridArg("al.querySiz=10,20")], file: "configs/blobs.yaml" }),
    );
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toContain("configs/blobs.yaml with al.querySiz=10");
    expect(e.message).toMatch(/al.*querySiz/);
  });

  it("reject invalid values naming the key path and the value found", () => {
    const e = errorOf(() =>
      expandGrid({ base: base(), axes: [parseGridArg("al.querySize=10,0,abc")], file: "b.yaml" }),
    );
    expect(e.message).toContain("b.yaml with al.querySize=0: al.querySize");
    expect(e.message).toContain("b.yaml with al.querySize=abc: al.querySize");
    expect(e.message).not.toContain("al.querySize=10:");
  });

  it("refuse to replace a list or mapping by a scalar, or to index past a list", () => {
    expect(
      errorOf(() => expandGrid({ base: base(), axes: [parseGridArg("model.hidden=128")], file: "b.yaml" }))
        .message,
    ).toMatch(/model\.hidden is a list; grid values are scalars/);
    expect(
      errorOf(() => expandGrid({ base: base(), axes: [parseGridArg("model.hidden.5=1")], file: "b.yaml" }))
        .message,
    ).toMatch(/not an index/);
    expect(
      errorOf(() => expandGrid({ base: base(), axes: [parseGridArg("name.x=1")], file: "b.yaml" })).message,
    ).toMatch(/not a mapping/);
  });

  it("refuse duplicate or overlapping axes and oversized grids", () => {
    expect(
      errorOf(() =>
        expandGrid({ base: base(), axes: [parseGridArg("seeds.0=1"), parseGridArg("seeds.0=2")], file: "b" }),
      ).message,
    ).toMatch(/twice/);
    expect(
      errorOf(() =>
        expandGrid({
          base: base(),
          axes: [parseGridArg("al.initial=1"), parseGridArg("al.initial.count=2")],
          file: "b",
        }),
      ).message,
    ).toMatch(/overlap/);
    const many = Array.from({ length: MAX_VARIANTS + 1 }, (_, i) => i + 1).join(",");
    expect(
      errorOf(() => expandGrid({ base: base(), axes: [parseGridArg(`seeds.0=${many}`)], file: "b" })).message,
    ).toMatch(/more than/);
    expect(errorOf(() => expandGrid({ base: base(), axes: [], file: "b" })).code).toBe("USAGE");
  });

  it("render variant files that keep the base's comments and read back as validated", () => {
    const files = renderVariants({
      baseText: BASE_TEXT,
      basePath: "configs/blobs.yaml",
      axes: [parseGridArg("al.querySize=5,7")],
      name: "qs",
    });
    expect(files.map((f) => f.path)).toEqual(["configs/sweeps/qs-1.yaml", "configs/sweeps/qs-2.yaml"]);
    expect(files[1]!.text).toContain("# Sweep variant 2: configs/blobs.yaml with al.querySize=7");
    expect(files[1]!.text).toContain("# base comment");
    expect(parse(files[1]!.text)).toMatchObject({
      name: "qs-2",
      al: { querySize: 7, rounds: 3 },
      model: { hidden: [64, 32] },
    });
  });
});
