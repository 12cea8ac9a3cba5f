import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetConfig } from "../../configs/experiment.js";
import { loadSource, splitForSeed, verifyManifest, writeManifest } from "./index.js";
import { IDX_LAYOUT } from "./manifest.js";
import type { LoadedSource } from "./types.js";

/** The Debian dataset-fashion-mnist package: the original 60k + 10k IDX files, gzipped. */
const SYSTEM_DIR = "/usr/share/datasets/fashion-mnist";

let root: string;
let src: LoadedSource;
const cfg = DatasetConfig.parse({ source: "idx", name: "fashion-mnist" });

beforeAll(async () => {
  // The system directory is read-only: symlink the files into a data image-like layout with a
  // per-dataset subfolder, and write the manifest there.
  root = mkdtempSync(join(tmpdir(), "runstack-fmnist-"));
  const dir = join(root, "fashion-mnist");
  mkdirSync(dir);
  for (const base of Object.values(IDX_LAYOUT))
    symlinkSync(join(SYSTEM_DIR, `${base}.gz`), join(dir, `${base}.gz`));
  await writeManifest(dir, "fashion-mnist");
  const t0 = performance.now();
  src = await loadSource(cfg, { dataDir: root });
  console.log(`fashion-mnist 60k+10k (gz) loaded in ${(performance.now() - t0).toFixed(0)} ms`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Byte comparison: a deep toEqual over millions of elements takes many seconds. */
function bytesOf(a: Float32Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function histogram(y: Int32Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const c of y) h[c]!++;
  return h;
}

describe("Fashion-MNIST from the IDX files", () => {
  it("has 60,000 train and 10,000 test images of 28×28, 6,000 / 1,000 per class, pixels in [0, 1]", () => {
    expect(src.location).toBe(join(root, "fashion-mnist"));
    expect(src.train.n).toBe(60000);
    expect(src.train.shape).toEqual([28, 28, 1]);
    expect(src.train.x.length).toBe(60000 * 784);
    expect(histogram(src.train.y)).toEqual(new Array(10).fill(6000));
    expect(src.test!.n).toBe(10000);
    expect(histogram(src.test!.y)).toEqual(new Array(10).fill(1000));
    let min = 1;
    let max = 0;
    let sum = 0;
    const x = src.train.x;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    expect([min, max]).toEqual([0, 1]);
    // Fashion-MNIST's published mean pixel intensity is 0.286.
    expect(sum / x.length).toBeCloseTo(0.286, 2);
  });

  it("1% keeps 60 train and 10 test images per class, and the identity names the manifest", async () => {
    const s = splitForSeed(src, { ...cfg, fraction: 0.01 }, 1);
    expect(histogram(s.train.y)).toEqual(new Array(10).fill(60));
    expect(histogram(s.test.y)).toEqual(new Array(10).fill(10));
    const { sha256 } = await verifyManifest(root, { name: "fashion-mnist" });
    expect(s.identity).toMatchObject({
      source: "idx",
      manifestSha256: sha256,
      sizes: { available: 70000, train: 600, test: 100 },
    });
  });

  it("the plain (decompressed) files give identical data", async () => {
    const plain = mkdtempSync(join(tmpdir(), "runstack-fmnist-plain-"));
    try {
      for (const base of Object.values(IDX_LAYOUT)) {
        const gz = readFileSync(join(SYSTEM_DIR, `${base}.gz`));
        writeFileSync(join(plain, base), gunzipSync(gz));
      }
      await writeManifest(plain, "fashion-mnist");
      const p = await loadSource(cfg, { dataDir: plain });
      expect(bytesOf(p.train.x).equals(bytesOf(src.train.x))).toBe(true);
      expect(bytesOf(p.train.y).equals(bytesOf(src.train.y))).toBe(true);
      expect(bytesOf(p.test!.x).equals(bytesOf(src.test!.x))).toBe(true);
      expect(p.manifestSha256).not.toBe(src.manifestSha256);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  it("a copied file that was truncated is caught by the manifest before decoding", async () => {
    const bad = mkdtempSync(join(tmpdir(), "runstack-fmnist-bad-"));
    try {
      for (const base of Object.values(IDX_LAYOUT))
        copyFileSync(join(SYSTEM_DIR, `${base}.gz`), join(bad, `${base}.gz`));
      await writeManifest(bad, "fashion-mnist");
      const target = join(bad, `${IDX_LAYOUT.testLabels}.gz`);
      writeFileSync(target, readFileSync(target).subarray(0, 1000));
      await expect(loadSource(cfg, { dataDir: bad })).rejects.toMatchObject({
        code: "MANIFEST_MISMATCH",
        message: expect.stringContaining(target),
      });
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
