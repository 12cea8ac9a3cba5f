import { describe, expect, it } from "vitest";
import type { RunstackError } from "../../configs/errors.js";
import { AlConfig, type StrategyName } from "../../configs/experiment.js";
import { deriveSeed } from "../rng.js";
import { runTrial, TrialFailedError } from "./loop.js";
import { getStrategy } from "./registry.js";
import { plannedRounds } from "./schedule.js";
import { FakeLearner, makeBlobs } from "./testing/fake-learner.js";
import type { Learner, TrialResult } from "./types.js";

const pool = makeBlobs({ seed: 5, numClasses: 3, perClass: 40, dim: 4, spread: 0.6, sampleSeed: 1 });
const test = makeBlobs({ seed: 5, numClasses: 3, perClass: 20, dim: 4, spread: 0.6, sampleSeed: 2 });
const learner = (weightSeed = 1): FakeLearner => new FakeLearner({ pool, test, weightSeed, steps: 30 });
const al = (o: Record<string, unknown> = {}): AlConfig =>
  AlConfig.parse({ strategies: ["random"], initial: { count: 6 }, querySize: 5, rounds: 3, ...o });
/** A clock that advances 1 ms per reading, so every timing is exactly 0.001 s. */
const tick = () => {
  let t = 0;
  return () => ++t;
};

async function trial(o: {
  strategy?: StrategyName;
  seed?: number;
  al?: AlConfig;
  learner?: Learner;
  signal?: AbortSignal;
  onRound?: Parameters<typeof runTrial>[0]["onRound"];
}): Promise<TrialResult> {
  return runTrial({
    strategy: getStrategy(o.strategy ?? "margin"),
    seed: o.seed ?? 1,
    poolLabels: pool.y,
    numClasses: 3,
    al: o.al ?? al(),
    learner: o.learner ?? learner(),
    now: tick(),
    signal: o.signal,
    onRound: o.onRound,
  });
}

async function failure(p: Promise<unknown>): Promise<TrialFailedError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TrialFailedError) return e;
    throw e;
  }
  throw new Error("expected the trial to fail");
}

/** Delegates to a FakeLearner; `hook` runs before every call and may throw or abort. */
function hooked(inner: FakeLearner, hook: (method: string, call: number) => void): Learner {
  let calls = 0;
  const wrap =
    <A extends unknown[], R>(method: string, f: (...a: A) => R) =>
    (...a: A): R => {
      hook(method, ++calls);
      return f.apply(inner, a);
    };
  return {
    numClasses: inner.numClasses,
    resetWeights: wrap("resetWeights", inner.resetWeights),
    fit: wrap("fit", inner.fit),
    evaluate: wrap("evaluate", inner.evaluate),
    predictProba: wrap("predictProba", inner.predictProba),
    mcProba: wrap("mcProba", inner.mcProba),
    embed: wrap("embed", inner.embed),
    dispose: wrap("dispose", inner.dispose),
  };
}

