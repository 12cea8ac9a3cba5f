import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { isAbsolute, join, normalize, sep } from "node:path";
import { z } from "zod";
import { RunstackError } from "../../configs/errors.js";
import { formatIssues } from "../../configs/load.js";

/**
 * The data directory contract (what a data image holds): the four MNIST-layout IDX files, gzipped
 * or not, plus `manifest.json` naming every file with its sha256 and size. A run only reads files
 * the manifest lists and only after their hash matched, so the manifest hash identifies the data.
 */

export const MANIFEST_FILE = "manifest.json";

/** Base names of the IDX files; each may carry a `.gz` suffix. */
export const IDX_LAYOUT = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;
export type IdxRole = keyof typeof IDX_LAYOUT;

export const ManifestEntry = z.strictObject({
  /** Relative to the manifest's directory. */
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits"),
  bytes: z.int().min(0),
});
export type ManifestEntry = z.infer<typeof ManifestEntry>;

export const Manifest = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "lowercase letters, digits, '.', '_' or '-'"),
  files: z.array(ManifestEntry).min(1),
});
export type Manifest = z.infer<typeof Manifest>;

export interface VerifiedManifest {
  /** The directory the manifest sits in (after resolving a per-dataset subfolder). */
  dir: string;
  manifest: Manifest;
  /** sha256 of the canonical manifest: the dataset identity. */
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Key order, entry order and whitespace of manifest.json do not change the identity: the hash is
 * taken over a canonical rendering (entries sorted by path, fixed key order, no whitespace).
 */
export function canonicalManifestSha256(m: Manifest): string {
  const files = [...m.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes }));
  return sha256Hex(JSON.stringify({ name: m.name, files }));
}

/** `dir/<name>/manifest.json` wins over `dir/manifest.json`, so one data image can hold several datasets. */
export function resolveDatasetDir(dir: string, name: string): string {
  const sub = join(dir, name);
  return existsSync(join(sub, MANIFEST_FILE)) ? sub : dir;
}

