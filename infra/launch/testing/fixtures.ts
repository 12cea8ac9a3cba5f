import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Real git repositories for adapter tests: a bare repo stands in for GitHub. `origin` is
 * configured with the SSH URL the VM would use, and url.<bare>.insteadOf maps it to the local
 * bare repo, so fetch/push are real while repoUrl stays SSH-shaped.
 */

export const SSH_URL = "git@github.com:acme/exp.git";

export const CONFIG_TEXT = `# a tiny synthetic experiment
name: blobs
dataset: { source: synthetic }
model: { kind: mlp, hidden: [16] }
al:
  strategies: [random]
  rounds: 2
seeds: [1]
`;

export interface TempRepo {
  dir: string;
  work: string;
  bare: string;
  git: (...args: string[]) => string;
  write: (path: string, text: string) => void;
  commitAll: (msg: string) => string;
  cleanup: () => void;
}

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "ada.l@example.org",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "ada.l@example.org",
};

export function makeRepo(): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), "runstack-launch-"));
  const bare = join(dir, "remote.git");
  const work = join(dir, "work");
  const run = (cwd: string, ...args: string[]) =>
    execFileSync("git", args, {
      cwd,
      env: GIT_ENV,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  run(dir, "init", "-q", "--bare", "-b", "main", bare);
  run(dir, "init", "-q", "-b", "main", work);
  const git = (...args: string[]) => run(work, ...args);
  git("config", "user.email", "ada.l@example.org");
  git("config", "user.name", "Test");
  git("remote", "add", "origin", SSH_URL);
  git("config", `url.${bare}.insteadOf`, SSH_URL);
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), text);
  };
  const commitAll = (msg: string) => {
    git("add", "-A");
    git("commit", "-q", "-m", msg);
    return git("rev-parse", "HEAD");
  };
  write("configs/blobs.yaml", CONFIG_TEXT);
  commitAll("initial");
  git("push", "-q", "origin", "main");
  return {
    dir,
    work,
    bare,
    git,
    write,
    commitAll,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Adds results/<id>/run.json to the remote's main branch from a second clone, as a VM would. */
export function pushRecord(repo: TempRepo, runId: string, record: unknown): void {
  const clone = join(repo.dir, `vm-${runId}`);
  execFileSync("git", ["clone", "-q", repo.bare, clone], { env: GIT_ENV, stdio: "ignore" });
  mkdirSync(join(clone, "results", runId), { recursive: true });
  writeFileSync(join(clone, "results", runId, "run.json"), JSON.stringify(record));
  for (const args of [
    ["add", "-A"],
    ["commit", "-q", "-m", `results ${runId}`],
    ["push", "-q", "origin", "HEAD:main"],
  ]) {
    execFileSync("git", args, { cwd: clone, env: GIT_ENV, stdio: "ignore" });
  }
}

/**
 * A fake `pulumi` on PATH: logs every call's argv and stdin as one JSON line, answers
 * `version`, `stack ls --json` (from stacks.json next to it) and `stack output --json`, and
 * fails the commands listed in fail.txt.
 */
export interface FakePulumi {
  binDir: string;
  env: NodeJS.ProcessEnv;
  calls: () => { argv: string[]; stdin: string }[];
  setStacks: (stacks: unknown[]) => void;
  failOn: (subcommand: string) => void;
}

export function makeFakePulumi(dir: string): FakePulumi {
  const binDir = join(dir, "fakebin");
  mkdirSync(binDir, { recursive: true });
  const log = join(binDir, "calls.jsonl");
  const script = `#!/usr/bin/env node
const fs = require("node:fs");
const path = require("node:path");
const argv = process.argv.slice(2);
let stdin = "";
try { stdin = fs.readFileSync(0, "utf8"); } catch {}
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv, stdin }) + "\\n");
const here = path.dirname(fs.realpathSync(process.argv[1]));
const read = (f, d) => { try { return fs.readFileSync(path.join(here, f), "utf8"); } catch { return d; } };
const fail = read("fail.txt", "").split("\\n").filter(Boolean);
if (fail.includes(argv[0])) { console.error("fake pulumi: " + argv[0] + " failed on purpose"); process.exit(255); }
if (argv[0] === "version") console.log("v3.999.0-fake");
else if (argv[0] === "stack" && argv[1] === "ls") console.log(read("stacks.json", "[]"));
else if (argv[0] === "stack" && argv[1] === "output") console.log("{}");
else console.log("fake pulumi: " + argv.join(" "));
`;
  writeFileSync(join(binDir, "pulumi"), script);
  chmodSync(join(binDir, "pulumi"), 0o755);
  return {
    binDir,
    env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ""}` },
    calls: () => {
      try {
        return readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    },
    setStacks: (stacks) => writeFileSync(join(binDir, "stacks.json"), JSON.stringify(stacks)),
    failOn: (sub) => writeFileSync(join(binDir, "fail.txt"), `${sub}\n`, { flag: "a" }),
  };
}

/** A throwaway private key, generated at test time (never committed). */
export function makeDeployKey(dir: string): { path: string; text: string } {
  const path = join(dir, "deploy_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", path], {
    stdio: "ignore",
  });
  return { path, text: readFileSync(path, "utf8") };
}