describe("runTrial: the protocol", () => {
  it("every strategy of a seed starts from the same initial set and the same first round", async () => {
    const results = [];
    for (const strategy of ["random", "margin", "entropy", "bald", "coreset", "least-confidence"] as const) {
      results.push(await trial({ strategy, seed: 7 }));
    }
    const first = results[0]!;
    for (const r of results) {
      expect(r.initialIndices).toEqual(first.initialIndices);
      expect(r.rounds[0]!.accuracy).toBe(first.rounds[0]!.accuracy);
      expect(r.derivedSeeds["al/initial"]).toBe(first.derivedSeeds["al/initial"]);
    }
    expect(new Set(results.map((r) => JSON.stringify(r.rounds[0]!.selected))).size).toBeGreaterThan(1);
  });

  it("different seeds start from different initial sets", async () => {
    const a = await trial({ seed: 1 });
    const b = await trial({ seed: 2 });
    expect(a.initialIndices).not.toEqual(b.initialIndices);
  });

  it("al.rounds counts acquisitions: rounds + 1 evaluations, the last acquiring nothing", async () => {
    const t = await trial({});
    expect(t.status).toBe("completed");
    expect(t.rounds.map((r) => r.labels)).toEqual([6, 11, 16, 21]);
    expect(t.rounds.map((r) => r.selected.length)).toEqual([5, 5, 5, 0]);
    expect(t.summary).toEqual({
      finalAccuracy: t.rounds[3]!.accuracy,
      finalLabels: 21,
      aubc: expect.any(Number),
    });
  });

  it("stops at al.budget, acquiring only what the budget has left", async () => {
    const config = al({ rounds: undefined, budget: 20 });
    const t = await trial({ al: config });
    expect(t.rounds.map((r) => r.labels)).toEqual([6, 11, 16, 20]);
    expect(t.rounds.length).toBe(plannedRounds(config, pool.n));
    expect(t.rounds.at(-1)!.selected).toEqual([]);
  });

  it("stops when the pool runs out", async () => {
    const small = Int32Array.from(pool.y.subarray(0, 20));
    const t = await runTrial({
      strategy: getStrategy("entropy"),
      seed: 1,
      poolLabels: small,
      numClasses: 3,
      al: al({ querySize: 8, rounds: 10 }),
      learner: learner(),
      now: tick(),
    });
    expect(t.rounds.map((r) => r.labels)).toEqual([6, 14, 20]);
    expect(plannedRounds(al({ querySize: 8, rounds: 10 }), 20)).toBe(3);
  });

  it("never selects a labelled row twice", async () => {
    const t = await trial({ strategy: "coreset", al: al({ rounds: 12 }) });
    const all = [...t.initialIndices, ...t.rounds.flatMap((r) => r.selected)];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(6 + 12 * 5);
  });

  it("trains each round on exactly the labelled set so far, resetting weights each round", async () => {
    const l = learner();
    const t = await trial({ learner: l });
    const fits = l.calls.filter((c) => c.method === "fit");
    const labelled = new Set(t.initialIndices);
    t.rounds.forEach((r, i) => {
      expect(fits[i]!.indices).toEqual([...labelled].sort((a, b) => a - b));
      expect(fits[i]!.seed).toBe(deriveSeed(1, "al", "fit", i));
      for (const s of r.selected) labelled.add(s);
    });
    const methods = l.calls.map((c) => c.method).filter((m) => m === "resetWeights" || m === "fit");
    expect(methods).toEqual([
      "resetWeights",
      "fit",
      "resetWeights",
      "fit",
      "resetWeights",
      "fit",
      "resetWeights",
      "fit",
    ]);
  });

  it("with reset: warm, resets weights only at the start of the trial", async () => {
    const l = learner();
    await trial({ learner: l, al: al({ reset: "warm" }) });
    expect(l.calls.filter((c) => c.method === "resetWeights").length).toBe(1);
  });

  it("is deterministic: same inputs, identical result", async () => {
    for (const strategy of ["random", "margin", "bald", "coreset"] as const) {
      const a = await trial({ strategy, seed: 3, learner: learner(4) });
      const b = await trial({ strategy, seed: 3, learner: learner(4) });
      expect(b).toEqual(a);
    }
  });

  it("records every stream it used as deriveSeed(seed, ...key.split('/'))", async () => {
    const t = await trial({ strategy: "bald", seed: 9, al: al({ poolSubsample: 50, mcPasses: 3 }) });
    const keys = Object.keys(t.derivedSeeds);
    expect(keys).toContain("al/initial");
    for (const kind of ["fit", "select", "mc", "subsample"]) expect(keys).toContain(`al/${kind}/0`);
    expect(keys).toContain("al/fit/3");
    expect(keys).not.toContain("al/select/3"); // the last round selects nothing
    for (const [key, value] of Object.entries(t.derivedSeeds))
      expect(value).toBe(deriveSeed(9, ...key.split("/")));
  });

  it("uses only the streams a strategy needs", async () => {
    const keys = Object.keys((await trial({ strategy: "margin" })).derivedSeeds);
    expect(keys.some((k) => k.startsWith("al/mc/") || k.startsWith("al/subsample/"))).toBe(false);
  });

  it("scores only the subsample when al.poolSubsample is set, and selects from it", async () => {
    const l = learner();
    const t = await trial({ learner: l, al: al({ poolSubsample: 40 }) });
    const scored = l.calls.filter((c) => c.method === "predictProba");
    expect(scored.map((c) => c.indices!.length)).toEqual([40, 40, 40]);
    t.rounds.slice(0, 3).forEach((r, i) => {
      for (const s of r.selected) expect(scored[i]!.indices).toContain(s);
    });
  });

  it("gives bald al.mcPasses stochastic passes and coreset the labelled embeddings", async () => {
    const l = learner();
    await trial({ strategy: "bald", learner: l, al: al({ mcPasses: 4 }) });
    expect(l.calls.filter((c) => c.method === "mcProba").length).toBe(3);
    const c = learner();
    const t = await trial({ strategy: "coreset", learner: c });
    const embeds = c.calls.filter((x) => x.method === "embed");
    expect(embeds[1]!.indices).toEqual([...t.initialIndices]);
  });

  it("records accuracy, losses and timings from the injected clock", async () => {
    const rounds: number[] = [];
    const t = await trial({ onRound: (r) => rounds.push(r.round) });
    expect(rounds).toEqual([0, 1, 2, 3]);
    for (const r of t.rounds) {
      expect(r.accuracy).toBeGreaterThan(0.3);
      expect(r.trainLoss).toBeGreaterThan(0);
      expect(r.loss).toBeGreaterThan(0);
    }
    expect(t.rounds[0]!.seconds).toEqual({ train: 0.001, evaluate: 0.001, score: 0.001, select: 0.001 });
    expect(t.rounds[3]!.seconds).toEqual({ train: 0.001, evaluate: 0.001, score: 0, select: 0 });
  });
});

