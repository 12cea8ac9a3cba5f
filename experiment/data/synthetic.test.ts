import { describe, expect, it } from "vitest";
import { DatasetConfig } from "../../configs/experiment.js";
import { loadSource, splitForSeed } from "./index.js";
import { generateBlobs } from "./synthetic.js";
import type { Dataset } from "./types.js";

/** Accuracy of a nearest-centroid classifier fitted on `train`: a floor for what a tiny model learns. */
function nearestCentroidAccuracy(train: Dataset, test: Dataset): number {
  const f = train.x.length / train.n;
  const k = train.numClasses;
  const centroid = new Float64Array(k * f);
  const count = new Float64Array(k);
  for (let i = 0; i < train.n; i++) {
    const c = train.y[i]!;
    count[c]!++;
    for (let j = 0; j < f; j++) centroid[c * f + j]! += train.x[i * f + j]!;
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < f; j++) centroid[c * f + j]! /= Math.max(1, count[c]!);
  let correct = 0;
  for (let i = 0; i < test.n; i++) {
    let best = -1;
    let bestD = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      let d = 0;
      for (let j = 0; j < f; j++) d += (test.x[i * f + j]! - centroid[c * f + j]!) ** 2;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    if (best === test.y[i]) correct++;
  }
  return correct / test.n;
}

describe("synthetic blobs", () => {
  it("values lie in [0, 1], classes are balanced, shape is [features]", () => {
    const { dataset } = generateBlobs({ samples: 600, features: 16, classes: 3 });
    expect(dataset.x.length).toBe(600 * 16);
    expect(dataset.shape).toEqual([16]);
    expect(dataset.numClasses).toBe(3);
    expect(dataset.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    const h = [0, 0, 0];
    for (const c of dataset.y) h[c]!++;
    expect(h).toEqual([200, 200, 200]);
  });

  it("the same parameters give the same data and identity; other parameters do not", () => {
    const a = generateBlobs({ samples: 100, features: 4, classes: 2 });
    const b = generateBlobs({ samples: 100, features: 4, classes: 2 });
    const c = generateBlobs({ samples: 100, features: 5, classes: 2 });
    expect(b.dataset.x).toEqual(a.dataset.x);
    expect(b.manifestSha256).toBe(a.manifestSha256);
    expect(c.manifestSha256).not.toBe(a.manifestSha256);
  });

  it("values spread over the range instead of saturating at 0 or 1", () => {
    const { dataset } = generateBlobs({ samples: 600, features: 16, classes: 3 });
    const inside = dataset.x.filter((v) => v > 0.02 && v < 0.98).length / dataset.x.length;
    expect(inside).toBeGreaterThan(0.9);
  });

  it.each([
    { samples: 600, features: 16, classes: 3 },
    { samples: 1000, features: 8, classes: 10 },
  ])("is separable enough that a nearest-centroid classifier learns it (%o)", async (p) => {
    const cfg = DatasetConfig.parse({ source: "synthetic", ...p });
    const split = splitForSeed(await loadSource(cfg), cfg, 1);
    expect(nearestCentroidAccuracy(split.train, split.test)).toBeGreaterThan(0.9);
  });

  it("loadSource records the generator seed and identifies the generator", async () => {
    const cfg = DatasetConfig.parse({ source: "synthetic" });
    const src = await loadSource(cfg);
    expect(src.location).toBe("synthetic:blobs-v1");
    expect(src.test).toBeNull();
    const split = splitForSeed(src, cfg, 1);
    expect(split.seeds).toMatchObject({
      "data.generator": expect.any(Number),
      "data.split": expect.any(Number),
    });
    expect(split.identity).toMatchObject({
      source: "synthetic",
      name: "blobs",
      sizes: { available: 600, train: 450, test: 150 },
    });
  });
});
