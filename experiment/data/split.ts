import { RunstackError } from "../../configs/errors.js";
import type { DatasetConfig } from "../../configs/experiment.js";
import { deriveSeed, mulberry32, shuffleInPlace } from "../rng.js";
import type { Dataset, LoadedSource, SplitData } from "./types.js";

/**
 * Seeded, class-stratified splitting and subsampling. Pure: the same (source, config, seed)
 * always gives the same split, so every strategy of a seed sees the same pool and test set.
 *
 * Each class's rows are put in one seeded order and splits take prefixes of it, so for one seed a
 * smaller fraction takes (up to rounding) a subset of a larger fraction's rows, and a test set drawn
 * from a source without a predefined one does not depend on `fraction` at all.
 *
 * - embedded / synthetic: the test set (`testSize`, stratified) is drawn from all the data first;
 *   `fraction` then subsamples the rest into the pool. Evaluation costs no labels and little time,
 *   and its size sets the noise of every reported accuracy: 1% of the 10k embedded digits would
 *   leave a 100-digit test set (±3 points of accuracy) or none at all with the default 2000.
 * - idx: train and t10k are both subsampled by `fraction`; `testSize` caps the test set.
 */

export interface SplitPlan {
  /** Source rows of the pool, ascending. */
  pool: Int32Array;
  /** Rows of the test set, ascending: in the source's test split if it has one, else in its data. */
  test: Int32Array;
  /** The derived seeds this plan used, by name. */
  seeds: Record<string, number>;
}

/** Rows of each class in a seeded random order. */
export function shuffledByClass(y: Int32Array, numClasses: number, seed: number): Int32Array[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const c of y) counts[c]!++;
  const byClass = counts.map((n) => new Int32Array(n));
  const fill = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < y.length; i++) {
    const c = y[i]!;
    byClass[c]![fill[c]!++] = i;
  }
  const rand = mulberry32(seed);
  for (const rows of byClass) shuffleInPlace(rows, rand);
  return byClass;
}

/**
 * Splits `total` over classes in proportion to `sizes` (largest remainder), never above `cap[c]`,
 * and giving every class that has rows at least one when `total` allows it.
 */
export function allocate(sizes: readonly number[], total: number, cap: readonly number[]): number[] {
  const sum = sizes.reduce((a, b) => a + b, 0);
  const quota = sizes.map((s) => (sum === 0 ? 0 : (total * s) / sum));
  const alloc = quota.map((q, c) => Math.min(Math.floor(q), cap[c]!));
  const byRemainder = quota
    .map((q, c) => ({ c, r: q - Math.floor(q) }))
    .sort((a, b) => b.r - a.r || a.c - b.c)
    .map((e) => e.c);
  let left = total - alloc.reduce((a, b) => a + b, 0);
  while (left > 0) {
    let gave = false;
    for (const c of byRemainder) {
      if (left === 0) break;
      if (alloc[c]! < cap[c]!) {
        alloc[c]!++;
        left--;
        gave = true;
      }
    }
    if (!gave) break;
  }
  // Every present class gets one, paid for by the class with the most.
  for (let c = 0; c < sizes.length; c++) {
    if (alloc[c] !== 0 || cap[c]! < 1) continue;
    let donor = -1;
    for (let d = 0; d < sizes.length; d++)
      if (alloc[d]! > 1 && (donor < 0 || alloc[d]! > alloc[donor]!)) donor = d;
    if (donor < 0) break;
    alloc[donor]!--;
    alloc[c] = 1;
  }
  return alloc;
}

function take(byClass: Int32Array[], from: readonly number[], count: readonly number[]): Int32Array {
  const out = new Int32Array(count.reduce((a, b) => a + b, 0));
  let k = 0;
  byClass.forEach((rows, c) => {
    out.set(rows.subarray(from[c]!, from[c]! + count[c]!), k);
    k += count[c]!;
  });
  return out.sort();
}

function classesPresent(sizes: readonly number[]): number {
  return sizes.filter((s) => s > 0).length;
}

function fractionCount(n: number, fraction: number): number {
  return Math.max(1, Math.round(n * fraction));
}

function invalid(message: string, hint: string): RunstackError {
  return new RunstackError("DATA_INVALID", message, { hint });
}

