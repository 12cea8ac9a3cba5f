import { z } from "zod";
import { RunstackError } from "../../configs/errors.js";
import { Backend, ExperimentConfig, StrategyName } from "../../configs/experiment.js";
import { formatIssues } from "../../configs/load.js";
import { RUN_ID_RE } from "../../configs/stack.js";
import type { RoundResult as RoundResultType, TrialResult as TrialResultType } from "../al/types.js";
import type { DatasetIdentity as DatasetIdentityType } from "../data/types.js";
import { CloudContext } from "./cloud.js";

/**
 * The run record (results/<run-id>/run.json): everything needed to say where a number came from.
 * Versioned; every object is strict so a typo or a stale writer is an error, and the key order of
 * the written JSON is the order of the shapes below (zod rebuilds objects in shape order), which
 * keeps diffs between records readable.
 *
 * Imports stay limited to zod, configs/ and type-only contracts so that the schema can be moved
 * next to the other shared contracts if infra/ ever needs to read records itself.
 */

export const SCHEMA_VERSION = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex chars");
const isoTime = z.iso.datetime({ offset: true });
const seconds = z.number().min(0);

export const RUN_STATUSES = ["running", "completed", "failed", "interrupted", "preempted"] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

export const Failure = z.strictObject({
  /** A RunstackError code, or "INTERNAL" for anything else. */
  code: z.string().min(1),
  message: z.string(),
});
export type Failure = z.infer<typeof Failure>;

export const CommandInfo = z.strictObject({
  argv: z.array(z.string()),
  cwd: z.string(),
});
export type CommandInfo = z.infer<typeof CommandInfo>;

export const ConfigInfo = z.strictObject({
  /** Path as given by the user. */
  path: z.string(),
  sha256: sha256Hex,
  resolved: ExperimentConfig,
  /** The file exactly as read, so the record stands alone even if the file changes later. */
  text: z.string(),
});

export const GitInfo = z.strictObject({
  /** URL of `origin` with any user:password@ removed; null when there is no origin. */
  remote: z.string().nullable(),
  /** null on a detached HEAD (as on a VM that checked out a pinned commit). */
  branch: z.string().nullable(),
  commit: z.string().regex(/^[0-9a-f]{40}$/, "a full 40-character commit sha"),
  dirty: z.boolean(),
  /** Untracked files (names only: their content may be anything, including secrets). */
  untracked: z.array(z.string()),
  /** `git diff HEAD` when dirty and captured; null when clean or not captured (VM runs). */
  diff: z.string().nullable(),
  diffTruncated: z.boolean(),
});
export type GitInfo = z.infer<typeof GitInfo>;

export const PackagesInfo = z.strictObject({
  node: z.string(),
  /** Installed versions of the packages that decide results; null = not installed. */
  versions: z.record(z.string(), z.string().nullable()),
  /** sha256 of package-lock.json; null when there is none. */
  lockfileSha256: sha256Hex.nullable(),
});
export type PackagesInfo = z.infer<typeof PackagesInfo>;

export const BackendInfo = z.strictObject({
  /** The tfjs backend that actually ran (e.g. "wasm", "cpu", "tensorflow"). */
  name: z.string().min(1),
  requested: Backend,
  /** Why this backend was chosen (e.g. "tfjs-node-gpu not installed; fell back to wasm"). */
  reason: z.string(),
  tfjsVersion: z.string(),
  simd: z.boolean().optional(),
  threads: z.int().positive().optional(),
});
export type BackendInfo = z.infer<typeof BackendInfo>;

export const HostInfo = z.strictObject({
  hostname: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpus: z.int().min(0),
  cpuModel: z.string(),
  memoryBytes: z.int().min(0),
  /** GPU names from nvidia-smi; [] when there is none or no driver. */
  gpu: z.array(z.string()),
});
export type HostInfo = z.infer<typeof HostInfo>;

export const DatasetIdentity = z.strictObject({
  source: z.enum(["embedded", "idx", "synthetic"]),
  name: z.string(),
  manifestSha256: sha256Hex,
  location: z.string(),
  fraction: z.number().gt(0).lte(1),
  sizes: z.strictObject({ available: z.int().min(0), train: z.int().min(0), test: z.int().min(0) }),
});

export const TrialSeeds = z.strictObject({
  strategy: StrategyName,
  seed: z.int(),
  derived: z.record(z.string(), z.int()),
});

