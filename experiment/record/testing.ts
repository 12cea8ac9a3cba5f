import { createHash } from "node:crypto";
import { parseConfigText } from "../../configs/load.js";
import type { TrialResult } from "../al/types.js";
import type { BuildRecordInputs } from "./schema.js";

/**
 * Plain-data inputs for a complete record, shared by the record tests. Objects are written in
 * a scrambled key order on purpose: the written JSON must come out in schema order regardless.
 */

const CONFIG_TEXT = `name: quick
dataset: { source: synthetic, samples: 300 }
model: { kind: mlp, hidden: [32] }
al: { strategies: [random, entropy], rounds: 2 }
seeds: [1, 2]
`;

export function sampleTrial(strategy: TrialResult["strategy"], seed: number, accs: number[]): TrialResult {
  return {
    summary: {
      aubc: accs.reduce((a, b) => a + b, 0) / accs.length,
      finalLabels: 20 + 10 * (accs.length - 1),
      finalAccuracy: accs.at(-1)!,
    },
    status: "completed",
    rounds: accs.map((accuracy, round) => ({
      selected: round === accs.length - 1 ? [] : [round * 10 + 1, round * 10 + 2],
      seconds: { select: 0.001, score: 0.01, evaluate: 0.02, train: 0.5 },
      trainLoss: 0.4,
      loss: 1 - accuracy,
      accuracy,
      labels: 20 + 10 * round,
      round,
    })),
    initialIndices: [3, 1, 4, 1, 5],
    derivedSeeds: { weights: seed * 11, split: seed * 7, [`select/${strategy}`]: seed * 13 },
    seed,
    strategy,
  };
}

export function sampleInputs(): BuildRecordInputs {
  const trials = [sampleTrial("random", 1, [0.5, 0.6, 0.7]), sampleTrial("entropy", 1, [0.5, 0.65, 0.8])];
  return {
    summary: {
      random: { seeds: [1], finalAccuracyStd: null, finalAccuracyMean: 0.7, aubcStd: null, aubcMean: 0.6 },
      entropy: {
        vsRandom: { meanDiff: 0.05, ties: 0, losses: 0, wins: 1 },
        seeds: [1],
        finalAccuracyStd: null,
        finalAccuracyMean: 0.8,
        aubcStd: null,
        aubcMean: 0.65,
      },
    },
    trials,
    timings: {
      seconds: { total: 12.5, trials: 10, load: 2.5 },
      finishedAt: "2026-12-03T13:45:14.000Z",
      startedAt: "2026-12-03T13:45:01.000Z",
    },
    seeds: [1, 2],
    dataset: {
      sizes: { test: 150, train: 150, available: 300 },
      fraction: 1,
      location: "generator",
      manifestSha256: "a".repeat(64),
      name: "blobs",
      source: "synthetic",
    },
    backend: { tfjsVersion: "4.22.0", reason: "requested explicitly", requested: "cpu", name: "cpu" },
    provenance: {
      host: {
        gpu: [],
        memoryBytes: 8 * 2 ** 30,
        cpuModel: "Test CPU",
        cpus: 2,
        arch: "x64",
        platform: "linux",
        hostname: "test-host",
      },
      packages: {
        lockfileSha256: "b".repeat(64),
        versions: { zod: "4.1.0", "@tensorflow/tfjs": "4.22.0" },
        node: "v20.0.0",
      },
      gitMissingReason: null,
      git: {
        diffTruncated: false,
        diff: null,
        untracked: [],
        dirty: false,
        commit: "c".repeat(40),
        branch: "main",
        remote: "https://github.com/example/runstack.git",
      },
      command: { cwd: "/work/repo", argv: ["run", "--config", "configs/quick.yaml"] },
    },
    config: {
      text: CONFIG_TEXT,
      resolved: parseConfigText(CONFIG_TEXT, "configs/quick.yaml"),
      sha256: createHash("sha256").update(CONFIG_TEXT).digest("hex"),
      path: "configs/quick.yaml",
    },
    failure: null,
    status: "completed",
    stack: null,
    runId: "quick-20261203-134501-k3f9",
  };
}
