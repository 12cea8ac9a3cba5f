/**
 * Model throughput per backend: `npx tsx bench/model.ts [--write] [--quick]`.
 * Prints a markdown table; `--write` also replaces the "Model throughput" section of
 * bench/RESULTS.md. Figures, never assertions: the machine is shared, so the load average is
 * printed next to them.
 *
 * FLOP convention: forward = 2 × multiply-adds of the conv/dense layers; a training step counts
 * 3 × forward (forward + gradients w.r.t. activations and weights).
 */
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type { ModelConfig } from "../configs/experiment.js";
import type { Dataset } from "../experiment/data/types.js";
import { type BackendInfo, createLearner, selectBackend } from "../experiment/model/index.js";
import { mulberry32 } from "../experiment/rng.js";

const args = new Set(process.argv.slice(2));
const QUICK = args.has("--quick");
const RESULTS = new URL("./RESULTS.md", import.meta.url);

const MLP: ModelConfig = { kind: "mlp", hidden: [256], dropout: 0 };
/** Gal et al. 2017's MNIST CNN. */
const CNN: ModelConfig = {
  kind: "cnn",
  conv: [
    { filters: 32, kernel: 4, stride: 1 },
    { filters: 32, kernel: 4, stride: 1 },
  ],
  pool: 2,
  convDropout: 0.25,
  dense: [128],
  dropout: 0.5,
};
const MLP_FWD_FLOP = 2 * (784 * 256 + 256 * 10);
const CNN_FWD_FLOP = 2 * (25 * 25 * 32 * 16 + 22 * 22 * 32 * 16 * 32 + 11 * 11 * 32 * 128 + 128 * 10);

interface Row {
  backend: string;
  model: string;
  task: string;
  samples: number;
  /** Best of the repeats (least disturbed by other processes) and their median. */
  perSec: number;
  medianPerSec: number;
  gflops: number;
}

/** Repeats per measurement: the machine is shared, so the best of a few is the most stable figure. */
const REPEATS = 3;

function randomImages(n: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = rand();
  const y = Int32Array.from({ length: n }, () => Math.floor(rand() * 10));
  return { x, y, n, shape: [28, 28, 1], numClasses: 10 };
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

async function time(fn: () => Promise<unknown>, repeats = REPEATS): Promise<number[]> {
  const seconds: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    seconds.push((performance.now() - t0) / 1000);
  }
  return seconds;
}

async function benchBackend(
  backend: "wasm" | "cpu",
  scale: number,
): Promise<{ info: BackendInfo; rows: Row[] }> {
  const info = await selectBackend(backend);
  const rows: Row[] = [];
  const row = (model: string, task: string, samples: number, seconds: number[], flopPerSample: number) => {
    const rates = seconds.map((s) => samples / s).sort((a, b) => a - b);
    const perSec = rates[rates.length - 1]!;
    const medianPerSec = rates[Math.floor(rates.length / 2)]!;
    rows.push({
      backend,
      model,
      task,
      samples,
      perSec,
      medianPerSec,
      gflops: (perSec * flopPerSample) / 1e9,
    });
    console.error(
      `  ${backend} ${model} ${task}: ${rates.map((r) => r.toPrecision(3)).join(", ")} samples/s`,
    );
  };
  const train = { optimizer: "adam", learningRate: 0.001, epochs: 1, batchSize: 64 } as const;

  const nTrain = Math.round(5_000 * scale);
  const nScore = Math.round(20_000 * scale);
  const pool = randomImages(Math.max(nTrain, nScore), 1);
  const test = randomImages(64, 2);
  const mlp = await createLearner({ model: MLP, train, pool, test, weightSeed: 1 });
  await mlp.fit(range(640), 0); // warm-up: kernel setup, XNNPACK operator caches
  await mlp.predictProba(range(Math.min(1024, pool.n)));
  row(
    "MLP 784-256-10",
    "train (batch 64, Adam)",
    nTrain,
    await time(() => mlp.fit(range(nTrain), 1)),
    3 * MLP_FWD_FLOP,
  );
  row(
    "MLP 784-256-10",
    "score (predictProba)",
    nScore,
    await time(() => mlp.predictProba(range(nScore))),
    MLP_FWD_FLOP,
  );
  mlp.dispose();

  // The Gal CNN is ~40x the MLP's work per sample and pure-JS cpu manages about one sample/s on
  // it, so cpu gets a single batch (and a smaller warm-up) to keep the bench to minutes.
  const onCpu = backend === "cpu";
  const nCnnTrain = onCpu ? 64 : Math.max(64, Math.round(640 * scale));
  const nCnnScore = onCpu ? 64 : Math.max(256, Math.round(1280 * scale));
  const cnn = await createLearner({ model: CNN, train, pool, test, weightSeed: 1 });
  await cnn.fit(range(onCpu ? 8 : 64), 0);
  await cnn.predictProba(range(onCpu ? 8 : 256));
  row(
    "CNN (Gal et al.)",
    "train (batch 64, Adam)",
    nCnnTrain,
    await time(() => cnn.fit(range(nCnnTrain), 1), onCpu ? 1 : REPEATS),
    3 * CNN_FWD_FLOP,
  );
  row(
    "CNN (Gal et al.)",
    "score (predictProba)",
    nCnnScore,
    await time(() => cnn.predictProba(range(nCnnScore)), onCpu ? 1 : REPEATS),
    CNN_FWD_FLOP,
  );
  cnn.dispose();
  return { info, rows };
}

