import { mulberry32 } from "../../rng.js";
import type { Learner } from "../types.js";

/**
 * Test doubles for the AL core: seeded Gaussian blobs and a small deterministic softmax-regression
 * learner in plain JS. Its probabilities are real (fitted by gradient descent), so strategies rank
 * meaningfully; it is not a model for real runs (that is experiment/model).
 */

export interface Blobs {
  /** n × dim, row-major. */
  x: Float32Array;
  y: Int32Array;
  n: number;
  dim: number;
  numClasses: number;
}

export interface BlobsOptions {
  seed: number;
  numClasses: number;
  perClass: number;
  dim: number;
  /** Standard deviation of each blob around its centre. */
  spread: number;
  /** Centres are uniform in [-centreScale, centreScale]^dim. */
  centreScale?: number;
  /**
   * Heavy tails: this fraction of each class is drawn with the wider spread instead. A pool of
   * tight, redundant cores plus a few rows reaching across the boundaries is where uncertainty
   * sampling should pay off (random spends most labels on the cores).
   */
  tail?: { fraction: number; spread: number };
}

/** Class-interleaved blobs: the same seed gives the same centres, so a pool and a test set can share them. */
export function makeBlobs(opts: BlobsOptions & { sampleSeed?: number }): Blobs {
  const { numClasses, perClass, dim, spread } = opts;
  const scale = opts.centreScale ?? 1;
  const centreRand = mulberry32(opts.seed);
  const centres = Float64Array.from({ length: numClasses * dim }, () => (centreRand() * 2 - 1) * scale);
  const rand = mulberry32(opts.sampleSeed ?? opts.seed + 1);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const n = numClasses * perClass;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % numClasses;
    y[i] = c;
    const s = opts.tail !== undefined && rand() < opts.tail.fraction ? opts.tail.spread : spread;
    for (let j = 0; j < dim; j++) x[i * dim + j] = centres[c * dim + j]! + s * gauss();
  }
  return { x, y, n, dim, numClasses };
}

export interface FakeLearnerOptions {
  pool: Blobs;
  test: Blobs;
  weightSeed: number;
  /** Full-batch gradient-descent steps per fit. */
  steps?: number;
  learningRate?: number;
  /** L2 penalty: keeps the weights (and so the confidence) finite on separable data. */
  l2?: number;
  /** Input dropout rate used by mcProba. */
  dropout?: number;
}

export class FakeLearner implements Learner {
  readonly numClasses: number;
  /** Every call, in order, so tests can check what the loop asked for. */
  readonly calls: { method: string; indices?: number[]; seed?: number }[] = [];
  private readonly dim: number;
  private readonly initial: Float64Array;
  private weights: Float64Array;
  private disposed = false;

  constructor(private readonly opts: FakeLearnerOptions) {
    this.numClasses = opts.pool.numClasses;
    this.dim = opts.pool.dim;
    const rand = mulberry32(opts.weightSeed);
    // (dim + 1) × classes: the last row is the bias.
    this.initial = Float64Array.from(
      { length: (this.dim + 1) * this.numClasses },
      () => (rand() - 0.5) * 0.1,
    );
    this.weights = this.initial.slice();
  }

  resetWeights(): void {
    this.alive();
    this.calls.push({ method: "resetWeights" });
    this.weights = this.initial.slice();
  }

  async fit(indices: Int32Array, seed: number): Promise<{ loss: number }> {
    this.alive();
    this.calls.push({ method: "fit", indices: Array.from(indices), seed });
    const { pool } = this.opts;
    const steps = this.opts.steps ?? 100;
    const lr = this.opts.learningRate ?? 0.5;
    const l2 = this.opts.l2 ?? 1e-3;
    const c = this.numClasses;
    const d = this.dim;
    const grad = new Float64Array(this.weights.length);
    const p = new Float64Array(c);
    let loss = 0;
    for (let s = 0; s < steps; s++) {
      grad.fill(0);
      loss = 0;
      for (const row of indices) {
        this.forward(pool.x, row, null, p);
        const y = pool.y[row]!;
        loss -= Math.log(Math.max(p[y]!, 1e-12));
        for (let k = 0; k < c; k++) {
          const g = p[k]! - (k === y ? 1 : 0);
          for (let j = 0; j < d; j++) grad[j * c + k]! += g * pool.x[row * d + j]!;
          grad[d * c + k]! += g;
        }
      }
      const m = Math.max(indices.length, 1);
      for (let i = 0; i < grad.length; i++) this.weights[i]! -= lr * (grad[i]! / m + l2 * this.weights[i]!);
      loss /= m;
    }
    return { loss };
  }

