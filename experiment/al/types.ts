import type { StrategyName } from "../../configs/experiment.js";

/**
 * The learner the round loop drives. The loop itself is pure bookkeeping; everything that
 * touches TensorFlow.js sits behind this interface (experiment/model implements it, tests fake it).
 * Indices always refer to rows of the training pool.
 */
export interface Learner {
  readonly numClasses: number;
  /** Restore the weights this learner was created with (same start for every strategy in a seed). */
  resetWeights(): void;
  /** Train on the given pool rows; `seed` fixes batch order. */
  fit(indices: Int32Array, seed: number): Promise<{ loss: number }>;
  /** Accuracy and mean cross-entropy on the fixed test set. */
  evaluate(): Promise<{ accuracy: number; loss: number }>;
  /** Softmax probabilities, indices.length × numClasses, row-major. */
  predictProba(indices: Int32Array): Promise<Float32Array>;
  /** `passes` stochastic forward passes with dropout on: passes × indices.length × numClasses. */
  mcProba(indices: Int32Array, passes: number, seed: number): Promise<Float32Array>;
  /** Penultimate-layer embedding, indices.length × embeddingSize. */
  embed(indices: Int32Array): Promise<{ data: Float32Array; dim: number }>;
  dispose(): void;
}

/** What a strategy may look at. Only the fields its `needs` names are filled. */
export interface StrategyInput {
  /** Pool rows that are candidates (unlabelled, maybe subsampled). */
  candidates: Int32Array;
  /** How many to pick. */
  k: number;
  numClasses: number;
  /** Deterministic uniform [0,1) source for this selection. */
  rand: () => number;
  /** candidates.length × numClasses. */
  probs?: Float32Array;
  /** passes × candidates.length × numClasses. */
  mcProbs?: { data: Float32Array; passes: number };
  /** Embeddings of candidates and of the labelled rows (core-set). */
  embeddings?: { candidates: Float32Array; labelled: Float32Array; dim: number };
}

export type StrategyNeeds = "nothing" | "probs" | "mc" | "embeddings";

export interface Strategy {
  name: StrategyName;
  needs: StrategyNeeds;
  /** Returns k distinct positions into `candidates` (not pool indices), best first. */
  select(input: StrategyInput): Int32Array;
}

/** One round of one trial. */
export interface RoundResult {
  round: number;
  /** Labelled-set size the model was trained on this round. */
  labels: number;
  accuracy: number;
  loss: number;
  trainLoss: number;
  seconds: { train: number; evaluate: number; score: number; select: number };
  /** Pool indices acquired at the end of this round (empty on the last round). */
  selected: number[];
}

/** One (strategy, seed) trial. */
export interface TrialResult {
  strategy: StrategyName;
  seed: number;
  /** Every seed derived from `seed` for this trial (split, initial set, weights, batches, selection). */
  derivedSeeds: Record<string, number>;
  initialIndices: number[];
  rounds: RoundResult[];
  status: "completed" | "failed" | "interrupted";
  summary: { finalAccuracy: number; finalLabels: number; aubc: number } | null;
}