/** Which rows go to the pool and the test set for one seed. */
export function planSplit(source: LoadedSource, cfg: DatasetConfig, seed: number): SplitPlan {
  const k = source.train.numClasses;
  const where = `dataset (source ${cfg.source}, name ${source.name})`;

  if (source.test) {
    const seeds = {
      "data.pool": deriveSeed(seed, "data", "pool"),
      "data.test": deriveSeed(seed, "data", "test"),
    };
    const trainBy = shuffledByClass(source.train.y, k, seeds["data.pool"]);
    const testBy = shuffledByClass(source.test.y, k, seeds["data.test"]);
    const trainSizes = trainBy.map((r) => r.length);
    const testSizes = testBy.map((r) => r.length);
    // A tiny fraction still keeps one example of every class on both sides.
    const poolCount = Math.max(fractionCount(source.train.n, cfg.fraction), classesPresent(trainSizes));
    const testPresent = classesPresent(testSizes);
    if (cfg.testSize !== undefined && cfg.testSize < testPresent) {
      throw invalid(
        `${where}: dataset.testSize: expected at least ${testPresent} (one per class), found ${cfg.testSize}`,
        "raise dataset.testSize (or leave it out to use the whole test split)",
      );
    }
    const testCount = Math.min(
      Math.max(fractionCount(source.test.n, cfg.fraction), testPresent),
      cfg.testSize ?? Number.POSITIVE_INFINITY,
    );
    const zero = new Array<number>(k).fill(0);
    return {
      pool: take(trainBy, zero, allocate(trainSizes, poolCount, trainSizes)),
      test: take(testBy, zero, allocate(testSizes, testCount, testSizes)),
      seeds,
    };
  }

  const testSize = cfg.testSize;
  if (testSize === undefined) throw new Error("unreachable: embedded and synthetic configs default testSize");
  const splitSeed = deriveSeed(seed, "data", "split");
  const byClass = shuffledByClass(source.train.y, k, splitSeed);
  const sizes = byClass.map((r) => r.length);
  const present = classesPresent(sizes);
  const available = source.train.n;
  const single = sizes.indexOf(1);
  if (single >= 0) {
    throw invalid(
      `${where}: class ${single} has a single example: expected at least 2 per class (one for the test set, one for the pool)`,
      "use more samples, or fewer classes",
    );
  }
  if (testSize < present || testSize > available - present) {
    throw invalid(
      `${where}: dataset.testSize: expected ${present}..${available - present} (at least one test and one pool example per class, out of ${available}), found ${testSize}`,
      `set dataset.testSize in that range; the test set is drawn first, then dataset.fraction (${cfg.fraction}) subsamples the rest into the pool`,
    );
  }
  // The test set takes each class's first rows, leaving at least one of every class for the pool,
  // which takes the rows right after it: nested across fractions, disjoint from the test set.
  const testAlloc = allocate(
    sizes,
    testSize,
    sizes.map((s) => s - 1),
  );
  const rest = sizes.map((s, c) => s - testAlloc[c]!);
  const poolAlloc = allocate(
    rest,
    Math.max(fractionCount(available - testSize, cfg.fraction), present),
    rest,
  );
  return {
    pool: take(byClass, testAlloc, poolAlloc),
    test: take(byClass, new Array<number>(k).fill(0), testAlloc),
    seeds: { "data.split": splitSeed },
  };
}

/**
 * The given rows as a contiguous Dataset. Taking every row (ascending, as plans are) returns `ds`
 * itself: a full-size run then shares the loaded arrays across seeds instead of copying 188 MB per
 * seed, so datasets are read-only for everyone downstream.
 */
export function subset(ds: Dataset, rows: Int32Array): Dataset {
  if (rows.length === ds.n && rows.every((r, i) => r === i)) return ds;
  const f = ds.x.length / Math.max(1, ds.n);
  const x = new Float32Array(rows.length * f);
  const y = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    x.set(ds.x.subarray(r * f, (r + 1) * f), i * f);
    y[i] = ds.y[r]!;
  }
  return { x, y, n: rows.length, shape: [...ds.shape], numClasses: ds.numClasses };
}

/** The pool and fixed test set one seed works on. Pure and deterministic. */
export function splitForSeed(source: LoadedSource, cfg: DatasetConfig, seed: number): SplitData {
  if (cfg.source !== source.source || cfg.name !== source.name) {
    throw invalid(
      `dataset: the loaded source is ${source.source}/${source.name} but the config says ${cfg.source}/${cfg.name}`,
      "load the source with the same dataset config you split it with",
    );
  }
  const plan = planSplit(source, cfg, seed);
  const train = subset(source.train, plan.pool);
  const test = subset(source.test ?? source.train, plan.test);
  return {
    train,
    test,
    identity: {
      source: source.source,
      name: source.name,
      manifestSha256: source.manifestSha256,
      location: source.location,
      fraction: cfg.fraction,
      sizes: { available: source.train.n + (source.test?.n ?? 0), train: train.n, test: test.n },
    },
    seeds: { ...source.seeds, ...plan.seeds },
  };
}
