import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRunstackError } from "../../configs/errors.js";
import { type GitServer, generateKey, gitTestEnv, startGitServer } from "../../test/harness/git-server.js";
import { type PublishOptions, PushFailedError, publishResults, resultCommitMessage } from "./publish.js";

const exec = promisify(execFile);

let server: GitServer;
let work: string;
let pinned: string;
let keyText: string;

beforeAll(async () => {
  server = await startGitServer();
  work = await mkdtemp(path.join(tmpdir(), "runstack-publish-test-"));
  pinned = await server.seed(
    {
      "README.md": "# project\n",
      "configs/mnist.yaml": "dataset: mnist\n",
      ".gitignore": "node_modules/\n",
    },
    "project at the pinned commit",
  );
  keyText = await readFile(server.deployKeyPath, "utf8");
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** git with the deploy key, as the test's "other runs" and inspections use it. */
async function git(cwd: string, args: string[]): Promise<string> {
  const env = { ...gitTestEnv(), GIT_SSH_COMMAND: server.sshCommand() };
  return (await exec("git", args, { cwd, env, maxBuffer: 64 << 20 })).stdout.trim();
}

/** A VM-like clone: the repository at the pinned commit, detached HEAD. */
async function cloneAtPinned(name: string): Promise<string> {
  const dir = path.join(work, name);
  await git(work, ["clone", "--quiet", server.url, dir]);
  await git(dir, ["checkout", "--quiet", "--detach", pinned]);
  return dir;
}

async function writeResults(repoDir: string, runId: string): Promise<void> {
  const d = path.join(repoDir, "results", runId);
  await mkdir(path.join(d, "model"), { recursive: true });
  await writeFile(path.join(d, "run.json"), JSON.stringify({ runId, status: "succeeded" }));
  await writeFile(path.join(d, "curves.csv"), "labels,accuracy\n10,0.5\n20,0.7\n");
  await writeFile(path.join(d, "log"), `run ${runId} done\n`);
  await writeFile(path.join(d, "model", "weights.bin"), Buffer.from([0, 1, 2, 3]));
}

const opts = (repoDir: string, runId: string, branch: string, extra: Partial<PublishOptions> = {}) =>
  ({
    repoDir,
    runId,
    resultsDir: `results/${runId}`,
    branch,
    message: resultCommitMessage({
      runId,
      configPath: "configs/mnist.yaml",
      configSha256: "0".repeat(64),
      commit: pinned,
      status: "succeeded",
    }),
    sshCommand: server.sshCommand(),
    retry: { attempts: 4, baseMs: 20, maxMs: 100 },
    ...extra,
  }) satisfies PublishOptions;

const remoteTip = async (branch: string) =>
  (await server.git(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]).catch(() => "")).trim();
const changedFiles = async (commit: string) =>
  (await server.git(["diff-tree", "--no-commit-id", "--name-only", "-r", commit])).trim().split("\n").sort();

async function expectCode(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(isRunstackError(e) && e.code).toBe(code);
    return e as Error;
  }
  throw new Error(`expected ${code}, but it resolved`);
}

