import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import {
  bytesToUnitFloats,
  checkPair,
  decodeImages,
  decodeLabels,
  encodeIdx,
  maybeGunzip,
  parseIdx,
  readIdxImages,
  readIdxLabels,
} from "./idx.js";

function caught(fn: () => unknown): RunstackError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RunstackError);
    return e as RunstackError;
  }
  throw new Error("expected a RunstackError, nothing was thrown");
}

const images = encodeIdx([3, 2, 2], Uint8Array.from([0, 255, 51, 102, 1, 2, 3, 4, 250, 251, 252, 253]));
const labels = encodeIdx([3], Uint8Array.from([0, 9, 4]));

describe("IDX reader", () => {
  it("decodes images to floats in [0, 1] and keeps the header's shape", () => {
    const img = decodeImages(images, "a-images");
    expect([img.n, img.rows, img.cols]).toEqual([3, 2, 2]);
    expect(img.x.length).toBe(12);
    expect(img.x[0]).toBe(0);
    expect(img.x[1]).toBe(1);
    expect(img.x[2]).toBeCloseTo(0.2, 6);
  });

  it("maps every byte value v to v/255 exactly once rounded to float32", () => {
    const all = Uint8Array.from({ length: 256 }, (_, v) => v);
    const f = bytesToUnitFloats(all);
    for (let v = 0; v < 256; v++) expect(f[v]).toBe(Math.fround(v / 255));
  });

  it("decodes labels as Int32Array", () => {
    expect(Array.from(decodeLabels(labels, { file: "l", numClasses: 10 }))).toEqual([0, 9, 4]);
  });

  it("detects gzip by its magic bytes, not the file name, and gives identical data", async () => {
    const gz = gzipSync(images);
    const plain = await maybeGunzip(images, "plain.gz");
    const unzipped = await maybeGunzip(gz, "no-suffix");
    expect(Buffer.from(plain).equals(Buffer.from(images))).toBe(true);
    expect(Buffer.from(unzipped).equals(Buffer.from(images))).toBe(true);
    expect(decodeImages(unzipped, "x").x).toEqual(decodeImages(plain, "y").x);
  });

  it("rejects a corrupt gzip stream naming the file", async () => {
    const gz = gzipSync(images).subarray(0, 20);
    await expect(maybeGunzip(gz, "/d/broken.gz")).rejects.toMatchObject({
      code: "DATA_INVALID",
      message: expect.stringContaining("/d/broken.gz"),
    });
  });

  it("rejects a wrong magic naming the file, expected and found", () => {
    const bad = Uint8Array.from(images);
    bad[0] = 0x50; // e.g. a PNG or text file
    const e = caught(() => parseIdx(bad, { file: "/d/train-images-idx3-ubyte", expectNdim: 3 }));
    expect(e.code).toBe("DATA_INVALID");
    expect(e.message).toContain("/d/train-images-idx3-ubyte");
    expect(e.message).toContain("expected magic 0x00000803");
    expect(e.message).toContain("found 0x50000803");
  });

  it("rejects a labels file where images are expected (wrong number of dimensions)", () => {
    const e = caught(() => parseIdx(labels, { file: "/d/swapped", expectNdim: 3 }));
    expect(e.code).toBe("DATA_INVALID");
    expect(e.message).toMatch(/\/d\/swapped: wrong IDX magic: expected 0x00000803.*found 0x00000801/);
  });

  it("rejects an unsupported dtype, naming it", () => {
    const f32 = Uint8Array.from(images);
    f32[2] = 0x0d;
    const e = caught(() => parseIdx(f32, { file: "/d/floats", expectNdim: 3 }));
    expect(e.code).toBe("DATA_INVALID");
    expect(e.message).toContain("/d/floats");
    expect(e.message).toContain("expected 0x08 (ubyte), found 0x0d (float32)");
  });

  it("rejects a truncated file: header says N items, bytes hold fewer", () => {
    const cut = images.subarray(0, images.length - 5);
    const e = caught(() => parseIdx(cut, { file: "/d/cut", expectNdim: 3 }));
    expect(e.code).toBe("DATA_INVALID");
    expect(e.message).toContain("/d/cut");
    expect(e.message).toContain("header says 3×2×2 (12 bytes of data), file holds 7 (1 complete items)");
  });

  it("rejects a truncated header and an empty file", () => {
    expect(caught(() => parseIdx(images.subarray(0, 9), { file: "/d/h", expectNdim: 3 })).message).toContain(
      "truncated IDX header: expected 16 bytes, found 9",
    );
    expect(caught(() => parseIdx(new Uint8Array(0), { file: "/d/e", expectNdim: 1 })).message).toContain(
      "/d/e",
    );
  });

  it("rejects labels out of range naming the item and the range", () => {
    const e = caught(() => decodeLabels(labels, { file: "/d/labels", numClasses: 5 }));
    expect(e.code).toBe("DATA_INVALID");
    expect(e.message).toContain("/d/labels: label out of range at item 1: expected 0..4, found 9");
  });

  it("rejects a label count that differs from the image count, naming both files", () => {
    const img = decodeImages(images, "/d/imgs");
    const y = decodeLabels(encodeIdx([2], Uint8Array.from([1, 2])), { file: "/d/labs", numClasses: 10 });
    const e = caught(() =>
      checkPair({ images: img, labels: y, imagesFile: "/d/imgs", labelsFile: "/d/labs" }),
    );
    expect(e.code).toBe("DATA_INVALID");
    expect(e.message).toContain("/d/labs: label count does not match /d/imgs: expected 3 labels, found 2");
  });

  it("reads files from disk whatever their names say about compression", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runstack-idx-"));
    try {
      writeFileSync(join(dir, "images.gz"), images);
      writeFileSync(join(dir, "labels"), gzipSync(labels));
      const img = await readIdxImages(join(dir, "images.gz"));
      expect(img.x).toEqual(decodeImages(images, "x").x);
      expect(Array.from(await readIdxLabels(join(dir, "labels"), 10))).toEqual([0, 9, 4]);
      await expect(readIdxImages(join(dir, "absent"))).rejects.toMatchObject({
        code: "DATA_NOT_FOUND",
        message: expect.stringContaining(join(dir, "absent")),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
