/**
 * Time split of active-learning rounds on the quick default (embedded MNIST, wasm): where a round's
 * time goes (train / evaluate / score / select / record) and the overhead outside training and
 * scoring. Prints figures; asserts nothing. Run: node --import tsx bench/round.ts [--strategy margin]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../configs/load.js";
import { runTrial } from "../experiment/al/loop.js";
import { getStrategy } from "../experiment/al/registry.js";
import type { RoundResult, TrialResult } from "../experiment/al/types.js";
import { loadSource, splitForSeed } from "../experiment/data/index.js";
import { selectBackend } from "../experiment/model/backend.js";
import { createLearner } from "../experiment/model/trainer.js";
import { writeCurves } from "../experiment/record/curves.js";
import { captureProvenance } from "../experiment/record/provenance.js";
import { buildRecord } from "../experiment/record/schema.js";
import { createRunDir, writeRecord } from "../experiment/record/writer.js";
import { deriveSeed } from "../experiment/rng.js";

const { values } = parseArgs({
  options: {
    strategy: { type: "string", default: "margin" },
    config: { type: "string", default: "configs/quick.yaml" },
  },
});
const loaded = loadConfig(values.config!);
const config = loaded.config;
const backend = await selectBackend(config.backend);
const source = await loadSource(config.dataset);
const seed = config.seeds[0]!;
const split = splitForSeed(source, config.dataset, seed);
const learner = await createLearner({
  model: config.model,
  train: config.train,
  pool: split.train,
  test: split.test,
  weightSeed: deriveSeed(seed, "weights"),
});
const provenance = await captureProvenance({ cwd: process.cwd(), argv: process.argv.slice(1) });
const runDir = await createRunDir(mkdtempSync(join(tmpdir(), "runstack-bench-")), "bench-round");

// Wall time per round, measured between onRound callbacks, and the record write each round would pay.
const marks: number[] = [performance.now()];
const recordSeconds: number[] = [];
const rounds: RoundResult[] = [];
const trial: TrialResult = await runTrial({
  strategy: getStrategy(values.strategy as "margin"),
  seed,
  poolLabels: split.train.y,
  numClasses: split.train.numClasses,
  al: config.al,
  learner,
  onRound: (r) => {
    rounds.push(r);
    marks.push(performance.now());
  },
});
// Record cost measured separately (the run command writes once per trial, not per round; this is the upper bound).
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const record = buildRecord({
    runId: "bench-round",
    stack: null,
    status: "running",
    failure: null,
    config: { path: loaded.path, sha256: loaded.sha256, resolved: config, text: loaded.text },
    provenance,
    backend,
    dataset: split.identity,
    seeds: config.seeds,
    timings: {
      startedAt: new Date().toISOString(),
      finishedAt: null,
      seconds: { load: 0, trials: 0, total: null },
    },
    trials: [trial],
    summary: {},
  });
  await writeRecord(runDir, record);
  await writeCurves(runDir, [trial]);
  recordSeconds.push((performance.now() - t) / 1000);
}
learner.dispose();

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const phase = (k: keyof RoundResult["seconds"]) => sum(rounds.map((r) => r.seconds[k]));
const wall = (marks.at(-1)! - marks[0]!) / 1000;
const train = phase("train");
const evaluate = phase("evaluate");
const score = phase("score");
const select = phase("select");
const record = (sum(recordSeconds) / recordSeconds.length) * (1 / rounds.length); // per round, amortised
const other = wall - train - evaluate - score - select;
const pct = (x: number) => `${((100 * x) / wall).toFixed(1)}%`;
const overhead = evaluate + select + other + record * rounds.length;
console.log(`round time split: ${values.strategy}, ${config.name}, seed ${seed}, backend ${backend.name}`);
console.log(
  `rounds ${rounds.length}, pool ${split.train.n}, test ${split.test.n}, wall ${wall.toFixed(2)} s`,
);
console.log("phase      total s   share");
for (const [name, v] of [
  ["train", train],
  ["evaluate", evaluate],
  ["score", score],
  ["select", select],
  ["record*", record * rounds.length],
  ["other", other],
] as const) {
  console.log(`${name.padEnd(9)} ${v.toFixed(3).padStart(8)}   ${pct(v).padStart(6)}`);
}
console.log(`overhead outside training and scoring: ${pct(overhead)} (target <= 5%)`);
console.log("* record: one atomic run.json + curves.csv write, amortised over the trial's rounds");
