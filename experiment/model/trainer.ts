import * as tf from "@tensorflow/tfjs";
import { RunstackError } from "../../configs/errors.js";
import type { ModelConfig, TrainConfig } from "../../configs/experiment.js";
import type { Learner } from "../al/types.js";
import type { Dataset } from "../data/types.js";
import { deriveSeed, mulberry32, shuffleInPlace } from "../rng.js";
import { type BuiltModel, buildModel } from "./build.js";

/**
 * The Learner the round loop drives, on whatever backend `selectBackend` chose.
 *
 * Batches are gathered by hand from the typed arrays into one reusable buffer and fed with
 * synchronous per-batch calls: `fit`/`predict` on one big tensor cost O(N²/batch) on wasm
 * (its Slice copies the whole source out of the wasm heap for every batch).
 *
 * Randomness: tfjs's dropout draws `randomUniform` without a seed, which seeds seedrandom's alea
 * with one `Math.random()` per call. So every forward pass that runs dropout (training steps and
 * MC passes) executes with `Math.random` temporarily replaced by a mulberry32 stream seeded from
 * the call's seed, restored in `finally`. The swap only ever wraps synchronous code (tfjs kernels
 * run synchronously on cpu/wasm/tensorflow), so no other code can observe or consume the stream.
 * Consecutive dropout calls draw consecutive values, so MC passes differ, yet a run replays
 * exactly from its seed. (A fixed Dropout `seed` would give every pass the same mask.)
 */
export interface LearnerOptions {
  model: ModelConfig;
  train: TrainConfig;
  pool: Dataset;
  test: Dataset;
  weightSeed: number;
  /** Rows per forward pass when scoring/evaluating (no gradients, so larger than training batches). */
  inferenceBatch?: number;
}

export const DEFAULT_INFERENCE_BATCH = 256;
/** Let timers/signals run this often during long synchronous loops. */
const YIELD_EVERY_BATCHES = 64;

export async function createLearner(opts: LearnerOptions): Promise<TfLearner> {
  checkData(opts.pool, opts.test);
  return new TfLearner(opts);
}

export class TfLearner implements Learner {
  readonly numClasses: number;
  readonly embeddingDim: number;
  /** The graph views; exposed for saveModel, not for callers outside experiment/model. */
  readonly built: BuiltModel;
  private readonly pool: Dataset;
  private readonly test: Dataset;
  private readonly train: TrainConfig;
  private readonly featureSize: number;
  private readonly inferenceBatch: number;
  private readonly xBuf: Float32Array;
  private readonly yBuf: Float32Array;
  private readonly initialWeights: { values: Float32Array; shape: number[] }[];
  private readonly variables: tf.Variable[];
  private optimizer: tf.Optimizer;
  private disposed = false;

  constructor(opts: LearnerOptions) {
    this.pool = opts.pool;
    this.test = opts.test;
    this.train = opts.train;
    this.numClasses = opts.pool.numClasses;
    this.featureSize = opts.pool.shape.reduce((a, b) => a * b, 1);
    this.inferenceBatch = opts.inferenceBatch ?? DEFAULT_INFERENCE_BATCH;
    this.built = buildModel({
      model: opts.model,
      inputShape: opts.pool.shape,
      numClasses: this.numClasses,
      weightSeed: opts.weightSeed,
    });
    this.embeddingDim = this.built.embeddingDim;
    const rows = Math.max(this.train.batchSize, this.inferenceBatch);
    this.xBuf = new Float32Array(rows * this.featureSize);
    this.yBuf = new Float32Array(this.train.batchSize * this.numClasses);
    // Copies: the cpu backend hands out its own storage from dataSync.
    this.initialWeights = this.built.probs
      .getWeights()
      .map((w) => ({ values: Float32Array.from(w.dataSync()), shape: [...w.shape] }));
    this.variables = this.built.logits.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = this.makeOptimizer();
  }

  resetWeights(): void {
    this.assertLive();
    const tensors = this.initialWeights.map((w) => tf.tensor(w.values.slice(), w.shape));
    this.built.probs.setWeights(tensors);
    tf.dispose(tensors);
    this.optimizer.dispose();
    this.optimizer = this.makeOptimizer();
  }