async function cpuModel(): Promise<string> {
  try {
    const text = await readFile("/proc/cpuinfo", "utf8");
    return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Whole numbers for big rates, two significant digits for tiny ones (cpu CNN). */
function rate(n: number): string {
  return n >= 100 ? fmt(n) : n.toPrecision(2);
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const started = new Date();
  const results: { info: BackendInfo; rows: Row[] }[] = [];
  // cpu (pure JS) is ~10x slower than wasm on the MLP: give it a fifth of the samples.
  results.push(await benchBackend("wasm", QUICK ? 0.2 : 1));
  results.push(await benchBackend("cpu", QUICK ? 0.04 : 0.2));
  const loadAfter = loadavg();

  const la = (l: number[]) => l.map((v) => v.toFixed(2)).join(", ");
  const lines = [
    "## Model throughput",
    "",
    `Run ${started.toISOString().slice(0, 16).replace("T", " ")} UTC by \`npx tsx bench/model.ts${QUICK ? " --quick" : ""}\`.`,
    `Machine: ${availableParallelism()} vCPUs (${await cpuModel()}), Node ${process.version}, tfjs ${results[0]!.info.tfjsVersion}.`,
    `Load average (1, 5, 15 min) before: ${la(loadBefore)}; after: ${la(loadAfter)} — the machine is shared, so figures are depressed by concurrent work.`,
    `Backends: ${results.map((r) => `${r.info.name} (${r.info.reason.replace(/^requested '\w+'; /, "")})`).join("; ")}.`,
    "Data: random values of MNIST shape (28×28×1, 10 classes). GFLOP/s: forward = 2 × multiply-adds; training = 3 × forward.",
    `samples/s is the best of ${REPEATS} timed calls of \`samples\` rows each (median in brackets; cpu CNN: one call); GFLOP/s from the best.`,
    "",
    "| backend | model | task | samples | samples/s (median) | GFLOP/s |",
    "|---|---|---|---:|---:|---:|",
    ...results.flatMap((r) =>
      r.rows.map(
        (x) =>
          `| ${x.backend} | ${x.model} | ${x.task} | ${fmt(x.samples)} | ${rate(x.perSec)} (${rate(x.medianPerSec)}) | ${fmt(x.gflops, 2)} |`,
      ),
    ),
    "",
  ];
  const section = lines.join("\n");
  console.log(section);
  if (args.has("--write")) await writeSection(section);
}

/** Replace (or append) only our section, so other benchmarks can share the file. */
async function writeSection(section: string): Promise<void> {
  let text = "";
  try {
    text = await readFile(RESULTS, "utf8");
  } catch {
    text = "# Benchmark results\n\nFigures printed by the scripts in bench/; never asserted in tests.\n\n";
  }
  const start = text.indexOf("## Model throughput");
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf("\n## ", start + 1);
    text = text.slice(0, start) + section + (next === -1 ? "" : `\n${text.slice(next + 1)}`);
  }
  await writeFile(RESULTS, `${text.trimEnd()}\n`);
  console.error(`wrote ${RESULTS.pathname}`);
}

await main();
