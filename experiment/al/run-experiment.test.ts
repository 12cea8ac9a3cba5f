import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import { AlConfig, type StrategyName } from "../../configs/experiment.js";
import { type RunExperimentOptions, runExperiment } from "./loop.js";
import { getStrategy } from "./registry.js";
import { FakeLearner, makeBlobs } from "./testing/fake-learner.js";
import type { Strategy } from "./types.js";

const al = AlConfig.parse({
  strategies: ["random", "margin"],
  initial: { count: 6 },
  querySize: 4,
  rounds: 2,
});

function setup() {
  const learners: FakeLearner[] = [];
  const loaded: number[] = [];
  const loadSeed: RunExperimentOptions["loadSeed"] = async (seed) => {
    loaded.push(seed);
    const pool = makeBlobs({ seed, numClasses: 3, perClass: 20, dim: 3, spread: 0.5, sampleSeed: 1 });
    const test = makeBlobs({ seed, numClasses: 3, perClass: 10, dim: 3, spread: 0.5, sampleSeed: 2 });
    const learner = new FakeLearner({ pool, test, weightSeed: seed, steps: 20 });
    learners.push(learner);
    return { poolLabels: pool.y, numClasses: 3, learner, derivedSeeds: { weights: seed * 100 } };
  };
  return { learners, loaded, loadSeed };
}

/** margin, except that it throws on its `failAt`-th selection. */
function flakyMargin(failAt: number): Strategy {
  let calls = 0;
  const margin = getStrategy("margin");
  return {
    ...margin,
    select: (input) => {
      if (++calls === failAt) throw new RunstackError("DATA_INVALID", "boom");
      return margin.select(input);
    },
  };
}

describe("runExperiment", () => {
  it("runs seeds × strategies seed-major with one learner per seed, disposed after its strategies", async () => {
    const { learners, loaded, loadSeed } = setup();
    const started: string[] = [];
    const ended: string[] = [];
    const rounds: string[] = [];
    const out = await runExperiment({
      al,
      seeds: [1, 2],
      loadSeed,
      onTrialStart: (s, seed) => started.push(`${s}/${seed}`),
      onRound: (r, t) => rounds.push(`${t.strategy}/${t.seed}/${r.round}`),
      onTrialEnd: async (t) => {
        ended.push(`${t.strategy}/${t.seed}/${t.status}`);
      },
    });
    expect(out.status).toBe("completed");
    expect(out.error).toBeUndefined();
    expect(loaded).toEqual([1, 2]);
    expect(started).toEqual(["random/1", "margin/1", "random/2", "margin/2"]);
    expect(ended).toEqual([
      "random/1/completed",
      "margin/1/completed",
      "random/2/completed",
      "margin/2/completed",
    ]);
    expect(rounds.filter((r) => r.startsWith("margin/2/"))).toEqual([
      "margin/2/0",
      "margin/2/1",
      "margin/2/2",
    ]);
    expect(out.trials.map((t) => `${t.strategy}/${t.seed}`)).toEqual(started);
    expect(learners.map((l) => l.isDisposed)).toEqual([true, true]);
    // each trial of a seed resets the shared learner first
    expect(learners[0]!.calls.filter((c) => c.method === "resetWeights").length).toBe(2 * 3);
    expect(out.trials[0]!.derivedSeeds.weights).toBe(100);
    expect(out.trials[0]!.derivedSeeds["al/initial"]).toBeTypeOf("number");
  });

  it("accepts Strategy objects as well as names", async () => {
    const { loadSeed } = setup();
    const out = await runExperiment({
      al,
      seeds: [1],
      strategies: [getStrategy("entropy"), "random"],
      loadSeed,
    });
    expect(out.trials.map((t) => t.strategy)).toEqual(["entropy", "random"]);
  });

  it("stops at the first failure, keeps the partial trial and returns the original error", async () => {
    const { learners, loaded, loadSeed } = setup();
    const ended: string[] = [];
    const out = await runExperiment({
      al,
      seeds: [1, 2],
      strategies: ["random", flakyMargin(2)],
      loadSeed,
      onTrialEnd: (t) => {
        ended.push(`${t.strategy}/${t.status}`);
      },
    });
    expect(out.status).toBe("failed");
    expect(out.error).toBeInstanceOf(RunstackError);
    expect((out.error as RunstackError).message).toBe("boom");
    expect(out.failedTrial).toEqual({ strategy: "margin", seed: 1, round: 1 });
    expect(out.trials.map((t) => `${t.strategy}/${t.status}/${t.rounds.length}`)).toEqual([
      "random/completed/3",
      "margin/failed/1",
    ]);
    expect(ended).toEqual(["random/completed", "margin/failed"]);
    expect(loaded).toEqual([1]);
    expect(learners[0]!.isDisposed).toBe(true);
  });

  it("returns 'interrupted' with the partial trial when aborted, and starts nothing after", async () => {
    const { learners, loadSeed } = setup();
    const ac = new AbortController();
    const out = await runExperiment({
      al,
      seeds: [1, 2],
      loadSeed,
      signal: ac.signal,
      onRound: (r, t) => {
        if (t.strategy === "margin" && r.round === 0) ac.abort();
      },
    });
    expect(out.status).toBe("interrupted");
    expect(out.trials.map((t) => `${t.strategy}/${t.status}/${t.rounds.length}`)).toEqual([
      "random/completed/3",
      "margin/interrupted/1",
    ]);
    expect(learners.length).toBe(1);
    expect(learners[0]!.isDisposed).toBe(true);
  });

  it("a loadSeed failure fails the run with that error", async () => {
    const { loadSeed } = setup();
    const out = await runExperiment({
      al,
      seeds: [1, 2],
      loadSeed: async (seed) => {
        if (seed === 2) throw new RunstackError("DATA_NOT_FOUND", "no data");
        return loadSeed(seed);
      },
    });
    expect(out.status).toBe("failed");
    expect((out.error as RunstackError).code).toBe("DATA_NOT_FOUND");
    expect(out.trials.length).toBe(2);
  });

  it("an unknown strategy name throws CONFIG_INVALID before any work", async () => {
    const { loaded, loadSeed } = setup();
    await expect(
      runExperiment({ al, seeds: [1], strategies: ["nope" as StrategyName], loadSeed }),
    ).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    expect(loaded).toEqual([]);
  });
});