export const Seeds = z.strictObject({
  /** The seeds listed in the config. */
  base: z.array(z.int()),
  /** Every seed derived for each trial. */
  derived: z.array(TrialSeeds),
});

export const Timings = z.strictObject({
  startedAt: isoTime,
  /** null while running. */
  finishedAt: isoTime.nullable(),
  /** Seconds per phase; null for a phase not reached (yet). */
  seconds: z.strictObject({
    load: seconds.nullable(),
    trials: seconds.nullable(),
    total: seconds.nullable(),
  }),
});
export type Timings = z.infer<typeof Timings>;

/**
 * A diverged loss (NaN, ±Infinity) is a result, not a broken record: JSON has no such numbers, so
 * it is written as null and read back as NaN.
 */
const lossValue = z.preprocess(
  (v) => (v === null || (typeof v === "number" && !Number.isFinite(v)) ? Number.NaN : v),
  z.union([z.number(), z.nan()]),
);

export const RoundResult = z.strictObject({
  round: z.int().min(0),
  labels: z.int().min(0),
  accuracy: z.number().min(0).max(1),
  loss: lossValue,
  trainLoss: lossValue,
  seconds: z.strictObject({ train: seconds, evaluate: seconds, score: seconds, select: seconds }),
  selected: z.array(z.int().min(0)),
});

export const TrialResult = z.strictObject({
  strategy: StrategyName,
  seed: z.int(),
  derivedSeeds: z.record(z.string(), z.int()),
  initialIndices: z.array(z.int().min(0)),
  rounds: z.array(RoundResult),
  status: z.enum(["completed", "failed", "interrupted"]),
  summary: z
    .strictObject({ finalAccuracy: z.number().min(0).max(1), finalLabels: z.int().min(0), aubc: z.number() })
    .nullable(),
});

/** `train` runs (the curves' upper bound): supervised training on every pool label of one seed. */
export const SupervisedResult = z.strictObject({
  seed: z.int(),
  derivedSeeds: z.record(z.string(), z.int()),
  labels: z.int().min(0),
  accuracy: z.number().min(0).max(1),
  loss: lossValue,
  trainLoss: lossValue,
  seconds: z.strictObject({ train: seconds, evaluate: seconds }),
  /** Saved model files, relative to the run folder. */
  modelFiles: z.array(z.string()),
});
export type SupervisedResult = z.infer<typeof SupervisedResult>;

export const StrategySummary = z.strictObject({
  aubcMean: z.number(),
  /** Sample standard deviation (n-1); null with fewer than two seeds. */
  aubcStd: z.number().nullable(),
  finalAccuracyMean: z.number(),
  finalAccuracyStd: z.number().nullable(),
  /** Seeds of the completed trials the figures above average. */
  seeds: z.array(z.int()),
  /** Per-seed AUBC against random with the same seed (absent for random itself). */
  vsRandom: z
    .strictObject({
      wins: z.int().min(0),
      losses: z.int().min(0),
      ties: z.int().min(0),
      meanDiff: z.number(),
    })
    .optional(),
});
export type StrategySummary = z.infer<typeof StrategySummary>;

export const RunRecord = z
  .strictObject({
    schemaVersion: z.literal(SCHEMA_VERSION),
    runId: z.string().regex(RUN_ID_RE, "2-40 chars: lowercase letters, digits, '-'; starts with a letter"),
    /** Pulumi stack name; null for a local run. */
    stack: z.string().nullable(),
    status: RunStatus,
    failure: Failure.nullable(),
    timings: Timings,
    command: CommandInfo,
    config: ConfigInfo,
    git: GitInfo.nullable(),
    /** Why `git` is null (e.g. not a git checkout); null when git was recorded. */
    gitMissingReason: z.string().nullable(),
    packages: PackagesInfo,
    backend: BackendInfo,
    host: HostInfo,
    /** Only on a VM: never faked for a local run, so the key is absent there. */
    cloud: CloudContext.optional(),
    dataset: DatasetIdentity,
    seeds: Seeds,
    trials: z.array(TrialResult),
    /** Only for `train` runs. */
    supervised: SupervisedResult.optional(),
    /** Per strategy, over the completed trials. */
    summary: z.record(z.string(), StrategySummary),
  })
  .superRefine((r, ctx) => {
    if (r.status === "completed" && r.failure !== null) {
      ctx.addIssue({ code: "custom", path: ["failure"], message: "a completed run has no failure" });
    }
    if (r.status === "failed" && r.failure === null) {
      ctx.addIssue({ code: "custom", path: ["failure"], message: "a failed run must say why (failure)" });
    }
    if ((r.git === null) === (r.gitMissingReason === null)) {
      ctx.addIssue({
        code: "custom",
        path: ["gitMissingReason"],
        message: "exactly one of git and gitMissingReason must be null",
      });
    }
  });