  async fit(indices: Int32Array, seed: number): Promise<{ loss: number }> {
    this.assertLive();
    if (indices.length === 0) throw new Error("fit needs at least one pool row");
    checkIndices(indices, this.pool.n, "fit");
    const order = Int32Array.from(indices);
    const shuffle = mulberry32(seed);
    const dropoutRand = mulberry32(deriveSeed(seed, "dropout"));
    const bs = this.train.batchSize;
    const C = this.numClasses;
    let lossSum = 0;
    let batches = 0;
    for (let epoch = 0; epoch < this.train.epochs; epoch++) {
      shuffleInPlace(order, shuffle);
      const last = epoch === this.train.epochs - 1;
      for (let start = 0; start < order.length; start += bs) {
        const count = Math.min(bs, order.length - start);
        const rows = order.subarray(start, start + count);
        gatherRows(this.pool, rows, this.featureSize, this.xBuf);
        const y = this.yBuf.subarray(0, count * C).fill(0);
        for (let i = 0; i < count; i++) y[i * C + this.pool.y[rows[i]!]!] = 1;
        const xT = tf.tensor(this.xBuf.subarray(0, count * this.featureSize), [count, ...this.pool.shape]);
        const yT = tf.tensor2d(y, [count, C]);
        try {
          const lossT = withMathRandom(dropoutRand, () =>
            this.optimizer.minimize(
              () => {
                const logits = this.built.logits.apply(xT, { training: true }) as tf.Tensor;
                return tf.losses.softmaxCrossEntropy(yT, logits) as tf.Scalar;
              },
              last,
              this.variables,
            ),
          );
          if (lossT) {
            lossSum += lossT.dataSync()[0]! * count;
            lossT.dispose();
          }
        } finally {
          xT.dispose();
          yT.dispose();
        }
        if (++batches % YIELD_EVERY_BATCHES === 0) await yieldToEventLoop();
      }
    }
    return { loss: lossSum / order.length };
  }

  async evaluate(): Promise<{ accuracy: number; loss: number }> {
    this.assertLive();
    const probs = await this.run(this.built.probs, this.test, null, this.numClasses);
    const C = this.numClasses;
    let correct = 0;
    let loss = 0;
    for (let i = 0; i < this.test.n; i++) {
      const row = probs.subarray(i * C, i * C + C);
      const label = this.test.y[i]!;
      let best = 0;
      for (let c = 1; c < C; c++) if (row[c]! > row[best]!) best = c;
      if (best === label) correct++;
      // Same clipping as Keras' categorical cross-entropy, so a confident mistake stays finite.
      loss -= Math.log(Math.max(row[label]!, 1e-7));
    }
    return { accuracy: correct / this.test.n, loss: loss / this.test.n };
  }

  async predictProba(indices: Int32Array): Promise<Float32Array> {
    this.assertLive();
    checkIndices(indices, this.pool.n, "predictProba");
    return this.run(this.built.probs, this.pool, indices, this.numClasses);
  }

  async embed(indices: Int32Array): Promise<{ data: Float32Array; dim: number }> {
    this.assertLive();
    checkIndices(indices, this.pool.n, "embed");
    return {
      data: await this.run(this.built.embed, this.pool, indices, this.embeddingDim),
      dim: this.embeddingDim,
    };
  }

