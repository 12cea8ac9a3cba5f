import { execFile, execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type GitServer, gitTestEnv, startGitServer } from "../../test/harness/git-server.js";
import { PushFailedError, publishResults } from "./publish.js";

const exec = promisify(execFile);

let server: GitServer;
let work: string;
let pinned: string;
let shimDir: string;
let argvLog: string;
const savedPath = process.env.PATH;

/**
 * `git` and `ssh` on PATH are shims that record their argv (what `ps` shows every user) and exec
 * the real binaries; publish builds the child env from process.env.PATH, so it runs them.
 */
beforeAll(async () => {
  server = await startGitServer();
  work = await mkdtemp(path.join(tmpdir(), "runstack-publish-sec-"));
  pinned = await server.seed({ "README.md": "# project\n" }, "pinned");
  shimDir = path.join(work, "shim");
  argvLog = path.join(work, "argv.log");
  await mkdir(shimDir);
  for (const tool of ["git", "ssh"]) {
    const real = execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
    await writeFile(
      path.join(shimDir, tool),
      `#!/bin/sh\n{ printf '%s' '${tool}'; for a in "$@"; do printf ' [%s]' "$a"; done; echo; } >> '${argvLog}'\nexec '${real}' "$@"\n`,
    );
    await chmod(path.join(shimDir, tool), 0o755);
  }
});

afterAll(async () => {
  process.env.PATH = savedPath;
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function clone(name: string, runId: string): Promise<string> {
  const dir = path.join(work, name);
  const env = { ...gitTestEnv(), GIT_SSH_COMMAND: server.sshCommand() };
  await exec("git", ["clone", "--quiet", server.url, dir], { env });
  await exec("git", ["-C", dir, "checkout", "--quiet", "--detach", pinned], { env });
  await mkdir(path.join(dir, "results", runId), { recursive: true });
  await writeFile(path.join(dir, "results", runId, "run.json"), "{}");
  return dir;
}

it("the deploy key never shows in git's argv, the pushed objects, errors or logs; pushes are never forced", async () => {
  const keyPath = server.deployKeyPath;
  const key = await readFile(keyPath, "utf8");
  const keyBody = key.split("\n").filter((l) => l && !l.startsWith("-----"));
  expect(keyBody.length).toBeGreaterThan(2);
  const leaks = (text: string) => text.includes(keyPath) || keyBody.some((l) => text.includes(l));

  const okRepo = await clone("ok", "sec-ok");
  const failRepo = await clone("fail", "sec-fail");
  const logs: string[] = [];
  process.env.PATH = `${shimDir}:${savedPath}`;
  let failure: PushFailedError | undefined;
  try {
    const base = { branch: "results", sshCommand: server.sshCommand(), log: (l: string) => logs.push(l) };
    const ok = {
      ...base,
      repoDir: okRepo,
      runId: "sec-ok",
      resultsDir: "results/sec-ok",
      message: "results: ok",
    };
    await publishResults(ok);
    await server.pause();
    try {
      await publishResults({
        ...base,
        repoDir: failRepo,
        runId: "sec-fail",
        resultsDir: "results/sec-fail",
        message: "results: fail",
        retry: { attempts: 2, baseMs: 1, maxMs: 1 },
      });
    } catch (e) {
      if (e instanceof PushFailedError) failure = e;
      else throw e;
    } finally {
      await server.resume();
    }
  } finally {
    process.env.PATH = savedPath;
  }

  const calls = (await readFile(argvLog, "utf8")).trim().split("\n");
  const gitCalls = calls.filter((c) => c.startsWith("git "));
  const sshCalls = calls.filter((c) => c.startsWith("ssh "));
  // The shims really were on the path of publish's git (else this test could not fail).
  expect(gitCalls.some((c) => c.includes("[push]"))).toBe(true);
  expect(sshCalls.some((c) => c.includes(`[${keyPath}]`))).toBe(true);
  for (const c of gitCalls) {
    expect(leaks(c), c).toBe(false);
    expect(c).not.toMatch(/sshCommand|IdentityFile|\[-i\]/);
  }
  for (const c of gitCalls.filter((c) => c.includes("[push]"))) {
    expect(c, c).not.toMatch(/\[(--force|-f|--force-with-lease[^\]]*|--mirror|--delete)\]|\[\+/);
  }
  // ssh gets the key's path (that is how -i works) but never its content.
  for (const c of sshCalls) expect(keyBody.some((l) => c.includes(l))).toBe(false);

  // Nothing on the server holds the key or its path.
  const objects = (
    await exec("git", ["cat-file", "--batch-all-objects", "--batch"], {
      cwd: server.bareRepoPath,
      maxBuffer: 64 << 20,
    })
  ).stdout;
  expect(objects).toContain("results: ok");
  expect(leaks(objects)).toBe(false);
  for (const repo of [okRepo, failRepo])
    expect(leaks(await readFile(path.join(repo, ".git", "config"), "utf8"))).toBe(false);

  expect(failure?.code).toBe("PUSH_FAILED");
  for (const text of [failure!.message, failure!.lastError, failure!.hint ?? "", String(failure!.stack)])
    expect(leaks(text)).toBe(false);
  expect(logs.length).toBeGreaterThan(0);
  for (const l of logs) expect(leaks(l)).toBe(false);
});
