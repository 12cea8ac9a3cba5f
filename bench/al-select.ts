/**
 * Selection cost at full pool size: `npx tsx bench/al-select.ts`. Prints figures, asserts nothing
 * (the machine is shared, so the load average is printed next to them). Scores come from random
 * softmax rows; the cost of the learner's forward passes is bench/model.ts's business.
 */
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { STRATEGY_NAMES } from "../configs/experiment.js";
import { getStrategy } from "../experiment/al/registry.js";
import type { StrategyInput } from "../experiment/al/types.js";
import { mulberry32 } from "../experiment/rng.js";

const N = 60_000;
const C = 10;
const K = 10;
const PASSES = 20;
/** Core-set at full size costs O((m + k)·n·d); print it at the sizes a run would use. */
const CORESET = { n: 10_000, labelled: 1_000, dim: 128 };

function softmaxRows(n: number, rand: () => number): Float32Array {
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < C; j++) sum += out[i * C + j] = Math.exp(4 * rand());
    for (let j = 0; j < C; j++) out[i * C + j]! /= sum;
  }
  return out;
}

function time(f: () => void, repeats = 3): number {
  const ms: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    f();
    ms.push(performance.now() - t);
  }
  return Math.min(...ms);
}

const rand = mulberry32(1);
const candidates = Int32Array.from({ length: N }, (_, i) => i);
const probs = softmaxRows(N, rand);
const mc = new Float32Array(PASSES * N * C);
for (let t = 0; t < PASSES; t++) mc.set(softmaxRows(N, rand), t * N * C);
const emb = (n: number) => Float32Array.from({ length: n * CORESET.dim }, () => rand());
const embeddings = { candidates: emb(CORESET.n), labelled: emb(CORESET.labelled), dim: CORESET.dim };

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log("| strategy | candidates | k | best of 3 (ms) |");
console.log("|---|---|---|---|");
for (const name of STRATEGY_NAMES) {
  const s = getStrategy(name);
  const n = name === "coreset" ? CORESET.n : N;
  const input = (): StrategyInput => ({
    candidates: name === "coreset" ? candidates.subarray(0, CORESET.n) : candidates,
    k: K,
    numClasses: C,
    rand: mulberry32(2),
    probs,
    mcProbs: { data: mc, passes: PASSES },
    embeddings,
  });
  const ms = time(() => s.select(input()), name === "coreset" ? 1 : 3);
  const note =
    name === "bald"
      ? ` (${PASSES} passes)`
      : name === "coreset"
        ? ` (${CORESET.labelled} labelled, d ${CORESET.dim})`
        : "";
  console.log(`| ${name}${note} | ${n} | ${K} | ${ms.toFixed(1)} |`);
}
