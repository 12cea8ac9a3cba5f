import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isRunstackError, RunstackError } from "../../configs/errors.js";
import { loadConfig } from "../../configs/load.js";
import { VM_ATTR } from "../../configs/vm.js";
import { withStatus } from "../record/schema.js";
import { readRecord, writeRecord } from "../record/writer.js";
import { fetchCloudContext } from "./cloud-context.js";
import { type ComputeClient, createComputeClient } from "./compute.js";
import { type ChildExit, describeExit, startExperiment } from "./experiment-child.js";
import { deployKeySshCommand } from "./git.js";
import { createMetadataClient, type MetadataClient } from "./metadata.js";
import { createPhaseReporter } from "./phase.js";
import { publishResults, resultCommitMessage } from "./publish.js";
import { publishOrPark, type Safekept } from "./safekeeping.js";
import { accessSecret, writeSecretFile } from "./secrets.js";
import { readVmEnv, type VmEnv } from "./vm-env.js";

/**
 * The VM runtime, started by the startup script once the clone is installed: runs the experiment
 * CLI as a child, watches preemption and the deadline, fixes up the record's status, and gets the
 * results pushed or parked. Its exit code is the trap's only signal (VM_RUN_EXIT in
 * infra/startup-script.ts): 0 pushed, 3 parked, anything else = not safe, the trap rescues.
 */
export const EXIT = { pushed: 0, parked: 3, error: 1, bug: 70 } as const;

/** Short backoff when preempted: GCE gives about 30 s, and the disk is already parked. */
const PREEMPTED_RETRY = { attempts: 3, baseMs: 1000, maxMs: 4000 };

export interface VmRunDeps {
  env: VmEnv;
  md: MetadataClient;
  compute: ComputeClient;
  /** The experiment CLI invocation before its `run ...` args; default `node --import tsx experiment/cli.ts`. */
  experiment?: { command: string; args: string[] };
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
  /** Signals that mean "the VM is shutting down" (default: this process's SIGTERM/SIGINT). */
  onShutdown?: (handler: () => void) => void;
}

export function parseExperimentArgs(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === "") return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || !v.every((a) => typeof a === "string")) {
    throw new RunstackError(
      "METADATA",
      `metadata ${VM_ATTR.experimentArgs}='${raw}': expected a JSON array of strings`,
    );
  }
  return v;
}

const PHASE_OF_STATUS = { completed: "done", preempted: "preempted" } as const;