  async mcProba(indices: Int32Array, passes: number, seed: number): Promise<Float32Array> {
    this.assertLive();
    checkIndices(indices, this.pool.n, "mcProba");
    if (!this.built.hasDropout) {
      throw new RunstackError(
        "CONFIG_INVALID",
        "MC dropout (strategy bald) needs a model with dropout, but every dropout rate in `model` is 0",
        {
          hint: "set model.dropout (e.g. 0.5) or drop 'bald' from al.strategies",
        },
      );
    }
    if (!Number.isInteger(passes) || passes < 1)
      throw new RangeError(`mcProba passes must be a positive integer, got ${passes}`);
    const n = indices.length;
    const C = this.numClasses;
    const out = new Float32Array(passes * n * C);
    const rand = mulberry32(seed);
    let batches = 0;
    for (let start = 0; start < n; start += this.inferenceBatch) {
      const count = Math.min(this.inferenceBatch, n - start);
      gatherRows(this.pool, indices.subarray(start, start + count), this.featureSize, this.xBuf);
      const { chain, firstDropout } = this.built;
      const xT = tf.tensor(this.xBuf.subarray(0, count * this.featureSize), [count, ...this.pool.shape]);
      // Everything before the first Dropout is the same in every pass: compute it once.
      const hT = tf.tidy(() => applyChain(chain.slice(0, firstDropout), xT, false));
      try {
        for (let p = 0; p < passes; p++) {
          const yT = withMathRandom(rand, () =>
            tf.tidy(() => applyChain(chain.slice(firstDropout), hT, true)),
          );
          out.set(yT.dataSync(), (p * n + start) * C);
          yT.dispose();
        }
      } finally {
        tf.dispose([xT, hT]);
      }
      if (++batches % YIELD_EVERY_BATCHES === 0) await yieldToEventLoop();
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
    // The three views share layers; disposing the full graph releases every weight once.
    this.built.probs.dispose();
  }

  /** Inference in batches; `indices` null means all rows of `ds` in order. */
  private async run(
    net: tf.LayersModel,
    ds: Dataset,
    indices: Int32Array | null,
    width: number,
  ): Promise<Float32Array> {
    const n = indices === null ? ds.n : indices.length;
    const out = new Float32Array(n * width);
    const f = this.featureSize;
    let batches = 0;
    for (let start = 0; start < n; start += this.inferenceBatch) {
      const count = Math.min(this.inferenceBatch, n - start);
      let xs: Float32Array;
      if (indices === null) {
        xs = ds.x.subarray(start * f, (start + count) * f);
      } else {
        gatherRows(ds, indices.subarray(start, start + count), f, this.xBuf);
        xs = this.xBuf.subarray(0, count * f);
      }
      const xT = tf.tensor(xs, [count, ...ds.shape]);
      const yT = net.apply(xT, { training: false }) as tf.Tensor;
      out.set(yT.dataSync(), start * width);
      tf.dispose([xT, yT]);
      if (++batches % YIELD_EVERY_BATCHES === 0) await yieldToEventLoop();
    }
    return out;
  }

  private makeOptimizer(): tf.Optimizer {
    const lr = this.train.learningRate;
    return this.train.optimizer === "adam" ? tf.train.adam(lr) : tf.train.sgd(lr);
  }

  private assertLive(): void {
    if (this.disposed) throw new Error("learner used after dispose()");
  }
}

function applyChain(layers: tf.layers.Layer[], x: tf.Tensor, training: boolean): tf.Tensor {
  // A chain of length 0 returns x itself; clone so callers can dispose what they get.
  return layers.reduce((h, layer) => layer.apply(h, { training }) as tf.Tensor, x.clone());
}

/** Run synchronous `fn` with Math.random drawing from `rand` (see the module comment for why). */
function withMathRandom<T>(rand: () => number, fn: () => T): T {
  const original = Math.random;
  Math.random = rand;
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

function gatherRows(ds: Dataset, rows: Int32Array, f: number, dst: Float32Array): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    dst.set(ds.x.subarray(r * f, r * f + f), i * f);
  }
}

function checkIndices(indices: Int32Array, n: number, what: string): void {
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (r < 0 || r >= n) throw new RangeError(`${what}: pool row ${r} at position ${i} is outside [0, ${n})`);
  }
}

function checkData(pool: Dataset, test: Dataset): void {
  const problems: string[] = [];
  for (const [name, ds] of [
    ["pool", pool],
    ["test", test],
  ] as const) {
    const f = ds.shape.reduce((a, b) => a * b, 1);
    if (ds.x.length !== ds.n * f)
      problems.push(`${name}.x has ${ds.x.length} floats, expected n × [${ds.shape}] = ${ds.n * f}`);
    if (ds.y.length !== ds.n) problems.push(`${name}.y has ${ds.y.length} labels, expected n = ${ds.n}`);
    for (let i = 0; i < ds.y.length; i++) {
      const c = ds.y[i]!;
      if (c < 0 || c >= ds.numClasses) {
        problems.push(`${name}.y[${i}] = ${c} is outside [0, ${ds.numClasses})`);
        break;
      }
    }
  }
  if (pool.shape.join("x") !== test.shape.join("x"))
    problems.push(`pool shape [${pool.shape}] differs from test shape [${test.shape}]`);
  if (pool.numClasses !== test.numClasses)
    problems.push(`pool has ${pool.numClasses} classes, test has ${test.numClasses}`);
  if (test.n === 0) problems.push("test set is empty");
  if (problems.length > 0) {
    throw new RunstackError(
      "DATA_INVALID",
      `dataset handed to the model is inconsistent: ${problems.join("; ")}`,
      {
        hint: "this is produced by experiment/data; check the dataset source and its manifest",
      },
    );
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
