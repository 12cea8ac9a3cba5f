import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { RunstackError } from "../../configs/errors.js";
import type { StackConfig } from "../../configs/stack.js";
import { launchSteps, type PulumiStep, secretsProviderNote, showStep } from "./commands.js";
import type { GitPort } from "./git.js";
import { type PulumiCli, runOrThrow } from "./pulumi-cli.js";
import { checkRepo, type PinnedConfig, pinConfig, type RepoState } from "./repo.js";
import { makeRunId, randomSuffix, stackFileNameOf, stackNameOf } from "./run-id.js";
import {
  DEFAULTS_FILE,
  type LaunchFlags,
  type LaunchSettings,
  loadDefaults,
  resolveSettings,
} from "./settings.js";
import { buildStackConfig, parseStackFile, renderStackFile } from "./stack-file.js";

/** Everything launch needs from the outside world; tests swap any of it. */
export interface LaunchPorts {
  git: GitPort;
  /** Created only for --up, so a missing CLI never blocks writing stack files. */
  pulumi: () => PulumiCli;
  now: () => Date;
  random: () => number;
  log: (line: string) => void;
}

export interface LaunchRequest {
  /** The experiment config, relative to cwd. */
  configPath: string;
  cwd: string;
  flags: LaunchFlags;
  up: boolean;
  deployKeyPath?: string;
  /** Defaults file; <repo>/infra/launch/defaults.yaml when absent. */
  defaultsPath?: string;
}

export interface RunPlan {
  runId: string;
  stackName: string;
  /** Absolute path of Pulumi.run-<id>.yaml. */
  stackFile: string;
  stack: StackConfig;
  text: string;
  secretsProvider: string;
}

export interface PlanRunOptions {
  repo: RepoState;
  pinned: PinnedConfig;
  settings: LaunchSettings;
  /** Name part of the run id; the config's name when absent. */
  name?: string;
  now: Date;
  suffix: string;
}

/** Pure: the stack config and file text of one run, validated and round-tripped. */
export function planRun({ repo, pinned, settings, name, now, suffix }: PlanRunOptions): RunPlan {
  const runId = makeRunId({ name: name ?? pinned.config.name, now, suffix });
  const { secretsProvider, ...stackSettings } = settings;
  const stack = buildStackConfig({
    runId,
    experimentConfig: pinned.path,
    configSha256: pinned.sha256,
    commit: repo.commit,
    repoUrl: repo.repoUrl,
    ...stackSettings,
  });
  const text = renderStackFile({ config: stack, generatedAt: now.toISOString(), secretsProvider });
  const file = stackFileNameOf(runId);
  // The reader (infra/stack-config.ts) sees this file through Pulumi: prove it reads back identically.
  if (!isDeepStrictEqual(parseStackFile(text, file), stack)) {
    throw new RunstackError("PULUMI_CONFIG", `${file} would not read back as written (a YAML rendering bug)`);
  }
  return {
    runId,
    stackName: stackNameOf(runId),
    stackFile: join(repo.root, file),
    stack,
    text,
    secretsProvider,
  };
}