describe("runTrial: interruption and failure", () => {
  it("abort after a round gives 'interrupted' with the completed rounds and no summary", async () => {
    const ac = new AbortController();
    const t = await trial({ signal: ac.signal, onRound: (r) => r.round === 1 && ac.abort() });
    expect(t.status).toBe("interrupted");
    expect(t.rounds.length).toBe(2);
    expect(t.summary).toBeNull();
  });

  it("abort in the middle of a round drops that round", async () => {
    const ac = new AbortController();
    let fits = 0;
    const l = hooked(learner(), (m) => {
      if (m === "fit" && ++fits === 3) ac.abort();
    });
    const t = await trial({ learner: l, signal: ac.signal });
    expect(t.status).toBe("interrupted");
    expect(t.rounds.map((r) => r.round)).toEqual([0, 1]);
  });

  it("a learner that throws gives 'failed' with the rounds so far and the original error", async () => {
    let scores = 0;
    const l = hooked(learner(), (m) => {
      if (m === "predictProba" && ++scores === 3) throw new Error("out of memory");
    });
    const err = await failure(trial({ learner: l }));
    expect(err.trial.status).toBe("failed");
    expect(err.trial.rounds.length).toBe(2);
    expect(err.trial.initialIndices.length).toBe(6);
    expect(err.trial.summary).toBeNull();
    expect((err.cause as Error).message).toBe("out of memory");
    expect(err.message).toMatch(/margin, seed 1: failed in round 2: out of memory/);
  });

  it("NaN probabilities fail the trial with LEARNER_OUTPUT naming the pool row", async () => {
    const inner = learner();
    const l = hooked(inner, () => {});
    l.predictProba = async (idx) => new Float32Array(idx.length * 3).fill(Number.NaN);
    const err = await failure(trial({ learner: l }));
    expect((err.cause as RunstackError).code).toBe("LEARNER_OUTPUT");
    expect((err.cause as RunstackError).message).toMatch(/predictProba returned NaN for pool row \d+/);
    expect(err.trial.rounds.length).toBe(0);
  });

  it("mis-shaped learner output fails with LEARNER_OUTPUT", async () => {
    const l = hooked(learner(), () => {});
    l.predictProba = async (idx) => new Float32Array(idx.length * 2);
    const err = await failure(trial({ learner: l }));
    expect((err.cause as RunstackError).message).toMatch(/returned \d+ values; expected \d+/);
  });

  it("config problems the schema cannot see fail before any training", async () => {
    const sub = await failure(trial({ al: al({ poolSubsample: 3 }) }));
    expect((sub.cause as RunstackError).code).toBe("CONFIG_INVALID");
    expect((sub.cause as RunstackError).message).toMatch(/al\.poolSubsample is 3 but al\.querySize is 5/);
    const count = await failure(trial({ al: al({ initial: { count: 500 } }) }));
    expect((count.cause as RunstackError).message).toMatch(/al\.initial\.count is 500/);
    expect(count.trial.rounds).toEqual([]);
  });
});
