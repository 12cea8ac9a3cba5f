import { join } from "node:path";
import { splitForSeed } from "../data/index.js";
import { saveModel } from "../model/save.js";
import type { SupervisedResult } from "../record/schema.js";
import { deriveSeed } from "../rng.js";
import { interruptedError, learnerForSeed, type SessionOptions, startSession } from "./session.js";

export interface TrainOutcome {
  runId: string;
  recordPath: string;
  modelDir: string;
  status: "completed" | "failed" | "interrupted";
  summary: string;
  error?: unknown;
}

/**
 * `experiment train`: the seed workflow's model2.py. Supervised training on every pool label of
 * the first seed: the ceiling the active-learning curves approach.
 */
export async function trainCommand(opts: SessionOptions): Promise<TrainOutcome> {
  const session = await startSession(opts);
  const { config } = session;
  const seed = config.seeds[0]!;
  const split = splitForSeed(session.source, config.dataset, seed);
  const dataset = split.identity;
  await session.write({ status: "running", trials: [], dataset });
  const fitSeed = deriveSeed(seed, "supervised", "batches");
  const modelDir = join(session.runDir, "model");
  const { learner, derivedSeeds } = await learnerForSeed(config, split, seed);
  try {
    const all = Int32Array.from({ length: split.train.n }, (_, i) => i);
    const t0 = performance.now();
    const { loss: trainLoss } = await learner.fit(all, fitSeed);
    const t1 = performance.now();
    const { accuracy, loss } = await learner.evaluate();
    const t2 = performance.now();
    if (opts.signal.aborted) {
      await session.write({
        status: "interrupted",
        error: interruptedError(opts.signal),
        trials: [],
        dataset,
      });
      return outcome("interrupted", "interrupted before the model was saved");
    }
    const saved = await saveModel(learner, modelDir);
    const supervised: SupervisedResult = {
      seed,
      derivedSeeds: { ...derivedSeeds, batches: fitSeed },
      labels: split.train.n,
      accuracy,
      loss,
      trainLoss,
      seconds: { train: (t1 - t0) / 1000, evaluate: (t2 - t1) / 1000 },
      modelFiles: saved.files.map((f) => join("model", f)),
    };
    await session.write({ status: "completed", trials: [], dataset, supervised });
    return outcome(
      "completed",
      `supervised ${config.model.kind} on ${split.train.n} labels (seed ${seed}): ` +
        `test accuracy ${(accuracy * 100).toFixed(2)}% (n=${split.test.n}), loss ${loss.toFixed(4)}, ` +
        `${config.train.epochs} epochs in ${((t1 - t0) / 1000).toFixed(1)} s`,
    );
  } catch (error) {
    await session.write({ status: "failed", error, trials: [], dataset });
    return { ...outcome("failed", "training failed"), error };
  } finally {
    learner.dispose();
  }

  function outcome(status: TrainOutcome["status"], summary: string): TrainOutcome {
    return { runId: session.runId, recordPath: session.recordPath, modelDir, status, summary };
  }
}
