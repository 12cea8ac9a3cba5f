import type { StrategyName } from "../../configs/experiment.js";
import { kCenterGreedy, randomK, topK } from "./select.js";
import type { Strategy, StrategyInput } from "./types.js";
import { baldMutualInformation, entropy, leastConfidence, margin } from "./uncertainty.js";

/**
 * The built-in strategies. Each is pure: it sees only its StrategyInput and returns k distinct
 * positions into `candidates`, best first. The loop fills only what `needs` asks for, so a missing
 * field here is a wiring bug, not a user error.
 */

function need<T>(value: T | undefined, strategy: StrategyName, field: string): T {
  if (value === undefined) throw new Error(`strategy ${strategy}: StrategyInput.${field} was not provided`);
  return value;
}

function negate(values: Float64Array): Float64Array {
  for (let i = 0; i < values.length; i++) values[i] = -values[i]!;
  return values;
}

const random: Strategy = {
  name: "random",
  needs: "nothing",
  select: (input: StrategyInput) => randomK(input.candidates.length, input.k, input.rand),
};

const leastConfidenceStrategy: Strategy = {
  name: "least-confidence",
  needs: "probs",
  select: (input) =>
    topK(
      leastConfidence(need(input.probs, "least-confidence", "probs"), input.numClasses),
      input.k,
      input.rand,
    ),
};

const marginStrategy: Strategy = {
  name: "margin",
  needs: "probs",
  // Smallest top-1 − top-2 gap first.
  select: (input) =>
    topK(negate(margin(need(input.probs, "margin", "probs"), input.numClasses)), input.k, input.rand),
};

const entropyStrategy: Strategy = {
  name: "entropy",
  needs: "probs",
  select: (input) =>
    topK(entropy(need(input.probs, "entropy", "probs"), input.numClasses), input.k, input.rand),
};

const bald: Strategy = {
  name: "bald",
  needs: "mc",
  select: (input) => {
    const mc = need(input.mcProbs, "bald", "mcProbs");
    return topK(baldMutualInformation(mc.data, mc.passes, input.numClasses), input.k, input.rand);
  },
};

const coreset: Strategy = {
  name: "coreset",
  needs: "embeddings",
  select: (input) => {
    const e = need(input.embeddings, "coreset", "embeddings");
    return kCenterGreedy({
      candidates: e.candidates,
      labelled: e.labelled,
      dim: e.dim,
      k: input.k,
      rand: input.rand,
    });
  },
};

/** Every built-in strategy by its config name (the type makes a missing name a compile error). */
export const BUILTIN_STRATEGIES: Readonly<Record<StrategyName, Strategy>> = {
  random,
  "least-confidence": leastConfidenceStrategy,
  margin: marginStrategy,
  entropy: entropyStrategy,
  bald,
  coreset,
};
