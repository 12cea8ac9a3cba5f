import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";

/**
 * The experiment CLI as a child process: its output teed to a log file and to our stdout (which
 * the guest agent forwards to the serial log), with a stop that gives it a grace period to write
 * its record (the CLI marks it interrupted on SIGTERM) before SIGKILL.
 */
export interface ChildOptions {
  command: string;
  args: string[];
  cwd: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Where output is echoed besides the log file (default process.stdout). */
  echo?: NodeJS.WritableStream;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ExperimentChild {
  pid: number | undefined;
  exited: Promise<ChildExit>;
  /** SIGTERM now, SIGKILL after graceMs if still running. Idempotent. */
  stop(graceMs: number): void;
}

export function startExperiment(o: ChildOptions): ExperimentChild {
  const log = createWriteStream(o.logFile, { flags: "a", mode: 0o644 });
  const echo = o.echo ?? process.stdout;
  const child = spawn(o.command, o.args, {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tee = (chunk: Buffer) => {
    log.write(chunk);
    echo.write(chunk);
  };
  child.stdout.on("data", tee);
  child.stderr.on("data", tee);
  const exited = new Promise<ChildExit>((resolve) => {
    let done = false;
    const finish = (exit: ChildExit) => {
      if (done) return;
      done = true;
      log.end(() => resolve(exit));
    };
    child.on("error", (e) => {
      log.write(`runstack: could not start ${o.command}: ${e.message}\n`);
      finish({ code: 127, signal: null });
    });
    child.on("close", (code, signal) => finish({ code, signal }));
  });
  let stopping = false;
  return {
    pid: child.pid,
    exited,
    stop(graceMs) {
      if (stopping) return;
      stopping = true;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
      void exited.then(() => clearTimeout(t));
    },
  };
}

export function describeExit(e: ChildExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}
