import { deriveSeed, mulberry32, shuffleInPlace } from "../rng.js";
import { sha256Hex } from "./manifest.js";
import type { Dataset } from "./types.js";

/**
 * Seeded Gaussian blobs: one centre per class, unit-variance noise around it, squashed into
 * [0, 1] with a logistic so the values look like pixel intensities. The data depend only on the
 * generator parameters (not on the experiment seed): every seed of a run, and every run with the
 * same parameters, sees the same dataset, just as with a file-based source.
 */

export const BLOBS_GENERATOR = "blobs-v1";
/** Centre coordinates ~ N(0, SPREAD²), noise ~ N(0, 1): centres are ~SPREAD·√(2·features) apart. */
const SPREAD = 3;
/** Logistic scale: keeps typical values (|v| ≲ 3·SPREAD) away from the flat ends of the curve. */
const SQUASH = 3;

export interface BlobsParams {
  samples: number;
  features: number;
  classes: number;
}

export interface SyntheticData {
  dataset: Dataset;
  location: string;
  /** sha256 over the generator name, its parameters and seed. */
  manifestSha256: string;
  seed: number;
}

function gaussian(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    // Box–Muller; 1 - rand() is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const t = 2 * Math.PI * rand();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

export function generateBlobs(params: BlobsParams): SyntheticData {
  const { samples, features, classes } = params;
  const seed = deriveSeed(0, "data", "synthetic", BLOBS_GENERATOR, samples, features, classes);
  const normal = gaussian(mulberry32(seed));
  const centres = new Float64Array(classes * features);
  for (let i = 0; i < centres.length; i++) centres[i] = SPREAD * normal();
  // Balanced classes in a shuffled order, so no split can accidentally follow the class order.
  const y = new Int32Array(samples);
  for (let i = 0; i < samples; i++) y[i] = i % classes;
  shuffleInPlace(y, mulberry32(deriveSeed(seed, "order")));
  const x = new Float32Array(samples * features);
  for (let i = 0; i < samples; i++) {
    const c = y[i]!;
    for (let f = 0; f < features; f++) {
      const v = centres[c * features + f]! + normal();
      x[i * features + f] = 1 / (1 + Math.exp(-v / SQUASH));
    }
  }
  const identity = { generator: BLOBS_GENERATOR, samples, features, classes, seed };
  return {
    dataset: { x, y, n: samples, shape: [features], numClasses: classes },
    location: `synthetic:${BLOBS_GENERATOR}`,
    manifestSha256: sha256Hex(JSON.stringify(identity)),
    seed,
  };
}
