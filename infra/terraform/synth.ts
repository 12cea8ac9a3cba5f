import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isRunstackError, RunstackError } from "../../configs/errors.js";
import { planRun } from "../plan.js";
import { readStackFile } from "./stack-file.js";
import { synthRun } from "./synth-run.js";

/**
 * Terraform export of one run (secondary to `pulumi up`; CDKTF is archived upstream):
 *   npx tsx infra/terraform/synth.ts Pulumi.run-<id>.yaml [--out run-<id>.tf.json]
 * Then, in a directory holding only that file:
 *   terraform init && TF_VAR_deploy_key="$(cat deploy-key)" terraform apply
 * A standalone entry because experiment/cli.ts may not import infra/.
 */

const USAGE = "usage: npm run synth -- <Pulumi.run-<id>.yaml | run-<id> | <id>> [--out <file>.tf.json]";

/** A stack file path as given, or the stack file of a stack name (run-<id>) or run id. */
export function stackFileOf(arg: string): string {
  if (arg.endsWith(".yaml") || arg.includes("/")) return arg;
  return `Pulumi.${arg.startsWith("run-") ? arg : `run-${arg}`}.yaml`;
}

export function synthStackFile(opts: { stackFile: string; now: Date }): Record<string, unknown> {
  const { config, stack } = readStackFile(opts.stackFile);
  return synthRun(planRun({ config, stack, now: opts.now }));
}

function parseArgs(argv: string[]): { stackFile: string; out?: string } {
  const rest = [...argv];
  let out: string | undefined;
  const i = rest.indexOf("--out");
  if (i >= 0) {
    out = rest[i + 1];
    if (out === undefined || out.startsWith("-"))
      throw new RunstackError("USAGE", "--out needs a file name", { hint: USAGE });
    rest.splice(i, 2);
  }
  if (rest.length !== 1 || rest[0]!.startsWith("-")) {
    throw new RunstackError("USAGE", `expected one stack file, got: ${rest.join(" ") || "nothing"}`, {
      hint: USAGE,
    });
  }
  return { stackFile: rest[0]!, out };
}

function main(argv: string[]): number {
  try {
    const args = parseArgs(argv);
    const stackFile = stackFileOf(args.stackFile);
    const json = `${JSON.stringify(synthStackFile({ stackFile, now: new Date() }), null, 2)}\n`;
    if (args.out) {
      try {
        writeFileSync(args.out, json);
      } catch (e) {
        throw new RunstackError("USAGE", `--out ${args.out}: cannot write: ${(e as Error).message}`, {
          hint: "pass --out a file in a directory that exists and is writable",
        });
      }
      process.stderr.write(`wrote ${args.out}\n`);
    } else {
      process.stdout.write(json);
    }
    return 0;
  } catch (e) {
    if (!isRunstackError(e)) {
      process.stderr.write(
        `internal error (a bug in runstack, not in your input):\n${(e as Error).stack ?? e}\n`,
      );
      return 70;
    }
    process.stderr.write(`error [${e.code}]: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ""}`);
    // Same table as the other CLIs: a bad stack file or flag is a usage/config error.
    return 2;
  }
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(resolve(invokedPath)).href) {
  process.exitCode = main(process.argv.slice(2));
}