describe("publishResults against a real sshd", () => {
  it("creates the results branch from the pinned commit with one commit touching only results/<run-id>/", async () => {
    const repo = await cloneAtPinned("happy");
    await writeResults(repo, "run-a");
    const lines: string[] = [];
    const res = await publishResults(opts(repo, "run-a", "results-happy", { log: (l) => lines.push(l) }));

    expect(res.attempts).toBe(1);
    expect(await remoteTip("results-happy")).toBe(res.commit);
    expect((await server.git(["rev-parse", `${res.commit}^`])).trim()).toBe(pinned);
    expect(await changedFiles(res.commit)).toEqual(
      ["curves.csv", "log", "model/weights.bin", "run.json"].map((f) => `results/run-a/${f}`),
    );
    expect((await server.git(["log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", res.commit])).trim()).toBe(
      "runstack <runstack@localhost>|runstack <runstack@localhost>|results: run-a (succeeded)",
    );
    // The VM's checkout is untouched: still detached at the pinned commit, no extra worktree left.
    expect(await git(repo, ["rev-parse", "HEAD"])).toBe(pinned);
    await expect(git(repo, ["symbolic-ref", "-q", "HEAD"])).rejects.toThrow();
    expect((await git(repo, ["worktree", "list", "--porcelain"])).match(/^worktree /gm)).toHaveLength(1);
    // No global/repo config was written for identity or ssh.
    const config = await readFile(path.join(repo, ".git", "config"), "utf8");
    expect(config).not.toMatch(/sshCommand|deploy_key|user\.name|runstack@localhost/);
    expect(lines.join("\n")).toContain("pushed");
  });

  it("puts a later run on the tip of the branch, which has moved past the pinned commit", async () => {
    const repo = await cloneAtPinned("second");
    await writeResults(repo, "run-b");
    const before = await remoteTip("results-happy");
    const res = await publishResults(opts(repo, "run-b", "results-happy"));
    expect((await server.git(["rev-parse", `${res.commit}^`])).trim()).toBe(before);
    expect(await changedFiles(res.commit)).toEqual(
      ["curves.csv", "log", "model/weights.bin", "run.json"].map((f) => `results/run-b/${f}`),
    );
  });

  it("is idempotent: publishing the same run again pushes nothing and returns its commit", async () => {
    const repo = path.join(work, "second");
    const tip = await remoteTip("results-happy");
    const res = await publishResults(opts(repo, "run-b", "results-happy"));
    expect(res).toEqual({ commit: tip, attempts: 0 });
    expect(await remoteTip("results-happy")).toBe(tip);
  });

  it("rebuilds a local branch left behind before its commit (crash), instead of amending the base", async () => {
    const repo = await cloneAtPinned("crashed");
    await git(repo, ["branch", "runstack/results/run-h", pinned]);
    await writeResults(repo, "run-h");
    const res = await publishResults(opts(repo, "run-h", "results-crashed"));
    expect((await server.git(["rev-parse", `${res.commit}^`])).trim()).toBe(pinned);
    expect((await server.git(["rev-list", "--count", "results-crashed"])).trim()).toBe("2");
  });

  it("refuses when anything outside results/<run-id>/ would be committed, and pushes nothing", async () => {
    const repo = await cloneAtPinned("stray");
    await writeResults(repo, "run-c");
    await writeFile(path.join(repo, "README.md"), "# edited by the run\n");
    await mkdir(path.join(repo, "results", "other-run"), { recursive: true });
    await writeFile(path.join(repo, "results", "other-run", "x.json"), "{}");
    const e = await expectCode(publishResults(opts(repo, "run-c", "results-stray")), "PUBLISH_REFUSED");
    expect(e.message).toContain("README.md");
    expect(e.message).toContain("results/other-run/x.json");
    expect(await remoteTip("results-stray")).toBe("");
  });

  it("refuses a missing or empty results folder and a folder holding a private key", async () => {
    const repo = await cloneAtPinned("empty");
    await expectCode(publishResults(opts(repo, "run-d", "results-empty")), "PUBLISH_REFUSED");
    await mkdir(path.join(repo, "results", "run-d", "sub"), { recursive: true });
    const e = await expectCode(publishResults(opts(repo, "run-d", "results-empty")), "PUBLISH_REFUSED");
    expect(e.message).toMatch(/no files/);
    await writeFile(path.join(repo, "results", "run-d", "sub", "oops"), keyText);
    const k = await expectCode(publishResults(opts(repo, "run-d", "results-empty")), "PUBLISH_REFUSED");
    expect(k.message).toMatch(/private key/);
    expect(k.message).not.toContain(keyText.split("\n")[1]!);
    expect(await remoteTip("results-empty")).toBe("");
  });

  it("succeeds after retries when the server is down for a while, then back", async () => {
    const repo = await cloneAtPinned("flaky");
    await writeResults(repo, "run-e");
    const delays: number[] = [];
    await server.pause();
    try {
      const res = await publishResults(
        opts(repo, "run-e", "results-flaky", {
          retry: { attempts: 5, baseMs: 100, maxMs: 1000 },
          rand: () => 0.5,
          // The outage lasts two backoff sleeps; the server is back for the third attempt.
          sleep: async (ms) => {
            delays.push(ms);
            if (delays.length === 2) await server.resume();
          },
        }),
      );
      expect(res.attempts).toBe(3);
      expect(delays).toEqual([50, 100]);
      expect(await remoteTip("results-flaky")).toBe(res.commit);
    } finally {
      await server.resume();
    }
  });

  it("throws PUSH_FAILED after the bounded attempts when the server stays down, keeping the commit locally", async () => {
    const repo = await cloneAtPinned("down");
    await writeResults(repo, "run-f");
    let sleeps = 0;
    await server.pause();
    let err: PushFailedError;
    try {
      const e = await expectCode(
        publishResults(opts(repo, "run-f", "results-down", { sleep: async () => void sleeps++ })),
        "PUSH_FAILED",
      );
      expect(e).toBeInstanceOf(PushFailedError);
      err = e as PushFailedError;
    } finally {
      await server.resume();
    }
    expect(err.attempts).toBe(4);
    expect(sleeps).toBe(3);
    expect(err.message).toContain("4 attempt(s)");
    expect(err.lastError).toMatch(/Connection refused/);
    for (const text of [err.message, err.lastError, err.hint ?? ""])
      expect(text).not.toContain(keyText.trim());
    // Nothing lost: the commit is on the local branch, the files are still in the checkout.
    expect(await git(repo, ["rev-parse", err.localBranch])).toBe(err.localCommit);
    expect((await git(repo, ["show", "--name-only", "--format=", err.localCommit])).split("\n")).toContain(
      "results/run-f/run.json",
    );
    expect(await readFile(path.join(repo, "results", "run-f", "run.json"), "utf8")).toContain("run-f");
    expect(await remoteTip("results-down")).toBe("");
    // Back up: the next round pushes that same local commit.
    const res = await publishResults(opts(repo, "run-f", "results-down"));
    expect(res.commit).toBe(err.localCommit);
    expect(await remoteTip("results-down")).toBe(err.localCommit);
  });

  it("fails fast (no retries) with a key the server does not accept", async () => {
    const repo = await cloneAtPinned("wrongkey");
    await writeResults(repo, "run-g");
    const otherKey = path.join(work, "not-authorized");
    await generateKey(otherKey);
    const e = (await expectCode(
      publishResults(opts(repo, "run-g", "results-wrongkey", { sshCommand: server.sshCommand(otherKey) })),
      "PUSH_FAILED",
    )) as PushFailedError;
    expect(e.attempts).toBe(1);
    expect(e.lastError).toMatch(/Permission denied \(publickey/);
    expect(e.message).not.toContain((await readFile(otherKey, "utf8")).trim());
  });

  it("rebases and succeeds when another run pushed first", async () => {
    const branch = "results-race";
    // Run B: a commit of its own results, ready to push from its own clone.
    const other = await cloneAtPinned("race-other");
    await git(other, ["checkout", "--quiet", "-b", "b"]);
    await writeResults(other, "run-b2");
    await git(other, ["add", "results"]);
    await git(other, ["commit", "--quiet", "-m", "results: run-b2"]);
    // Run A's ssh pushes run B first, just before A's own push talks to the server: A has already
    // fetched, so its push is rejected as non-fast-forward, exactly like losing a real race.
    const trigger = path.join(work, "race-trigger");
    const wrapper = path.join(work, "ssh-race.sh");
    // publish gives git a minimal environment, so the wrapper reads the real command from a file.
    const realSsh = server.sshCommand();
    const realSshFile = path.join(work, "race-ssh-command");
    await writeFile(trigger, "");
    await writeFile(
      wrapper,
      [
        "#!/bin/sh",
        `case "$*" in *git-receive-pack*)`,
        `  if [ -e '${trigger}' ]; then rm -f '${trigger}';`,
        `    env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE GIT_SSH_COMMAND="$(cat '${realSshFile}')" git -C '${other}' push --quiet origin HEAD:refs/heads/${branch} >&2 || exit 99; fi;;`,
        "esac",
        'exec ssh "$@"',
        "",
      ].join("\n"),
    );
    await chmod(wrapper, 0o755);
    await writeFile(realSshFile, realSsh);
    {
      const repo = await cloneAtPinned("race");
      await writeResults(repo, "run-a2");
      const lines: string[] = [];
      const res = await publishResults(
        opts(repo, "run-a2", branch, {
          sshCommand: `${wrapper} ${realSsh.slice("ssh ".length)}`,
          sleep: async () => {},
          log: (l) => lines.push(l),
        }),
      );
      expect(res.attempts).toBe(2);
      expect(lines.join("\n")).toMatch(/attempt 1 failed \(.*(rejected|fetch first)/);
      const bCommit = await git(other, ["rev-parse", "HEAD"]);
      expect((await server.git(["rev-parse", `${res.commit}^`])).trim()).toBe(bCommit);
      expect((await server.git(["rev-list", "--count", `${pinned}..${branch}`])).trim()).toBe("2");
      expect(await changedFiles(res.commit)).toEqual(
        ["curves.csv", "log", "model/weights.bin", "run.json"].map((f) => `results/run-a2/${f}`),
      );
    }
  });
});