  async evaluate(): Promise<{ accuracy: number; loss: number }> {
    this.alive();
    this.calls.push({ method: "evaluate" });
    const { test } = this.opts;
    const p = new Float64Array(this.numClasses);
    let correct = 0;
    let loss = 0;
    for (let i = 0; i < test.n; i++) {
      this.forward(test.x, i, null, p);
      const y = test.y[i]!;
      let arg = 0;
      for (let k = 1; k < this.numClasses; k++) if (p[k]! > p[arg]!) arg = k;
      if (arg === y) correct++;
      loss -= Math.log(Math.max(p[y]!, 1e-12));
    }
    return { accuracy: correct / test.n, loss: loss / test.n };
  }

  async predictProba(indices: Int32Array): Promise<Float32Array> {
    this.alive();
    this.calls.push({ method: "predictProba", indices: Array.from(indices) });
    return this.probs(indices, null);
  }

  async mcProba(indices: Int32Array, passes: number, seed: number): Promise<Float32Array> {
    this.alive();
    this.calls.push({ method: "mcProba", indices: Array.from(indices), seed });
    const rate = this.opts.dropout ?? 0.3;
    const rand = mulberry32(seed);
    const out = new Float32Array(passes * indices.length * this.numClasses);
    const mask = new Float64Array(this.dim);
    for (let t = 0; t < passes; t++) {
      // One mask per pass, shared by its rows: a sampled sub-network, as MC dropout does.
      for (let j = 0; j < this.dim; j++) mask[j] = rand() < rate ? 0 : 1 / (1 - rate);
      out.set(this.probs(indices, mask), t * indices.length * this.numClasses);
    }
    return out;
  }

  async embed(indices: Int32Array): Promise<{ data: Float32Array; dim: number }> {
    this.alive();
    this.calls.push({ method: "embed", indices: Array.from(indices) });
    const data = new Float32Array(indices.length * this.dim);
    indices.forEach((row, i) => {
      data.set(this.opts.pool.x.subarray(row * this.dim, (row + 1) * this.dim), i * this.dim);
    });
    return { data, dim: this.dim };
  }

  dispose(): void {
    this.calls.push({ method: "dispose" });
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private probs(indices: Int32Array, mask: Float64Array | null): Float32Array {
    const c = this.numClasses;
    const out = new Float32Array(indices.length * c);
    const p = new Float64Array(c);
    indices.forEach((row, i) => {
      this.forward(this.opts.pool.x, row, mask, p);
      for (let k = 0; k < c; k++) out[i * c + k] = p[k]!;
    });
    return out;
  }

  /** Softmax(x·W + b) for one row into `p`. */
  private forward(x: Float32Array, row: number, mask: Float64Array | null, p: Float64Array): void {
    const c = this.numClasses;
    const d = this.dim;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < c; k++) {
      let z = this.weights[d * c + k]!;
      for (let j = 0; j < d; j++) z += x[row * d + j]! * (mask ? mask[j]! : 1) * this.weights[j * c + k]!;
      p[k] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let k = 0; k < c; k++) {
      p[k] = Math.exp(p[k]! - max);
      sum += p[k]!;
    }
    for (let k = 0; k < c; k++) p[k]! /= sum;
  }

  private alive(): void {
    if (this.disposed) throw new Error("FakeLearner: used after dispose()");
  }
}