/** Exclusive create: an existing stack file is a run someone may be managing. */
export function writeStackFile(plan: RunPlan): void {
  try {
    writeFileSync(plan.stackFile, plan.text, { flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new RunstackError(
        "RECORD_EXISTS",
        `${plan.stackFile} already exists; launch never overwrites a stack file`,
        {
          hint: "launch again (a new run id is picked), or remove the file if that run was never deployed",
        },
      );
    }
    throw new RunstackError("CONFIG_NOT_FOUND", `cannot write ${plan.stackFile}: ${(e as Error).message}`);
  }
}

/** Reads the deploy key (private half) for --up; its text never leaves this process except on stdin. */
export function readDeployKey(path: string | undefined): string {
  if (path === undefined) {
    throw new RunstackError(
      "USAGE",
      "--up needs --deploy-key FILE (the private key of the repository's deploy key)",
      {
        hint: "or launch without --up and run the printed commands yourself",
      },
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new RunstackError("USAGE", `cannot read --deploy-key ${path}: ${(e as Error).message}`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new RunstackError(
      "USAGE",
      `--deploy-key ${path} does not look like a private key (no -----BEGIN … PRIVATE KEY----- line)`,
      {
        hint: "pass the private half (e.g. deploy_key, not deploy_key.pub) of a key added to the repository with write access",
      },
    );
  }
  return text;
}

export interface LaunchResult {
  plans: RunPlan[];
  /** True when the pulumi steps were executed (--up). */
  ran: boolean;
}

/** Shared by launch and sweep: the checks and inputs that do not depend on which config runs. */
export async function prepare(req: Omit<LaunchRequest, "configPath">, ports: LaunchPorts) {
  const repo = await checkRepo(ports.git);
  const defaults = loadDefaults(req.defaultsPath ?? join(repo.root, DEFAULTS_FILE));
  const settings = resolveSettings({ flags: req.flags, defaults, gitUserEmail: repo.userEmail });
  let deployKey: string | undefined;
  let cli: PulumiCli | undefined;
  if (req.up) {
    deployKey = readDeployKey(req.deployKeyPath);
    cli = ports.pulumi();
    await cli.ensureAvailable();
  }
  return { repo, settings, deployKey, cli };
}

export async function launch(req: LaunchRequest, ports: LaunchPorts): Promise<LaunchResult> {
  const { repo, settings, deployKey, cli } = await prepare(req, ports);
  const pinned = await pinConfig(ports.git, repo, req.configPath, req.cwd);
  const plan = planRun({
    repo,
    pinned,
    settings,
    name: req.flags.name,
    now: ports.now(),
    suffix: randomSuffix(ports.random),
  });
  writeStackFile(plan);
  ports.log(
    `wrote ${stackFileNameOf(plan.runId)} (run ${plan.runId}, commit ${repo.commit.slice(0, 12)}, ${pinned.path})`,
  );
  if (cli && deployKey !== undefined) {
    await setUpStack(cli, plan, deployKey, ports.log);
    await upStack(cli, plan, ports.log);
    return { plans: [plan], ran: true };
  }
  printSteps([plan], req.deployKeyPath, ports.log);
  return { plans: [plan], ran: false };
}

export function printSteps(
  plans: readonly RunPlan[],
  deployKeyPath: string | undefined,
  log: (l: string) => void,
): void {
  const first = plans[0];
  if (!first) return;
  log(`next (${secretsProviderNote(first.secretsProvider)}):`);
  for (const plan of plans) {
    const steps = launchSteps({ runId: plan.runId, secretsProvider: plan.secretsProvider });
    for (const st of [...steps.setup, steps.preview, steps.up])
      log(`  ${showStep(st, deployKeyPath ?? "KEYFILE")}`);
  }
}

async function step(
  cli: PulumiCli,
  st: PulumiStep,
  deployKey: string | undefined,
  log: (l: string) => void,
  prefix = "",
) {
  log(`${prefix}$ ${showStep(st, "<deploy key>")}`);
  await runOrThrow(cli, st.args, {
    stdin: st.stdin === "deployKey" ? deployKey : undefined,
    onLine: (l) => log(`${prefix}${l}`),
  });
}

/** `stack init` + the deploy key secret. Serial across runs: both write project-level files. */
export async function setUpStack(cli: PulumiCli, plan: RunPlan, deployKey: string, log: (l: string) => void) {
  for (const st of launchSteps({ runId: plan.runId, secretsProvider: plan.secretsProvider }).setup) {
    await step(cli, st, deployKey, log);
  }
}

export async function upStack(cli: PulumiCli, plan: RunPlan, log: (l: string) => void, prefix = "") {
  await step(
    cli,
    launchSteps({ runId: plan.runId, secretsProvider: plan.secretsProvider }).up,
    undefined,
    log,
    prefix,
  );
}
