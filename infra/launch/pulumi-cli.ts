import { spawn } from "node:child_process";
import { RunstackError } from "../../configs/errors.js";

/**
 * The pulumi CLI behind an interface. Each call is its own process, so parallel `up`s never share
 * an in-process workspace (the Automation API pitfall). Secrets only ever travel on stdin.
 */
export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PulumiRunOptions {
  /** Written to the process's stdin, then closed (the deploy key). Never logged. */
  stdin?: string;
  /** Called with each output line as it arrives (progress of a long `up`). */
  onLine?: (line: string) => void;
}

export interface PulumiCli {
  /** Throws PULUMI_CLI_MISSING when the binary cannot be run. */
  ensureAvailable(): Promise<string>;
  run(args: string[], opts?: PulumiRunOptions): Promise<PulumiResult>;
}

export const PULUMI_INSTALL_HINT =
  "install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/, e.g. `curl -fsSL https://get.pulumi.com | sh`), make sure `pulumi` is on PATH, and log in to the team's backend (`pulumi login gs://<bucket>`)";

/** Captured output is capped: a long `up` streams through onLine instead. */
const MAX_CAPTURE = 256 * 1024;

export interface SystemPulumiOptions {
  /** The project directory (where Pulumi.yaml and the stack files are). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Binary name or path; `pulumi` on PATH by default. */
  binary?: string;
}

export function systemPulumi({ cwd, env = process.env, binary = "pulumi" }: SystemPulumiOptions): PulumiCli {
  const run = (args: string[], opts: PulumiRunOptions = {}): Promise<PulumiResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, args, {
        cwd,
        env,
        stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      const out = { stdout: "", stderr: "" };
      const pending = { stdout: "", stderr: "" };
      const take = (which: "stdout" | "stderr") => (chunk: Buffer) => {
        const s = chunk.toString("utf8");
        if (out[which].length < MAX_CAPTURE) out[which] += s;
        if (!opts.onLine) return;
        const lines = (pending[which] + s).split("\n");
        pending[which] = lines.pop() ?? "";
        for (const l of lines) opts.onLine(l);
      };
      child.stdout?.on("data", take("stdout"));
      child.stderr?.on("data", take("stderr"));
      child.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") {
          reject(
            new RunstackError("PULUMI_CLI_MISSING", `the pulumi CLI ('${binary}') is not on PATH`, {
              hint: PULUMI_INSTALL_HINT,
            }),
          );
        } else {
          reject(new RunstackError("PULUMI_FAILED", `could not run pulumi: ${e.message}`, { cause: e }));
        }
      });
      child.on("close", (code, signal) => {
        for (const which of ["stdout", "stderr"] as const)
          if (opts.onLine && pending[which]) opts.onLine(pending[which]);
        resolve({ code: code ?? (signal ? 128 : 1), ...out });
      });
      if (opts.stdin !== undefined && child.stdin) {
        child.stdin.on("error", () => {}); // the process may exit before reading; its exit code tells
        child.stdin.end(opts.stdin);
      }
    });
  return {
    run,
    ensureAvailable: async () => {
      const r = await run(["version"]);
      if (r.code !== 0) {
        throw new RunstackError(
          "PULUMI_CLI_MISSING",
          `'${binary} version' failed (exit ${r.code}): ${r.stderr.trim()}`,
          {
            hint: PULUMI_INSTALL_HINT,
          },
        );
      }
      return r.stdout.trim();
    },
  };
}

/** Runs one step; a non-zero exit becomes PULUMI_FAILED with the tail of its stderr. */
export async function runOrThrow(
  cli: PulumiCli,
  args: string[],
  opts: PulumiRunOptions = {},
): Promise<PulumiResult> {
  const r = await cli.run(args, opts);
  if (r.code !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-8).join("\n");
    throw new RunstackError(
      "PULUMI_FAILED",
      `pulumi ${args.join(" ")} exited with ${r.code}${tail ? `:\n${tail}` : ""}`,
      {
        hint: "fix the cause above and re-run the failed command by hand (the stack file and earlier steps are kept)",
      },
    );
  }
  return r;
}
