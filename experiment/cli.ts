#!/usr/bin/env node
/**
 * The experiment CLI: the only place that parses argv and decides exit codes.
 * Everything below returns values or throws RunstackError with a stable code.
 */
import { readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ErrorCode, isRunstackError, RunstackError } from "../configs/errors.js";
import { BACKENDS, type Backend } from "../configs/experiment.js";
import { loadConfig } from "../configs/load.js";
import { parseOverride } from "./commands/overrides.js";
import { runCommand } from "./commands/run.js";
import { trainCommand } from "./commands/train.js";
import { writeManifest } from "./data/index.js";
import { CloudContext } from "./record/cloud.js";

export const EXIT = {
  ok: 0,
  runFailed: 4,
  usage: 2,
  dataOrEnv: 3,
  internal: 70,
  sigint: 130,
  sigterm: 143,
} as const;

const DEFAULT_CONFIG = "configs/quick.yaml";

const RUN_OPTIONS = ["config", "fraction", "data-dir", "backend", "out", "run-id", "set"];
const ALLOWED: Record<string, string[]> = {
  run: [...RUN_OPTIONS, "cloud-context"],
  train: RUN_OPTIONS,
  "data-manifest": ["name"],
};

const EXIT_CODES_HELP = `Exit codes:
  0    success
  2    bad usage or invalid config (nothing written)
  3    data or environment problem: data missing/invalid, backend unavailable, --out not writable
       (nothing written)
  4    the run failed; its record is written with status "failed" and the rounds completed
  70   internal error (a bug in runstack: please report it with the stack trace)
  130  interrupted by Ctrl-C (SIGINT); record written with status "interrupted"
  143  terminated (SIGTERM); record written with status "interrupted"`;

const HELP: Record<string, string> = {
  main: `runstack experiment — active-learning experiments with full provenance

Usage: npm run experiment -- [options]        (= runstack run)
       npm run train -- [options]             (= runstack train)
       npm run runstack -- data-manifest <dir> --name <mnist|fashion-mnist>

Commands:
  run            run every (strategy x seed) trial of a config and write one run record
  train          plain supervised training on all pool labels (the curves' upper bound); saves the model
  data-manifest  write manifest.json (sha256 of each IDX file) into a data directory

${EXIT_CODES_HELP}

Run 'npm run experiment -- --help' or 'npm run train -- --help' for the options.`,
  run: `Usage: npm run experiment -- [--config F] [--fraction X] [--data-dir D] [--backend B] [--out DIR] [--set K=V ...]

Runs all trials of the config (each strategy x each seed), prints progress and a table of accuracy vs
labels (mean ± std over seeds) with the AUBC per strategy, and writes <out>/<run-id>/run.json + curves.csv.

Options:
  --config F         experiment config (default ${DEFAULT_CONFIG})
  --fraction X       use a seeded, class-stratified fraction of the data, 0 < X <= 1 (e.g. 0.01)
  --data-dir D       directory of IDX files + manifest.json (for dataset.source: idx)
  --backend B        force a backend: ${BACKENDS.join(", ")}
  --out DIR          where run folders go (default results/local; the VM uses results)
  --set KEY=VALUE    override one config key (YAML value, validated like the file; repeatable),
                     e.g. a local smoke run of a full config:
                     --fraction 0.01 --set al.rounds=2 --set 'seeds=[1]' --set train.epochs=2
  --run-id ID        use this run id instead of a generated one (the VM passes its stack's id)
  --cloud-context F  JSON file with the VM's cloud context (written by experiment/remote on a VM)
  -h, --help         this help`,
  train: `Usage: npm run train -- [--config F] [--fraction X] [--data-dir D] [--backend B] [--out DIR] [--set K=V ...]

Trains the config's model on every pool label of the first seed (the upper bound for the curves),
reports test accuracy, and saves the model in TensorFlow.js format next to its record:
<out>/<run-id>/model/{model.json,weights.bin} and <out>/<run-id>/run.json.`,
  "data-manifest": `Usage: npm run runstack -- data-manifest <dir> --name <mnist|fashion-mnist>

Writes <dir>/manifest.json listing each IDX file with its sha256 and size. Runs refuse a data
directory whose files do not match its manifest.`,
};

interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  isTTY: boolean;
}

function usage(message: string, command: string): never {
  throw new RunstackError("USAGE", message, {
    hint: `see 'npm run ${command === "run" ? "experiment" : command} -- --help'`,
  });
}

function parse(command: string, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: command === "data-manifest",
      strict: true,
      options: {
        config: { type: "string" },
        fraction: { type: "string" },
        "data-dir": { type: "string" },
        backend: { type: "string" },
        out: { type: "string" },
        "run-id": { type: "string" },
        "cloud-context": { type: "string" },
        name: { type: "string" },
        set: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    usage((e as Error).message, command);
  }
}

