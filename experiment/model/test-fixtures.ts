import type { ModelConfig, TrainConfig } from "../../configs/experiment.js";
import { subset } from "../data/split.js";
import { generateBlobs } from "../data/synthetic.js";
import type { Dataset } from "../data/types.js";
import { mulberry32 } from "../rng.js";

/** Tiny seeded datasets for the model tests (kept here so the tests depend on nothing in progress). */

/**
 * A disjoint pool/test split of the project's own synthetic blobs (experiment/data/synthetic.ts),
 * so the model tests learn from the same generator runs use and never evaluate on training rows.
 */
export function blobSplit(opts: { pool: number; test: number; features: number; classes: number }): {
  pool: Dataset;
  test: Dataset;
} {
  const { dataset } = generateBlobs({
    samples: opts.pool + opts.test,
    features: opts.features,
    classes: opts.classes,
  });
  const rows = (from: number, n: number) => Int32Array.from({ length: n }, (_, i) => from + i);
  return { pool: subset(dataset, rows(0, opts.pool)), test: subset(dataset, rows(opts.pool, opts.test)) };
}

/** Images whose class is which quadrant holds a bright square, plus noise. */
export function quadrantImages(opts: { n: number; size: number; seed: number }): Dataset {
  const { n, size } = opts;
  const rand = mulberry32(opts.seed);
  const x = new Float32Array(n * size * size);
  const y = new Int32Array(n);
  const half = size / 2;
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    y[i] = c;
    const oy = c < 2 ? 0 : half;
    const ox = c % 2 === 0 ? 0 : half;
    for (let r = 0; r < size; r++) {
      for (let col = 0; col < size; col++) {
        const inside = r >= oy && r < oy + half && col >= ox && col < ox + half;
        x[i * size * size + r * size + col] = (inside ? 0.7 : 0.1) + 0.2 * rand();
      }
    }
  }
  return { x, y, n, shape: [size, size, 1], numClasses: 4 };
}

export const mlp = (hidden: number[], dropout = 0): ModelConfig => ({ kind: "mlp", hidden, dropout });

export const trainConfig = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  optimizer: "adam",
  learningRate: 0.01,
  epochs: 5,
  batchSize: 16,
  ...over,
});