function manifestHint(dir: string): string {
  return `create one with \`npm run runstack -- data-manifest ${dir} --name <dataset-name>\` after checking the files are the ones you mean`;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      const what = existsSync(dir)
        ? `${dir} has no ${MANIFEST_FILE}`
        : `data directory ${dir} does not exist`;
      throw new RunstackError("DATA_NOT_FOUND", `${path}: ${what}`, {
        hint: existsSync(dir)
          ? manifestHint(dir)
          : "check dataset.dir in the config or the --data-dir option",
        cause: e,
      });
    }
    throw new RunstackError("DATA_NOT_FOUND", `${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RunstackError("DATA_INVALID", `${path}: not valid JSON: ${(e as Error).message}`, {
      hint: manifestHint(dir),
      cause: e,
    });
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    throw new RunstackError(
      "DATA_INVALID",
      `invalid manifest\n${formatIssues(path, parsed.error.issues, raw)}`,
      {
        hint: `expected { name, files: [{ path, sha256, bytes }] }; ${manifestHint(dir)}`,
      },
    );
  }
  for (const f of parsed.data.files) {
    const norm = normalize(f.path);
    if (isAbsolute(f.path) || norm === ".." || norm.startsWith(`..${sep}`)) {
      throw new RunstackError(
        "DATA_INVALID",
        `${path}: file path ${JSON.stringify(f.path)} leaves the data directory`,
        {
          hint: "manifest paths are relative to the manifest's directory and stay inside it",
        },
      );
    }
  }
  return parsed.data;
}

/** Reads one listed file and checks its size and sha256 against the manifest. */
export async function readVerified(dir: string, entry: ManifestEntry): Promise<Buffer> {
  const path = join(dir, entry.path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new RunstackError(
      "MANIFEST_MISMATCH",
      `${path}: listed in ${MANIFEST_FILE} but cannot be read: ${(e as Error).message}`,
      {
        hint: "restore the file, or regenerate the manifest if the file was removed on purpose",
        cause: e,
      },
    );
  }
  const found = sha256Hex(bytes);
  if (bytes.length !== entry.bytes || found !== entry.sha256) {
    throw new RunstackError(
      "MANIFEST_MISMATCH",
      `${path}: does not match ${MANIFEST_FILE}: expected sha256 ${entry.sha256} (${entry.bytes} bytes), found ${found} (${bytes.length} bytes)`,
      {
        hint: "the file changed since the manifest was written; restore it, or regenerate the manifest if the change is intended (a new manifest is a new dataset identity)",
      },
    );
  }
  return bytes;
}

/** Checks every listed file; `name` (optional) must match the manifest's. */
export async function verifyManifest(dir: string, opts: { name?: string } = {}): Promise<VerifiedManifest> {
  const resolved = opts.name === undefined ? dir : resolveDatasetDir(dir, opts.name);
  const manifest = await readManifest(resolved);
  if (opts.name !== undefined && manifest.name !== opts.name) {
    throw new RunstackError(
      "DATA_INVALID",
      `${join(resolved, MANIFEST_FILE)}: dataset name: expected "${opts.name}", found "${manifest.name}"`,
      {
        hint: `point the data directory at the ${opts.name} files (or at a directory holding ${opts.name}/)`,
      },
    );
  }
  // One file at a time: peak memory stays at one file, and hashing is CPU-bound anyway.
  for (const entry of manifest.files) await readVerified(resolved, entry);
  return { dir: resolved, manifest, sha256: canonicalManifestSha256(manifest) };
}

/** Finds the file for each IDX role among `names` (plain or `.gz`), refusing ambiguity. */
export function findIdxFiles(names: readonly string[], where: string): Record<IdxRole, string> {
  const out: Partial<Record<IdxRole, string>> = {};
  const missing: string[] = [];
  for (const [role, base] of Object.entries(IDX_LAYOUT) as [IdxRole, string][]) {
    const hits = names.filter((n) => n === base || n === `${base}.gz`);
    if (hits.length > 1) {
      throw new RunstackError("DATA_INVALID", `${where}: both ${base} and ${base}.gz are present`, {
        hint: "keep one of them so the data read is unambiguous",
      });
    }
    if (hits.length === 0) missing.push(`${base}[.gz]`);
    else out[role] = hits[0]!;
  }
  if (missing.length > 0) {
    throw new RunstackError("DATA_NOT_FOUND", `${where}: missing ${missing.join(", ")}`, {
      hint: `a data directory holds ${Object.values(IDX_LAYOUT).join(", ")} (each optionally .gz) and ${MANIFEST_FILE}`,
    });
  }
  return out as Record<IdxRole, string>;
}

/**
 * Hashes the IDX files in `dir` and writes `dir/manifest.json` (atomically). Returns what it wrote.
 * Only the layout's files are listed: anything else in the directory is not part of the dataset.
 */
export async function writeManifest(dir: string, name: string): Promise<VerifiedManifest> {
  if (!Manifest.shape.name.safeParse(name).success) {
    throw new RunstackError("USAGE", `data-manifest: invalid dataset name ${JSON.stringify(name)}`, {
      hint: "use the dataset's config name: lowercase letters, digits, '.', '_' or '-' (e.g. mnist, fashion-mnist)",
    });
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new RunstackError("DATA_NOT_FOUND", `${dir}: cannot list data directory: ${(e as Error).message}`, {
      hint: "pass an existing directory holding the IDX files",
      cause: e,
    });
  }
  const roles = findIdxFiles(names, dir);
  const files: ManifestEntry[] = [];
  for (const file of Object.values(roles).sort()) {
    const bytes = await readFile(join(dir, file));
    files.push({ path: file, sha256: sha256Hex(bytes), bytes: bytes.length });
  }
  const manifest = Manifest.parse({ name, files });
  const target = join(dir, MANIFEST_FILE);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(tmp, target);
  } catch (e) {
    throw new RunstackError("DATA_INVALID", `${target}: cannot write manifest: ${(e as Error).message}`, {
      hint: "the directory must be writable; copy or symlink the files into a writable directory first",
      cause: e,
    });
  }
  return { dir, manifest, sha256: canonicalManifestSha256(manifest) };
}
