import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeIdx } from "./idx.js";
import { loadIdxDir } from "./idx-dir.js";
import { IDX_LAYOUT, writeManifest } from "./manifest.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "runstack-idxdir-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny MNIST-layout dataset: pixel values encode (item, pixel) so decoding errors show. */
function fixture(opts: { nTrain: number; nTest: number; gzip?: boolean; labelsTrain?: number }) {
  const side = 3;
  const images = (n: number) =>
    encodeIdx(
      [n, side, side],
      Uint8Array.from({ length: n * side * side }, (_, i) => (i * 7) % 256),
    );
  const labels = (n: number) =>
    encodeIdx(
      [n],
      Uint8Array.from({ length: n }, (_, i) => i % 10),
    );
  const files: Record<keyof typeof IDX_LAYOUT, Uint8Array> = {
    trainImages: images(opts.nTrain),
    trainLabels: labels(opts.labelsTrain ?? opts.nTrain),
    testImages: images(opts.nTest),
    testLabels: labels(opts.nTest),
  };
  for (const [role, data] of Object.entries(files)) {
    const base = IDX_LAYOUT[role as keyof typeof IDX_LAYOUT];
    if (opts.gzip) writeFileSync(join(dir, `${base}.gz`), gzipSync(data));
    else writeFileSync(join(dir, base), data);
  }
}

describe("IDX data directory", () => {
  it("loads train and t10k with shapes, labels and pixels in [0, 1], identified by the manifest hash", async () => {
    fixture({ nTrain: 40, nTest: 20 });
    const { sha256 } = await writeManifest(dir, "mnist");
    const src = await loadIdxDir({ dir, name: "mnist" });
    expect(src.source).toBe("idx");
    expect(src.manifestSha256).toBe(sha256);
    expect(src.location).toBe(dir);
    expect(src.train.n).toBe(40);
    expect(src.train.shape).toEqual([3, 3, 1]);
    expect(src.train.x.length).toBe(40 * 9);
    expect(src.test!.n).toBe(20);
    expect(Array.from(src.train.y.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(src.train.x[1]).toBeCloseTo(7 / 255, 6);
    expect(Math.max(...src.train.x)).toBeLessThanOrEqual(1);
  });

  it("gzipped and plain files give identical data but different identities", async () => {
    fixture({ nTrain: 30, nTest: 10 });
    await writeManifest(dir, "mnist");
    const plain = await loadIdxDir({ dir, name: "mnist" });
    rmSync(dir, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "runstack-idxdir-"));
    fixture({ nTrain: 30, nTest: 10, gzip: true });
    await writeManifest(dir, "mnist");
    const gz = await loadIdxDir({ dir, name: "mnist" });
    expect(gz.train.x).toEqual(plain.train.x);
    expect(gz.train.y).toEqual(plain.train.y);
    expect(gz.test!.x).toEqual(plain.test!.x);
    expect(gz.manifestSha256).not.toBe(plain.manifestSha256);
  });

  it("a label count different from the image count is DATA_INVALID naming the labels file", async () => {
    fixture({ nTrain: 30, nTest: 10, labelsTrain: 29 });
    await writeManifest(dir, "mnist");
    await expect(loadIdxDir({ dir, name: "mnist" })).rejects.toMatchObject({
      code: "DATA_INVALID",
      message: expect.stringContaining(`${join(dir, IDX_LAYOUT.trainLabels)}: label count does not match`),
    });
  });

  it("a file changed after the manifest was written is never decoded: MANIFEST_MISMATCH", async () => {
    fixture({ nTrain: 30, nTest: 10 });
    await writeManifest(dir, "mnist");
    writeFileSync(join(dir, IDX_LAYOUT.testImages), encodeIdx([1, 3, 3], new Uint8Array(9)));
    await expect(loadIdxDir({ dir, name: "mnist" })).rejects.toMatchObject({
      code: "MANIFEST_MISMATCH",
      message: expect.stringContaining(join(dir, IDX_LAYOUT.testImages)),
    });
  });

  it("a truncated file (consistent with its manifest) is DATA_INVALID naming it", async () => {
    fixture({ nTrain: 30, nTest: 10 });
    const full = encodeIdx([30, 3, 3], new Uint8Array(270));
    writeFileSync(join(dir, IDX_LAYOUT.trainImages), full.subarray(0, 100));
    await writeManifest(dir, "mnist");
    await expect(loadIdxDir({ dir, name: "mnist" })).rejects.toMatchObject({
      code: "DATA_INVALID",
      message: expect.stringMatching(/train-images-idx3-ubyte: truncated: header says 30×3×3/),
    });
  });

  it("a manifest for another dataset is refused", async () => {
    fixture({ nTrain: 30, nTest: 10 });
    await writeManifest(dir, "mnist");
    await expect(loadIdxDir({ dir, name: "fashion-mnist" })).rejects.toMatchObject({
      code: "DATA_INVALID",
      message: expect.stringContaining('expected "fashion-mnist", found "mnist"'),
    });
  });
});