function parseFraction(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0 || x > 1)
    usage(`--fraction: expected a number in (0, 1], found "${v}"`, "run");
  return x;
}

function parseBackend(v: string | undefined): Backend | undefined {
  if (v === undefined) return undefined;
  if (!(BACKENDS as readonly string[]).includes(v))
    usage(`--backend: expected one of ${BACKENDS.join(", ")}, found "${v}"`, "run");
  return v as Backend;
}

function readCloudContext(path: string | undefined): CloudContext | undefined {
  if (path === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    usage(`--cloud-context: cannot read JSON from ${path}: ${(e as Error).message}`, "run");
  }
  const r = CloudContext.safeParse(raw);
  if (!r.success)
    usage(
      `--cloud-context ${path}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      "run",
    );
  return r.data;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  const command = first === undefined || first.startsWith("-") ? "run" : first;
  const args = first === undefined || first.startsWith("-") ? argv : rest;
  if (command === "help") {
    io.out.write(`${HELP.main}\n`);
    return EXIT.ok;
  }
  if (!(command in HELP) || command === "main")
    usage(`unknown command "${command}" (commands: run, train, data-manifest)`, "runstack");
  const { values, positionals } = parse(command, args);
  // One parser for all commands; an option a command does not use is an error, never ignored.
  const given = Object.keys(values).filter((k) => k !== "help");
  const stray = given.filter((k) => !ALLOWED[command]!.includes(k));
  if (stray.length > 0) usage(`${command} does not take ${stray.map((k) => `--${k}`).join(", ")}`, command);
  if (values.help) {
    io.out.write(`${HELP[command]}\n\n${command === "data-manifest" ? "" : `${EXIT_CODES_HELP}\n`}`);
    return EXIT.ok;
  }
  if (command === "data-manifest") {
    const dir = positionals[0];
    if (!dir || !values.name) usage("data-manifest needs a directory and --name", "data-manifest");
    const written = await writeManifest(dir, values.name);
    io.out.write(
      `wrote ${join(written.dir, "manifest.json")} (${written.manifest.files.length} files, sha256 ${written.sha256})\n`,
    );
    return EXIT.ok;
  }

  const loaded = loadConfig(values.config ?? DEFAULT_CONFIG);
  const overrides = {
    fraction: parseFraction(values.fraction),
    backend: parseBackend(values.backend),
    dataDir: values["data-dir"],
    set: (values.set ?? []).map(parseOverride),
  };
  const controller = new AbortController();
  let signalExit: number | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(sig === "SIGINT" ? EXIT.sigint : EXIT.sigterm); // second Ctrl-C
    signalExit = sig === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
    io.err.write(`\n${sig}: finishing the current step and writing the record (press again to quit now)\n`);
    controller.abort(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const common = {
      loaded,
      overrides,
      outDir: values.out ?? "results/local",
      runId: values["run-id"],
      argv: process.argv.slice(1),
      cwd: process.cwd(),
      signal: controller.signal,
      log: io.err,
      isTTY: io.isTTY,
    };
    if (command === "train") {
      const r = await trainCommand(common);
      io.out.write(`${r.summary}\nrecord: ${r.recordPath}\nmodel:  ${r.modelDir}\n`);
      return signalExit ?? (r.status === "completed" ? EXIT.ok : EXIT.runFailed);
    }
    const r = await runCommand({ ...common, cloud: readCloudContext(values["cloud-context"]) });
    io.out.write(`\n${r.table}\n\nrun ${r.runId}: ${r.status}\nrecord: ${r.recordPath}\n`);
    if (r.error !== undefined) io.err.write(formatError(r.error));
    if (signalExit !== undefined) return signalExit;
    return r.status === "completed" ? EXIT.ok : EXIT.runFailed;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const DATA_OR_ENV: ErrorCode[] = [
  "DATA_NOT_FOUND",
  "DATA_INVALID",
  "MANIFEST_MISMATCH",
  "BACKEND_UNAVAILABLE",
  "OUTPUT_UNWRITABLE",
];

export function exitCodeFor(e: unknown): number {
  if (!isRunstackError(e)) return EXIT.internal;
  if (DATA_OR_ENV.includes(e.code)) return EXIT.dataOrEnv;
  if (e.code === "INTERRUPTED") return EXIT.sigint;
  return EXIT.usage;
}

export function formatError(e: unknown): string {
  if (isRunstackError(e)) return `error [${e.code}]: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ""}`;
  const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return `internal error (a bug in runstack, not in your input): please report this with the trace below\n${stack}\n`;
}

function isEntry(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  const io: Io = { out: process.stdout, err: process.stderr, isTTY: Boolean(process.stderr.isTTY) };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      io.err.write(formatError(e));
      process.exitCode = exitCodeFor(e);
    },
  );
}
