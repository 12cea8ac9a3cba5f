import { describe, expect, it } from "vitest";
import type { StrategyName } from "../../configs/experiment.js";
import { aubc, renderTable, stat, summarize } from "./metrics.js";
import type { TrialResult } from "./types.js";

describe("aubc", () => {
  it("is the trapezoid area divided by the label span", () => {
    expect(
      aubc([
        { labels: 10, accuracy: 0.5 },
        { labels: 20, accuracy: 0.7 },
      ]),
    ).toBeCloseTo(0.6, 12);
    // (10·0.6 + 20·0.8) / 30 = 22/30; the plain mean of the rounds would be 0.7
    const curve = [
      { labels: 10, accuracy: 0.5 },
      { labels: 20, accuracy: 0.7 },
      { labels: 40, accuracy: 0.9 },
    ];
    expect(aubc(curve)).toBeCloseTo(22 / 30, 12);
  });

  it("of a single point is its accuracy; of an empty curve is an error", () => {
    expect(aubc([{ labels: 20, accuracy: 0.83 }])).toBe(0.83);
    expect(() => aubc([])).toThrow(/no points/);
  });

  it("rejects a curve whose labels go down", () => {
    expect(() =>
      aubc([
        { labels: 20, accuracy: 0.5 },
        { labels: 10, accuracy: 0.6 },
      ]),
    ).toThrow(/labels decrease/);
  });
});

describe("stat", () => {
  it("uses the sample standard deviation (n − 1), and 0 for one value", () => {
    const s = stat([0.5, 0.7]);
    expect(s.mean).toBeCloseTo(0.6, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(stat([0.4])).toEqual({ mean: 0.4, std: 0, n: 1 });
  });
});

function trial(
  strategy: StrategyName,
  seed: number,
  accs: number[],
  status: TrialResult["status"] = "completed",
): TrialResult {
  const rounds = accs.map((accuracy, round) => ({
    round,
    labels: 10 + 10 * round,
    accuracy,
    loss: 1,
    trainLoss: 1,
    seconds: { train: 0, evaluate: 0, score: 0, select: 0 },
    selected: [],
  }));
  const last = rounds[rounds.length - 1]!;
  return {
    strategy,
    seed,
    derivedSeeds: {},
    initialIndices: [],
    rounds,
    status,
    summary:
      status === "completed"
        ? { finalAccuracy: last.accuracy, finalLabels: last.labels, aubc: aubc(rounds) }
        : null,
  };
}

describe("summarize", () => {
  const trials = [
    trial("random", 1, [0.5, 0.6, 0.7]),
    trial("random", 2, [0.5, 0.7, 0.8]),
    trial("margin", 1, [0.5, 0.7, 0.9]),
    trial("margin", 2, [0.5, 0.6, 0.7]),
    trial("entropy", 1, [0.5, 0.8]),
    trial("entropy", 2, [0.5], "interrupted"),
  ];
  const s = summarize(trials);

  it("gives mean ± sample std per label count, AUBC and final accuracy per strategy", () => {
    const random = s.strategies.find((x) => x.strategy === "random")!;
    expect(random.seeds).toEqual([1, 2]);
    expect(random.curve.map((p) => p.labels)).toEqual([10, 20, 30]);
    expect(random.curve[1]!.accuracy.mean).toBeCloseTo(0.65, 12);
    expect(random.curve[1]!.accuracy.std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(random.finalAccuracy.mean).toBeCloseTo(0.75, 12);
    // seed 1: (0.55 + 0.65)/2 = 0.6; seed 2: (0.6 + 0.75)/2 = 0.675
    expect(random.aubc.mean).toBeCloseTo(0.6375, 12);
  });

  it("leaves incomplete trials out of the statistics and lists them", () => {
    const entropy = s.strategies.find((x) => x.strategy === "entropy")!;
    expect(entropy.seeds).toEqual([1]);
    expect(entropy.aubc.std).toBe(0);
    expect(s.incomplete).toEqual([{ strategy: "entropy", seed: 2, status: "interrupted", rounds: 1 }]);
  });

  it("compares each strategy with random seed by seed", () => {
    const margin = s.vsRandom.find((v) => v.strategy === "margin")!;
    // seed 1: 0.7 − 0.6 = +0.1 (win); seed 2: 0.6 − 0.675 = −0.075 (loss)
    expect([margin.wins, margin.losses, margin.ties]).toEqual([1, 1, 0]);
    expect(margin.perSeed[0]!.diff).toBeCloseTo(0.1, 12);
    expect(margin.meanDiff).toBeCloseTo(0.0125, 12);
    expect(s.vsRandom.find((v) => v.strategy === "entropy")!.perSeed.map((p) => p.seed)).toEqual([1]);
  });

  it("has no comparison without a random baseline", () => {
    expect(summarize([trial("margin", 1, [0.5, 0.6])]).vsRandom).toEqual([]);
  });
});

describe("renderTable", () => {
  const s = summarize([
    trial("random", 1, [0.5, 0.6]),
    trial("random", 2, [0.5, 0.7]),
    trial("margin", 1, [0.5, 0.8]),
  ]);

  it("prints accuracy vs labels per strategy with an AUBC line and the per-seed comparison, without ANSI codes", () => {
    const text = renderTable(s);
    expect(text).not.toContain("\u001b[");
    const lines = text.split("\n");
    expect(lines.find((l) => l.trimStart().startsWith("labels"))).toMatch(
      /random \(2 seeds\)\s+margin \(1 seed\)/,
    );
    expect(lines.find((l) => l.trimStart().startsWith("20 "))).toMatch(/0\.650 ± 0\.071\s+0\.800 ± 0\.000/);
    expect(lines.find((l) => l.trimStart().startsWith("AUBC"))).toMatch(
      /0\.5750 ± 0\.0354\s+0\.6500 ± 0\.0000/,
    );
    expect(text).toMatch(/margin: 1 wins, 0 losses, 0 ties over 1 seed; mean difference \+0\.1000/);
  });

  it("with color, only bolds the best mean of a row", () => {
    const text = renderTable(s, { color: true });
    const row = text.split("\n").find((l) => l.trimStart().startsWith("20 "))!;
    expect(row).toContain("\u001b[1m0.800 ± 0.000");
    expect(row).not.toContain("\u001b[1m0.650");
  });

  it("says so when nothing completed", () => {
    expect(renderTable(summarize([trial("margin", 1, [0.5], "failed")]))).toMatch(
      /no completed trials[\s\S]*margin seed 1: failed/,
    );
  });
});
