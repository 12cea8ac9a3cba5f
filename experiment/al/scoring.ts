import { RunstackError } from "../../configs/errors.js";
import type { Learner, Strategy, StrategyInput } from "./types.js";

/**
 * Asks the learner for exactly what a strategy needs and checks the answer before any strategy
 * sees it: a wrong length would silently mis-align rows with pool indices, and NaN probabilities
 * (a diverged model) would make every ranking meaningless.
 */
export interface GatherOptions {
  strategy: Strategy;
  learner: Learner;
  candidates: Int32Array;
  /** Only read by strategies that need embeddings (core-set compares candidates with these). */
  labelled: Int32Array;
  k: number;
  numClasses: number;
  rand: () => number;
  mcPasses: number;
  /** Called only when MC passes are needed, so an unused stream is never derived or recorded. */
  mcSeed: () => number;
}

export async function gatherInput(opts: GatherOptions): Promise<StrategyInput> {
  const { learner, candidates, numClasses } = opts;
  const input: StrategyInput = { candidates, k: opts.k, numClasses, rand: opts.rand };
  const n = candidates.length;
  switch (opts.strategy.needs) {
    case "nothing":
      break;
    case "probs": {
      const probs = await learner.predictProba(candidates);
      checkOutput({
        what: "predictProba",
        data: probs,
        expected: n * numClasses,
        shape: `${n} × ${numClasses}`,
      });
      checkFinite("predictProba", probs, candidates, numClasses);
      input.probs = probs;
      break;
    }
    case "mc": {
      const passes = opts.mcPasses;
      const data = await learner.mcProba(candidates, passes, opts.mcSeed());
      checkOutput({
        what: "mcProba",
        data,
        expected: passes * n * numClasses,
        shape: `${passes} passes × ${n} × ${numClasses}`,
      });
      checkFinite("mcProba", data, candidates, numClasses);
      input.mcProbs = { data, passes };
      break;
    }
    case "embeddings": {
      const c = await learner.embed(candidates);
      const l = await learner.embed(opts.labelled);
      if (c.dim !== l.dim || !Number.isInteger(c.dim) || c.dim < 1) {
        throw new RunstackError(
          "LEARNER_OUTPUT",
          `learner.embed returned dim ${c.dim} for candidates and ${l.dim} for labelled rows; expected one positive dim`,
        );
      }
      checkOutput({ what: "embed", data: c.data, expected: n * c.dim, shape: `${n} × ${c.dim}` });
      checkOutput({
        what: "embed",
        data: l.data,
        expected: opts.labelled.length * l.dim,
        shape: `${opts.labelled.length} × ${l.dim}`,
      });
      checkFinite("embed", c.data, candidates, c.dim);
      checkFinite("embed", l.data, opts.labelled, l.dim);
      input.embeddings = { candidates: c.data, labelled: l.data, dim: c.dim };
      break;
    }
  }
  return input;
}

function checkOutput(o: { what: string; data: Float32Array; expected: number; shape: string }): void {
  if (o.data.length !== o.expected) {
    throw new RunstackError(
      "LEARNER_OUTPUT",
      `learner.${o.what} returned ${o.data.length} values; expected ${o.expected} (${o.shape})`,
      {
        hint: "a bug in the learner (experiment/model): its output does not match the rows it was asked for",
      },
    );
  }
}

/** Names the pool row of the first non-finite value (MC output repeats the rows once per pass). */
function checkFinite(what: string, data: Float32Array, rows: Int32Array, rowWidth: number): void {
  const perPass = rows.length * rowWidth;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      const row = rows[Math.floor((i % perPass) / rowWidth)];
      throw new RunstackError(
        "LEARNER_OUTPUT",
        `learner.${what} returned ${data[i]} for pool row ${row}: the model has most likely diverged`,
        { hint: "lower train.learningRate (or check the input data for NaN)" },
      );
    }
  }
}