export async function runVm(deps: VmRunDeps): Promise<number> {
  const { env, md, compute } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = deps.log ?? ((line: string) => console.log(line));
  const runId = await md.requireAttribute(VM_ATTR.runId);
  const reporter = createPhaseReporter({ md, runId, serialDevice: env.serialDevice, log });
  await reporter.phase("running", "checking the config, starting the experiment");

  const attr = (k: string) => md.requireAttribute(k);
  const [configPath, configSha256, commit, argsRaw] = await Promise.all([
    attr(VM_ATTR.configPath),
    attr(VM_ATTR.configSha256),
    attr(VM_ATTR.commit),
    md.attribute(VM_ATTR.experimentArgs),
  ]);
  const branch = (await md.attribute(VM_ATTR.resultsBranch)) || "main";
  const loaded = loadConfig(join(env.repoDir, configPath));
  if (loaded.sha256 !== configSha256) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `${configPath} at ${commit} has sha256 ${loaded.sha256}, but the stack says ${configSha256}`,
      { hint: "the stack's runstack:configSha256 must be the config's hash at the pinned commit: relaunch" },
    );
  }
  const cloud = await fetchCloudContext(md);
  const contextFile = join(env.stateDir, "cloud-context.json");
  await writeFile(contextFile, `${JSON.stringify(cloud, null, 2)}\n`);
  const ref = { project: cloud.project, zone: cloud.zone, instance: cloud.instanceName };
  const bootDevice = await md.bootDiskDeviceName();
  const setKeep = (keep: boolean) =>
    compute.setDiskAutoDelete({ ...ref, deviceName: bootDevice, autoDelete: !keep });
  const parkAt = Date.parse(cloud.deadline) - env.parkMarginSec * 1000;

  const expLog = join(env.stateDir, "experiment.log");
  const runArgs = [
    "run",
    "--config",
    configPath,
    "--out",
    "results",
    "--run-id",
    runId,
    "--cloud-context",
    contextFile,
  ];
  if (loaded.config.dataset.source === "idx") runArgs.push("--data-dir", env.dataMount);
  runArgs.push(...parseExperimentArgs(argsRaw));
  // `node --import tsx`, not the tsx wrapper: the wrapper does not hand SIGTERM to the experiment
  // in time for it to finish its record.
  const exp = deps.experiment ?? {
    command: process.execPath,
    args: ["--import", "tsx", "experiment/cli.ts"],
  };
  const child = startExperiment({
    command: exp.command,
    args: [...exp.args, ...runArgs],
    cwd: env.repoDir,
    logFile: expLog,
  });
  log(`vm-run: experiment started (pid ${child.pid}): ${[exp.command, ...exp.args, ...runArgs].join(" ")}`);

  let preempted = false;
  let parked = false;
  let stopReason: string | null = null;
  const grace = env.stopGraceSec * 1000;
  const watch = new AbortController();
  const preemption = md.watchPreemption(watch.signal).then(async (hit) => {
    if (!hit) return;
    preempted = true;
    stopReason = "preempted";
    child.stop(grace);
    await reporter.phase(
      "preempted",
      "preempted: stopping the experiment, parking the boot disk, pushing what exists",
    );
    // Park first: GCE deletes the VM ~30 s after preemption, maybe before the push is through.
    parked = await setKeep(true).then(
      () => true,
      (e) => {
        log(`vm-run: parking on preemption failed: ${(e as Error).message}`);
        return false;
      },
    );
  });
  const deadlineTimer = setTimeout(
    () => {
      stopReason ??= "deadline";
      log(`vm-run: stopping the experiment ${env.parkMarginSec} s before the deadline ${cloud.deadline}`);
      child.stop(grace);
    },
    Math.max(0, Math.min(parkAt - now(), 2 ** 31 - 1)),
  );
  let shuttingDown = false;
  (deps.onShutdown ?? defaultOnShutdown)(() => {
    shuttingDown = true;
    stopReason ??= "shutdown";
    child.stop(grace);
  });

  const exit = await child.exited;
  clearTimeout(deadlineTimer);
  watch.abort();
  await preemption;
  if (!preempted && stopReason === "shutdown") preempted = await md.preempted().catch(() => false);
  log(`vm-run: experiment ${describeExit(exit)}${stopReason ? ` (stopped: ${stopReason})` : ""}`);

  const resultsDir = join("results", runId);
  const absResults = join(env.repoDir, resultsDir);
  await mkdir(absResults, { recursive: true });
  await copyFile(expLog, join(absResults, "log.txt"));
  const status = await settleRecord({
    dir: absResults,
    preempted,
    exit,
    nowIso: new Date(now()).toISOString(),
  });

  await reporter.phase("publishing", `experiment ${describeExit(exit)}; record status ${status}`);
  const message = resultCommitMessage({ runId, configPath, configSha256, commit, status });
  const publish = async (retry = env.pushRetry) => {
    // The key exists only while pushing; the startup script removed its clone-time copy.
    const key = await accessSecret({
      baseUrl: env.secretsUrl,
      secret: await attr(VM_ATTR.secret),
      token: md.token,
    });
    writeSecretFile(env.keyFile, key);
    try {
      const sshCommand = deployKeySshCommand({ keyPath: env.keyFile, knownHostsPath: env.knownHostsFile });
      return await publishResults({
        repoDir: env.repoDir,
        runId,
        resultsDir,
        branch,
        message,
        sshCommand,
        retry,
        log,
      });
    } finally {
      await rm(env.keyFile, { force: true });
    }
  };

  let outcome: Safekept;
  if (preempted) {
    outcome = await publish(PREEMPTED_RETRY).then(
      (r): Safekept => ({ kind: "pushed", ...r }),
      (e): Safekept => ({
        kind: "parked",
        reason: `preempted; push failed: ${(e as Error).message.split("\n")[0]}`,
      }),
    );
    if (outcome.kind === "parked" && !parked) throw new RunstackError("PUSH_FAILED", outcome.reason);
  } else {
    outcome = await publishOrPark({
      publish,
      park: () => setKeep(true),
      reporter,
      parkAt,
      retryIntervalMs: env.pushRetryIntervalSec * 1000,
      now,
      sleep,
      log,
      shuttingDown: () => shuttingDown,
    });
  }

  if (outcome.kind === "parked") {
    await reporter.phase(
      "push-failed",
      `parked: boot disk ${cloud.instanceName} (zone ${cloud.zone}) keeps ${env.repoDir}/${resultsDir} and local branch runstack/results/${runId}; record status ${status}; ${outcome.reason}`,
    );
    return EXIT.parked;
  }
  await reporter.resultCommit(outcome.commit);
  if (parked) {
    // Pushed after all: give the disk back its auto-delete so it does not outlive the VM and bill.
    await setKeep(false).catch((e) =>
      log(`vm-run: boot disk stays (auto-delete not restored): ${e.message}`),
    );
  }
  const final = PHASE_OF_STATUS[status as keyof typeof PHASE_OF_STATUS] ?? "failed";
  await reporter.phase(
    final,
    `record status ${status}; results pushed in ${outcome.commit} after ${outcome.attempts} attempt(s)`,
  );
  return EXIT.pushed;
}