export type RunRecord = z.infer<typeof RunRecord>;

/** Validate anything as a run record; `where` (a path or "record") names it in the error. */
export function parseRecord(raw: unknown, where: string): RunRecord {
  const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === "number" && version > SCHEMA_VERSION) {
    throw new RunstackError(
      "RECORD_INVALID",
      `${where}: schemaVersion ${version} is newer than this runstack understands (${SCHEMA_VERSION})`,
      { hint: "update runstack (git pull) to read records written by newer versions" },
    );
  }
  const result = RunRecord.safeParse(raw);
  if (!result.success) {
    throw new RunstackError(
      "RECORD_INVALID",
      `invalid run record\n${formatIssues(where, result.error.issues, raw, "experiment/record/schema.ts")}`,
      {
        hint: "the record shape is defined in experiment/record/schema.ts; fix the producer of the keys named above",
      },
    );
  }
  return result.data;
}

/** What `captureProvenance` gathers at the edge (experiment/record/provenance.ts). */
export interface Provenance {
  command: CommandInfo;
  git: GitInfo | null;
  gitMissingReason: string | null;
  packages: PackagesInfo;
  host: HostInfo;
}

export interface BuildRecordInputs {
  runId: string;
  stack: string | null;
  status: RunStatus;
  failure: Failure | null;
  /** Defaults to provenance.command. */
  command?: CommandInfo;
  config: z.input<typeof ConfigInfo>;
  provenance: Provenance;
  backend: BackendInfo;
  /** Only for a run on a VM. */
  cloud?: CloudContext;
  dataset: DatasetIdentityType;
  /** The base seeds of the config; derived seeds are taken from the trials. */
  seeds: number[];
  timings: Timings;
  trials: TrialResultType[];
  /** Only for `train` runs. */
  supervised?: SupervisedResult;
  summary: Record<string, StrategySummary>;
}

/**
 * Assemble and validate a record from values gathered elsewhere. Pure (no clock, fs, env): the
 * caller passes times and provenance. Parsing through the schema fixes the key order.
 */
export function buildRecord(inputs: BuildRecordInputs): RunRecord {
  const { provenance: p } = inputs;
  return parseRecord(
    {
      schemaVersion: SCHEMA_VERSION,
      runId: inputs.runId,
      stack: inputs.stack,
      status: inputs.status,
      failure: inputs.failure,
      timings: inputs.timings,
      command: inputs.command ?? p.command,
      config: inputs.config,
      git: p.git,
      gitMissingReason: p.gitMissingReason,
      packages: p.packages,
      backend: inputs.backend,
      host: p.host,
      ...(inputs.cloud === undefined ? {} : { cloud: inputs.cloud }),
      dataset: inputs.dataset,
      seeds: {
        base: inputs.seeds,
        derived: inputs.trials.map((t) => ({ strategy: t.strategy, seed: t.seed, derived: t.derivedSeeds })),
      },
      trials: inputs.trials,
      ...(inputs.supervised === undefined ? {} : { supervised: inputs.supervised }),
      summary: inputs.summary,
    },
    `record of run ${inputs.runId}`,
  );
}

/** The same record with a new status (e.g. a VM runtime marking a run `preempted`). */
export function withStatus(
  record: RunRecord,
  update: { status: RunStatus; failure: Failure | null; finishedAt: string | null },
): RunRecord {
  return parseRecord(
    {
      ...record,
      status: update.status,
      failure: update.failure,
      timings: { ...record.timings, finishedAt: update.finishedAt },
    },
    `record of run ${record.runId}`,
  );
}

// Compile-time proof that the schemas and the shared contracts describe the same shapes: if either
// side changes alone, typechecking fails here instead of records silently drifting.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameRound: Same<z.infer<typeof RoundResult>, RoundResultType> = true;
const sameTrial: Same<z.infer<typeof TrialResult>, TrialResultType> = true;
const sameDataset: Same<z.infer<typeof DatasetIdentity>, DatasetIdentityType> = true;
void [sameRound, sameTrial, sameDataset];
