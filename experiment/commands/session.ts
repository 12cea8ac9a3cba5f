import { join, relative } from "node:path";
import { isRunstackError, RunstackError } from "../../configs/errors.js";
import type { ExperimentConfig } from "../../configs/experiment.js";
import { type LoadedConfig, parseConfig } from "../../configs/load.js";
import { summarize } from "../al/metrics.js";
import type { TrialResult } from "../al/types.js";
import { loadSource } from "../data/index.js";
import type { DatasetIdentity, LoadedSource, SplitData } from "../data/types.js";
import { selectBackend } from "../model/backend.js";
import { createLearner } from "../model/trainer.js";
import type { CloudContext } from "../record/cloud.js";
import { writeCurves } from "../record/curves.js";
import { captureProvenance } from "../record/provenance.js";
import { buildRecord, type RunStatus, type SupervisedResult } from "../record/schema.js";
import { recordSummary } from "../record/summary.js";
import { createRunDir, newRunId, writeRecord } from "../record/writer.js";
import { deriveSeed } from "../rng.js";
import { applyOverride, type Override } from "./overrides.js";

/** What `run` and `train` share: inputs from the CLI. */
export interface SessionOptions {
  loaded: LoadedConfig;
  /** Command-line overrides, applied before validation so the record holds what actually ran. */
  overrides: { fraction?: number; backend?: ExperimentConfig["backend"]; dataDir?: string; set?: Override[] };
  outDir: string;
  runId?: string;
  cloud?: CloudContext;
  argv: string[];
  cwd: string;
  signal: AbortSignal;
  log: NodeJS.WritableStream;
  isTTY: boolean;
  now?: () => Date;
}

export interface RecordUpdate {
  status: RunStatus;
  error?: unknown;
  trials: TrialResult[];
  dataset: DatasetIdentity;
  supervised?: SupervisedResult;
}

export interface Session {
  config: ExperimentConfig;
  runId: string;
  runDir: string;
  /** Relative to cwd when inside it, for printing. */
  recordPath: string;
  source: LoadedSource;
  write(update: RecordUpdate): Promise<void>;
}

/**
 * The learner for one seed: its initial weights come from the seed alone, so every strategy of that
 * seed (and `train`) starts from the same weights.
 */
export async function learnerForSeed(config: ExperimentConfig, split: SplitData, seed: number) {
  const weightSeed = deriveSeed(seed, "weights");
  const learner = await createLearner({
    model: config.model,
    train: config.train,
    pool: split.train,
    test: split.test,
    weightSeed,
  });
  return { learner, derivedSeeds: { ...split.seeds, weights: weightSeed } };
}

/** Apply CLI overrides and re-validate, so an override is held to the same schema as the file. */
export function resolveConfig(loaded: LoadedConfig, o: SessionOptions["overrides"]): ExperimentConfig {
  let c = structuredClone(loaded.config) as ExperimentConfig;
  for (const one of o.set ?? []) c = applyOverride(c, one);
  if (o.fraction !== undefined) c.dataset.fraction = o.fraction;
  if (o.backend !== undefined) c.backend = o.backend;
  if (o.dataDir !== undefined) {
    if (c.dataset.source !== "idx") {
      throw new RunstackError(
        "USAGE",
        `--data-dir applies to IDX datasets, but ${loaded.path} reads dataset.source ${c.dataset.source}`,
        { hint: "drop --data-dir, or use a config whose dataset.source is idx" },
      );
    }
    c.dataset.dir = o.dataDir;
  }
  return parseConfig(c, `${loaded.path} (with command-line overrides)`);
}

/**
 * Everything that can fail on bad input (config, data, backend) happens before the run folder
 * exists, so a bad input leaves nothing under results/. From then on every update rewrites the
 * run's own record atomically: a crash or Ctrl-C still leaves a record with the rounds so far.
 */
export async function startSession(opts: SessionOptions): Promise<Session> {
  const now = opts.now ?? (() => new Date());
  const t0 = performance.now();
  const startedAt = now();
  const config = resolveConfig(opts.loaded, opts.overrides);
  const runId = opts.runId ?? newRunId(config.name, startedAt, Math.random);
  const source = await loadSource(config.dataset, { dataDir: opts.overrides.dataDir });
  const backend = await selectBackend(config.backend);
  // A VM's checkout is pinned and clean by construction; its diff would only repeat the commit.
  const provenance = await captureProvenance({
    cwd: opts.cwd,
    argv: opts.argv,
    includeDiff: opts.cloud === undefined,
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const runDir = await createRunDir(opts.outDir, runId);

  const write = async (u: RecordUpdate) => {
    const elapsed = (performance.now() - t0) / 1000;
    const finished = u.status !== "running";
    const record = buildRecord({
      runId,
      stack: opts.cloud?.stack ?? null,
      status: u.status,
      failure: u.error === undefined ? null : describeFailure(u.error),
      command: { argv: opts.argv, cwd: opts.cwd },
      config: {
        path: opts.loaded.path,
        sha256: opts.loaded.sha256,
        resolved: config,
        text: opts.loaded.text,
      },
      provenance,
      backend,
      cloud: opts.cloud,
      dataset: u.dataset,
      seeds: config.seeds,
      timings: {
        startedAt: startedAt.toISOString(),
        finishedAt: finished ? now().toISOString() : null,
        seconds: { load: loadSeconds, trials: elapsed - loadSeconds, total: finished ? elapsed : null },
      },
      trials: u.trials,
      supervised: u.supervised,
      summary: recordSummary(summarize(u.trials)),
    });
    await writeRecord(runDir, record);
    if (u.trials.length > 0) await writeCurves(runDir, u.trials);
  };

  const recordPath = join(runDir, "run.json");
  const rel = relative(opts.cwd, recordPath);
  return {
    config,
    runId,
    runDir,
    recordPath: rel.startsWith("..") ? recordPath : rel,
    source,
    write,
  };
}

function describeFailure(e: unknown): { code: string; message: string } {
  if (isRunstackError(e)) return { code: e.code, message: e.message };
  if (e instanceof Error) return { code: "INTERNAL", message: `${e.name}: ${e.message}` };
  return { code: "INTERNAL", message: String(e) };
}

export function interruptedError(signal: AbortSignal): RunstackError {
  return new RunstackError("INTERRUPTED", `interrupted by ${String(signal.reason ?? "a signal")}`);
}