/**
 * Makes the record tell the truth about how the run ended: `preempted` (+ cloud.preempted) when
 * GCE preempted the VM, `failed` when the process died without finishing its record. Returns the
 * status to publish under; a missing record (the CLI died before writing one) counts as failed.
 */
async function settleRecord(o: {
  dir: string;
  preempted: boolean;
  exit: ChildExit;
  nowIso: string;
}): Promise<string> {
  const path = join(o.dir, "run.json");
  let record: Awaited<ReturnType<typeof readRecord>>;
  try {
    record = await readRecord(path);
  } catch (e) {
    if (isRunstackError(e) && e.code === "RECORD_NOT_FOUND") return o.preempted ? "preempted" : "failed";
    throw e;
  }
  const finishedAt = record.timings.finishedAt ?? o.nowIso;
  if (o.preempted) {
    const cloud = record.cloud ? { ...record.cloud, preempted: true } : undefined;
    const updated = withStatus(
      { ...record, ...(cloud ? { cloud } : {}) },
      {
        status: "preempted",
        failure: record.failure,
        finishedAt,
      },
    );
    await writeRecord(o.dir, updated);
    return updated.status;
  }
  if (record.status === "running") {
    const failure = {
      code: "INTERNAL",
      message: `the experiment process ended (${describeExit(o.exit)}) without finishing its record`,
    };
    await writeRecord(o.dir, withStatus(record, { status: "failed", failure, finishedAt }));
    return "failed";
  }
  return record.status;
}

function defaultOnShutdown(handler: () => void): void {
  // On shutdown (preemption, `gcloud compute instances stop`), systemd SIGTERMs the whole unit:
  // vm-run must live on to publish, and the child gets its grace period.
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}

async function main(): Promise<number> {
  const env = readVmEnv(process.env);
  const md = createMetadataClient({ baseUrl: env.metadataUrl });
  const compute = createComputeClient({ baseUrl: env.computeUrl, token: md.token });
  return await runVm({ env, md, compute });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      const known = isRunstackError(e);
      console.error(
        `vm-run: ${known ? `${e.code}: ` : "internal error: "}${e instanceof Error ? e.message : String(e)}`,
      );
      if (known && e.hint) console.error(`hint: ${e.hint}`);
      if (!known && e instanceof Error && e.stack) console.error(e.stack);
      process.exit(known ? EXIT.error : EXIT.bug);
    },
  );
}
