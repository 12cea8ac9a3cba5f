import { randomInt } from "node:crypto";
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type ErrorCode, isRunstackError, RunstackError } from "../../configs/errors.js";
import { RUN_ID_RE } from "../../configs/stack.js";
import { simpleGitPort } from "./git.js";
import { type LaunchPorts, launch } from "./launch.js";
import { observe } from "./observe.js";
import { systemPulumi } from "./pulumi-cli.js";
import { reap } from "./reap.js";
import type { LaunchFlags } from "./settings.js";
import { renderStatusTable } from "./status.js";
import { sweep } from "./sweep.js";

/** infra's own CLI entry: parses argv for launch/sweep/status/reap and decides exit codes. */

export const EXIT = { ok: 0, internal: 1, usage: 2, git: 3, pulumi: 4 } as const;

const EXIT_HELP = `exit codes: 0 ok; 2 usage or config error; 3 refused by git state (dirty tree, unpushed
commit, non-SSH remote, results not in git); 4 pulumi missing or a pulumi command failed; 1 internal bug`;

const LAUNCH_FLAGS = `  --name N               name part of the run id (default: the config's name)
  --machine T            GCE machine type (default: defaults.yaml machineType)
  --gpu TYPE[:COUNT]     attach GPUs, e.g. nvidia-tesla-t4 or nvidia-l4:2
  --spot                 Spot VM (cheaper, may be preempted)
  --hours N              hard deadline: GCE deletes the VM after N hours
  --project P --zone Z --data-image I --owner O
                         required, unless set in infra/launch/defaults.yaml (owner falls back to git user.email)
  --boot-image I         VM boot image (default: Debian 12; a --gpu run needs an image with the NVIDIA
                         driver + CUDA 11.2 / cuDNN 8.1, else tfjs-node-gpu cannot load and the run
                         falls back to the CPU backend, which its record says)
  --branch B             branch the VM pushes results to (default: main)
  --secrets-provider S   for pulumi stack init (default: defaults.yaml secretsProvider, else passphrase)
  --up                   run the pulumi commands instead of printing them (needs --deploy-key)
  --deploy-key FILE      private deploy key; given to pulumi on stdin, never on the command line`;

const HELP: Record<string, string> = {
  launch: `usage: launch <config.yaml> [flags]
Validates the config, refuses a dirty tree or a commit that is not on origin, writes
Pulumi.run-<id>.yaml (never overwrites) and prints - or with --up runs - the pulumi commands.
${LAUNCH_FLAGS}
${EXIT_HELP}`,
  sweep: `usage: sweep <config.yaml> --grid key=v1,v2 [--grid ...] [--launch] [launch flags] [--parallel N]
Step 1 (no --launch): validates every variant and writes configs/sweeps/<name>-<k>.yaml.
  Review, commit and push them: the VM runs only what is pushed.
Step 2 (same command + --launch): writes one stack file per variant; with --up runs them,
  at most --parallel (default 2) pulumi up processes at a time.
Keys are dotted config paths with scalar values (al.querySize=10,20; model.hidden.0=128,256).
  --name N is the sweep's base name (variants are N-1, N-2, ...).
${LAUNCH_FLAGS}
${EXIT_HELP}`,
  status: `usage: status [--json]
For each Pulumi.run-*.yaml: launched / running / finished / failed / push-failed / pushed-nothing /
leaking, from the stack file, results/<id>/run.json on origin/<branch> (after git fetch) and, when
the pulumi CLI is on PATH, pulumi stack ls / stack output. Unknown columns are shown as '?'.
A DEADLINE ending in '~' is estimated from the run id's launch minute.
${EXIT_HELP}`,
  reap: `usage: reap [--dry-run] [--run ID]
pulumi destroy --refresh --remove --yes for runs whose run.json is in git; every other run is
skipped with the reason. --dry-run prints what it would do. --run ID refuses (exit 3) if unsafe.
${EXIT_HELP}`,
};

const USAGE = `usage: cli.ts <launch|sweep|status|reap> [--help]\n\n${Object.values(HELP)
  .map((h) => h.split("\n")[0])
  .join("\n")}\n${EXIT_HELP}`;

export function exitCodeOf(code: ErrorCode): number {
  if (code.startsWith("GIT") || code === "UNSAFE_TO_DESTROY") return EXIT.git;
  if (code.startsWith("PULUMI_") && code !== "PULUMI_CONFIG") return EXIT.pulumi;
  if (code === "STACK_NOT_FOUND") return EXIT.pulumi;
  return EXIT.usage;
}

export interface CliIo {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  now?: () => Date;
  random?: () => number;
}

