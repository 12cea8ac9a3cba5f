import type { ModelConfig, TrainConfig } from "../../configs/experiment.js";
import type { Dataset } from "../data/types.js";
import { mulberry32 } from "../rng.js";

/** Tiny seeded datasets for the model tests (kept here so the tests depend on nothing in progress). */

/** Gaussian-ish blobs around well separated class centres, values clipped into [0, 1]. */
export function blobs(opts: {
  n: number;
  features: number;
  classes: number;
  seed: number;
  spread?: number;
}): Dataset {
  const { n, features, classes } = opts;
  const rand = mulberry32(opts.seed);
  const centres = Array.from({ length: classes }, () =>
    Array.from({ length: features }, () => 0.2 + 0.6 * rand()),
  );
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  const spread = opts.spread ?? 0.08;
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = c;
    for (let j = 0; j < features; j++) {
      const noise = (rand() + rand() + rand() - 1.5) * spread;
      x[i * features + j] = Math.min(1, Math.max(0, centres[c]![j]! + noise));
    }
  }
  return { x, y, n, shape: [features], numClasses: classes };
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
