import { runExperiment } from "../al/loop.js";
import { renderTable, summarize } from "../al/metrics.js";
import { plannedRounds } from "../al/schedule.js";
import type { TrialResult } from "../al/types.js";
import { splitForSeed } from "../data/index.js";
import { createProgress } from "../progress.js";
import { interruptedError, learnerForSeed, type SessionOptions, startSession } from "./session.js";

export interface RunOutcome {
  runId: string;
  recordPath: string;
  status: "completed" | "failed" | "interrupted";
  table: string;
  error?: unknown;
}

/** `experiment run`: every (strategy × seed) trial of the config, one run record. */
export async function runCommand(opts: SessionOptions): Promise<RunOutcome> {
  const session = await startSession(opts);
  const { config, source } = session;
  const first = splitForSeed(source, config.dataset, config.seeds[0]!);
  let dataset = first.identity;
  const trials: TrialResult[] = [];
  await session.write({ status: "running", trials, dataset });

  const progress = createProgress(opts.log, opts.isTTY);
  const planned = plannedRounds(config.al, first.train.n);
  const total = config.seeds.length * config.al.strategies.length;
  let index = 0;
  const outcome = await runExperiment({
    al: config.al,
    seeds: config.seeds,
    strategies: config.al.strategies,
    signal: opts.signal,
    loadSeed: async (seed) => {
      // The first seed's split was already made above (identity, progress denominator).
      const split = seed === config.seeds[0] ? first : splitForSeed(source, config.dataset, seed);
      dataset = split.identity;
      const { learner, derivedSeeds } = await learnerForSeed(config, split, seed);
      return { poolLabels: split.train.y, numClasses: split.train.numClasses, learner, derivedSeeds };
    },
    onTrialStart: (strategy, seed) => progress.trialStart({ strategy, seed, index: ++index, total }),
    onRound: (r) => progress.round(r, planned),
    onTrialEnd: async (trial) => {
      trials.push(trial);
      await session.write({ status: "running", trials, dataset });
    },
  });
  progress.done();

  const status = outcome.status;
  const error = outcome.error ?? (status === "interrupted" ? interruptedError(opts.signal) : undefined);
  await session.write({ status, error, trials: outcome.trials, dataset });
  const done = outcome.trials.filter((t) => t.rounds.length > 0);
  return {
    runId: session.runId,
    recordPath: session.recordPath,
    status,
    table: done.length > 0 ? renderTable(summarize(done)) : "(no trial completed a round)",
    error: outcome.error,
  };
}