const LAUNCH_OPTIONS = {
  name: { type: "string" },
  machine: { type: "string" },
  gpu: { type: "string" },
  spot: { type: "boolean" },
  hours: { type: "string" },
  project: { type: "string" },
  zone: { type: "string" },
  "data-image": { type: "string" },
  "boot-image": { type: "string" },
  owner: { type: "string" },
  branch: { type: "string" },
  "secrets-provider": { type: "string" },
  up: { type: "boolean" },
  "deploy-key": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function flagsOf(v: Values): LaunchFlags {
  const str = (k: string) => (typeof v[k] === "string" ? (v[k] as string) : undefined);
  let hours: number | undefined;
  if (str("hours") !== undefined) {
    hours = Number(str("hours"));
    if (!Number.isFinite(hours) || hours <= 0)
      throw new RunstackError("USAGE", `--hours ${str("hours")}: expected a positive number`);
  }
  return {
    name: str("name"),
    machine: str("machine"),
    gpu: str("gpu"),
    spot: v.spot === true ? true : undefined,
    hours,
    project: str("project"),
    zone: str("zone"),
    dataImage: str("data-image"),
    bootImage: str("boot-image"),
    owner: str("owner"),
    branch: str("branch"),
    secretsProvider: str("secrets-provider"),
  };
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function parse(
  sub: string,
  args: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new RunstackError("USAGE", `${sub}: ${(e as Error).message}`, { hint: `see: ${sub} --help` });
  }
}

function onePositional(sub: string, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new RunstackError(
      "USAGE",
      `${sub} takes exactly one experiment config path (got ${positionals.length})`,
      {
        hint: `e.g. ${sub} configs/mnist-full.yaml; see ${sub} --help`,
      },
    );
  }
  return positionals[0]!;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  const ports: LaunchPorts = {
    git: simpleGitPort(io.cwd),
    pulumi: () => systemPulumi({ cwd: io.cwd, env: io.env }),
    now: io.now ?? (() => new Date()),
    random: io.random ?? (() => randomInt(0, 2 ** 32) / 2 ** 32),
    log: io.out,
  };
  try {
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
      io.out(USAGE);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    if (!(sub in HELP)) throw new RunstackError("USAGE", `unknown command '${sub}'`, { hint: USAGE });
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(HELP[sub]!);
      return EXIT.ok;
    }
    switch (sub) {
      case "launch": {
        const { values, positionals } = parse(sub, rest, LAUNCH_OPTIONS);
        await launch(
          {
            configPath: onePositional(sub, positionals),
            cwd: io.cwd,
            flags: flagsOf(values),
            up: values.up === true,
            deployKeyPath: values["deploy-key"] as string | undefined,
          },
          ports,
        );
        return EXIT.ok;
      }
      case "sweep": {
        const { values, positionals } = parse(sub, rest, {
          ...LAUNCH_OPTIONS,
          grid: { type: "string", multiple: true },
          launch: { type: "boolean" },
          parallel: { type: "string" },
        });
        const parallel = values.parallel === undefined ? 2 : Number(values.parallel);
        if (!Number.isInteger(parallel) || parallel < 1)
          throw new RunstackError("USAGE", `--parallel ${values.parallel}: expected an integer >= 1`);
        const r = await sweep(
          {
            configPath: onePositional(sub, positionals),
            cwd: io.cwd,
            flags: flagsOf(values),
            up: values.up === true,
            deployKeyPath: values["deploy-key"] as string | undefined,
            grid: (values.grid as string[] | undefined) ?? [],
            launch: values.launch === true,
            parallel,
          },
          ports,
        );
        for (const f of r.failed) io.err(`pulumi up failed for ${f.runId}: ${f.message}`);
        return r.failed.length > 0 ? EXIT.pulumi : EXIT.ok;
      }
      case "status": {
        const { values, positionals } = parse(sub, rest, {
          json: { type: "boolean" },
          help: { type: "boolean" },
        });
        if (positionals.length > 0)
          throw new RunstackError("USAGE", `status takes no arguments (got ${positionals.join(" ")})`);
        const obs = await observe({ git: ports.git, pulumi: ports.pulumi(), now: ports.now() });
        if (values.json) {
          io.out(JSON.stringify({ runs: obs.rows, notes: obs.notes }, null, 2));
        } else {
          io.out(obs.rows.length > 0 ? renderStatusTable(obs.rows) : "no Pulumi.run-*.yaml stack files here");
          for (const n of obs.notes) io.out(`note: ${n}`);
        }
        return EXIT.ok;
      }
      case "reap": {
        const { values, positionals } = parse(sub, rest, {
          "dry-run": { type: "boolean" },
          run: { type: "string" },
          help: { type: "boolean" },
        });
        if (positionals.length > 0)
          throw new RunstackError(
            "USAGE",
            `reap takes no arguments (got ${positionals.join(" ")}); use --run ID`,
          );
        const runId = values.run as string | undefined;
        if (runId !== undefined && !RUN_ID_RE.test(runId)) {
          throw new RunstackError("USAGE", `--run ${runId}: not a run id (expected ${RUN_ID_RE})`, {
            hint: "use the id from `npm run status` (the stack name without run-)",
          });
        }
        const r = await reap({
          git: ports.git,
          pulumi: ports.pulumi,
          now: ports.now(),
          dryRun: values["dry-run"] === true,
          runId,
          log: io.out,
        });
        for (const n of r.notes) io.out(`note: ${n}`);
        for (const f of r.failed) io.err(`destroy failed for ${f.runId}: ${f.message}`);
        return r.failed.length > 0 ? EXIT.pulumi : EXIT.ok;
      }
    }
    return EXIT.usage;
  } catch (e) {
    if (isRunstackError(e)) {
      io.err(`error [${e.code}]: ${e.message}`);
      if (e.hint) io.err(`hint: ${e.hint}`);
      return exitCodeOf(e.code);
    }
    io.err(`internal error (a bug in runstack): ${(e as Error).stack ?? String(e)}`);
    return EXIT.internal;
  }
}

const invoked = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : "";
if (import.meta.url === invoked) {
  const code = await main(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  });
  process.exitCode = code;
}
