import { RunstackError } from "../../configs/errors.js";
import { randomK } from "./select.js";

/**
 * Which pool rows are labelled. Labels themselves are known up front (the pool is a labelled
 * dataset with its labels hidden from the strategy); "revealing" moves rows into the labelled set.
 * Listings are ascending by pool index, so training on a set never depends on the order in which
 * it was acquired.
 */
export class Pool {
  readonly size: number;
  private readonly flags: Uint8Array;
  private count = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 0)
      throw new RangeError(`Pool: size must be a non-negative integer`);
    this.size = size;
    this.flags = new Uint8Array(size);
  }

  get labelledCount(): number {
    return this.count;
  }

  get unlabelledCount(): number {
    return this.size - this.count;
  }

  isLabelled(index: number): boolean {
    return this.flags[index] === 1;
  }

  /** Move rows into the labelled set; revealing a row twice is a bug in the caller. */
  reveal(indices: ArrayLike<number>): void {
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i]!;
      if (!Number.isInteger(index) || index < 0 || index >= this.size) {
        throw new RangeError(`Pool.reveal: index ${index} is outside the pool [0, ${this.size})`);
      }
      if (this.flags[index] === 1) throw new RangeError(`Pool.reveal: pool row ${index} is already labelled`);
      this.flags[index] = 1;
      this.count++;
    }
  }

  labelled(): Int32Array {
    return this.collect(1, this.count);
  }

  unlabelled(): Int32Array {
    return this.collect(0, this.size - this.count);
  }

  private collect(flag: number, length: number): Int32Array {
    const out = new Int32Array(length);
    let j = 0;
    for (let i = 0; i < this.size; i++) if (this.flags[i] === flag) out[j++] = i;
    return out;
  }
}

export interface InitialSetOptions {
  /** Label of every pool row. */
  labels: Int32Array;
  numClasses: number;
  /** al.initial.count */
  count: number;
  /** al.initial.classBalanced */
  classBalanced: boolean;
  rand: () => number;
}

/**
 * The seed's initial labelled set, ascending. It depends only on the labels, the config and `rand`
 * (never on the strategy), so every strategy of a seed starts from the same rows.
 * Class-balanced: floor(count / classes) rows per class, and the count % classes leftover rows go
 * to randomly chosen distinct classes (so per-class counts differ by at most one).
 */
export function chooseInitialSet(opts: InitialSetOptions): Int32Array {
  const { labels, numClasses, count } = opts;
  const n = labels.length;
  if (count > n) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `al.initial.count is ${count} but the training pool has only ${n} rows`,
      { hint: "lower al.initial.count, or use more data (dataset.fraction / dataset size)" },
    );
  }
  const byClass = rowsByClass(labels, numClasses);
  if (!opts.classBalanced) return pick(n, count, opts.rand, null).sort();

  if (count < numClasses) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `al.initial.count is ${count} but al.initial.classBalanced needs at least one label per class (${numClasses} classes)`,
      { hint: `set al.initial.count >= ${numClasses}, or al.initial.classBalanced: false` },
    );
  }
  const base = Math.floor(count / numClasses);
  const quota = new Array<number>(numClasses).fill(base);
  for (const c of randomK(numClasses, count % numClasses, opts.rand)) quota[c]!++;

  const chosen: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const rows = byClass[c]!;
    const want = quota[c]!;
    if (rows.length < want) {
      throw new RunstackError(
        "CONFIG_INVALID",
        `al.initial.classBalanced: class ${c} has ${rows.length} rows in the training pool but the initial set needs ${want} of it (al.initial.count ${count} over ${numClasses} classes)`,
        { hint: "lower al.initial.count, set al.initial.classBalanced: false, or use more data" },
      );
    }
    for (const p of pick(rows.length, want, opts.rand, rows)) chosen.push(p);
  }
  return Int32Array.from(chosen).sort();
}

function rowsByClass(labels: Int32Array, numClasses: number): Int32Array[] {
  const sizes = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new RunstackError(
        "DATA_INVALID",
        `training pool row ${i} has label ${y}; expected an integer in [0, ${numClasses})`,
        { hint: "the dataset's labels and numClasses disagree: check the data source" },
      );
    }
    sizes[y]!++;
  }
  const rows = Array.from(sizes, (s) => new Int32Array(s));
  const fill = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    rows[y]![fill[y]!++] = i;
  }
  return rows;
}

/** `count` distinct rows: positions from randomK, mapped through `rows` when given. */
function pick(n: number, count: number, rand: () => number, rows: Int32Array | null): Int32Array {
  const positions = randomK(n, count, rand);
  return rows === null ? positions : positions.map((p) => rows[p]!);
}

/** A uniform random subset of `from` of `size` rows (typed-array sort: numeric, ascending). */
export function subsample(from: Int32Array, size: number, rand: () => number): Int32Array {
  if (size <= 0 || size >= from.length) return from.slice();
  return pick(from.length, size, rand, from).sort();
}
