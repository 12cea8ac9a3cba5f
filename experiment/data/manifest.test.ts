import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeIdx } from "./idx.js";
import {
  canonicalManifestSha256,
  findIdxFiles,
  IDX_LAYOUT,
  type Manifest,
  readManifest,
  resolveDatasetDir,
  verifyManifest,
  writeManifest,
} from "./manifest.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "runstack-manifest-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeLayout(at: string): void {
  mkdirSync(at, { recursive: true });
  for (const [role, base] of Object.entries(IDX_LAYOUT)) {
    const data = role.endsWith("Images")
      ? encodeIdx([2, 2, 2], new Uint8Array(8).fill(7))
      : encodeIdx([2], Uint8Array.from([0, 1]));
    writeFileSync(join(at, base), data);
  }
}

describe("data directory manifest", () => {
  it("writeManifest lists the four IDX files with sha256 and size; verifyManifest accepts them", async () => {
    writeLayout(dir);
    writeFileSync(join(dir, "README"), "not part of the dataset");
    const written = await writeManifest(dir, "mnist");
    expect(written.manifest.files.map((f) => f.path)).toEqual(Object.values(IDX_LAYOUT).sort());
    const onDisk = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
    expect(onDisk).toEqual(written.manifest);
    const verified = await verifyManifest(dir);
    expect(verified.sha256).toBe(written.sha256);
    expect(verified.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a changed file is a MANIFEST_MISMATCH naming the file, the expected and the found hash", async () => {
    writeLayout(dir);
    const { manifest } = await writeManifest(dir, "mnist");
    const target = join(dir, IDX_LAYOUT.trainLabels);
    writeFileSync(target, encodeIdx([2], Uint8Array.from([1, 0])));
    const expected = manifest.files.find((f) => f.path === IDX_LAYOUT.trainLabels)!.sha256;
    const err = await verifyManifest(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "MANIFEST_MISMATCH" });
    const message = (err as Error).message;
    expect(message).toContain(target);
    expect(message).toContain(`expected sha256 ${expected}`);
    expect(message).toMatch(/found [0-9a-f]{64}/);
    expect(message).not.toContain(`found ${expected}`);
  });

  it("a listed file that is gone is a MANIFEST_MISMATCH naming it", async () => {
    writeLayout(dir);
    await writeManifest(dir, "mnist");
    rmSync(join(dir, IDX_LAYOUT.testImages));
    await expect(verifyManifest(dir)).rejects.toMatchObject({
      code: "MANIFEST_MISMATCH",
      message: expect.stringContaining(join(dir, IDX_LAYOUT.testImages)),
    });
  });

  it("a missing manifest is DATA_NOT_FOUND naming the file, with a hint saying how to create one", async () => {
    writeLayout(dir);
    await expect(verifyManifest(dir)).rejects.toMatchObject({
      code: "DATA_NOT_FOUND",
      message: expect.stringContaining(join(dir, "manifest.json")),
      hint: expect.stringContaining("data-manifest"),
    });
  });

  it("a missing directory is DATA_NOT_FOUND pointing at the config key and the option", async () => {
    await expect(readManifest(join(dir, "nope"))).rejects.toMatchObject({
      code: "DATA_NOT_FOUND",
      hint: expect.stringContaining("--data-dir"),
    });
  });

  it("a malformed manifest is DATA_INVALID naming the key", async () => {
    writeFileSync(
      join(dir, "manifest.json"),
      JSON.stringify({ name: "mnist", files: [{ path: "a", sha256: "xyz", bytes: 1 }] }),
    );
    await expect(readManifest(dir)).rejects.toMatchObject({
      code: "DATA_INVALID",
      message: expect.stringMatching(/manifest\.json: files\.0\.sha256/),
    });
    writeFileSync(join(dir, "manifest.json"), "{ not json");
    await expect(readManifest(dir)).rejects.toMatchObject({ code: "DATA_INVALID" });
  });

  it("manifest paths may not leave the directory", async () => {
    const files = [{ path: "../etc/passwd", sha256: "a".repeat(64), bytes: 1 }];
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ name: "mnist", files }));
    await expect(readManifest(dir)).rejects.toMatchObject({
      code: "DATA_INVALID",
      message: expect.stringContaining("../etc/passwd"),
    });
  });

  it("the identity hash ignores entry order, key order and formatting", () => {
    const a: Manifest = {
      name: "x",
      files: [
        { path: "b", sha256: "1".repeat(64), bytes: 2 },
        { path: "a", sha256: "0".repeat(64), bytes: 1 },
      ],
    };
    const b = JSON.parse(
      `{"files":[{"bytes":1,"sha256":"${"0".repeat(64)}","path":"a"},{"sha256":"${"1".repeat(64)}","path":"b","bytes":2}],"name":"x"}`,
    ) as Manifest;
    expect(canonicalManifestSha256(a)).toBe(canonicalManifestSha256(b));
    expect(canonicalManifestSha256({ ...a, name: "y" })).not.toBe(canonicalManifestSha256(a));
  });

  it("a per-dataset subfolder with its own manifest is used when it exists", async () => {
    writeLayout(join(dir, "fashion-mnist"));
    await writeManifest(join(dir, "fashion-mnist"), "fashion-mnist");
    expect(resolveDatasetDir(dir, "fashion-mnist")).toBe(join(dir, "fashion-mnist"));
    expect(resolveDatasetDir(dir, "mnist")).toBe(dir);
    const v = await verifyManifest(dir, { name: "fashion-mnist" });
    expect(v.dir).toBe(join(dir, "fashion-mnist"));
    await expect(verifyManifest(join(dir, "fashion-mnist"), { name: "mnist" })).rejects.toMatchObject({
      code: "DATA_INVALID",
      message: expect.stringContaining('expected "mnist", found "fashion-mnist"'),
    });
  });

  it("writeManifest refuses a directory missing files or holding both plain and .gz", async () => {
    writeLayout(dir);
    rmSync(join(dir, IDX_LAYOUT.testLabels));
    await expect(writeManifest(dir, "mnist")).rejects.toMatchObject({
      code: "DATA_NOT_FOUND",
      message: expect.stringContaining(`${IDX_LAYOUT.testLabels}[.gz]`),
    });
    expect(() => findIdxFiles([...Object.values(IDX_LAYOUT), `${IDX_LAYOUT.trainImages}.gz`], dir)).toThrow(
      /both/,
    );
    await expect(writeManifest(dir, "Bad Name")).rejects.toMatchObject({ code: "USAGE" });
  });
});
