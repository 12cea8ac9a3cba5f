import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type GitServer, gitTestEnv, startGitServer } from "../../test/harness/git-server.js";
import { publishResults } from "./publish.js";

const exec = promisify(execFile);
const RUNS = 16;
const BRANCH = "results";

let server: GitServer;
let work: string;
let pinned: string;

beforeAll(async () => {
  server = await startGitServer();
  work = await mkdtemp(path.join(tmpdir(), "runstack-publish-load-"));
  pinned = await server.seed({ "README.md": "# project\n" }, "project at the pinned commit");
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const bare = async (args: string[]) => (await server.git(args)).trim();

it(`${RUNS} runs publishing to the same branch at once all land, linearly, without force`, {
  timeout: 900_000,
}, async () => {
  // One clone over ssh, copied: each run gets its own repository with origin = the ssh URL.
  const template = path.join(work, "template");
  const env = { ...gitTestEnv(), GIT_SSH_COMMAND: server.sshCommand() };
  await exec("git", ["clone", "--quiet", server.url, template], { env });
  await exec("git", ["-C", template, "checkout", "--quiet", "--detach", pinned], { env });
  const runs = Array.from({ length: RUNS }, (_, i) => `load-${String(i).padStart(2, "0")}`);
  for (const runId of runs) {
    const repo = path.join(work, runId);
    await cp(template, repo, { recursive: true });
    await mkdir(path.join(repo, "results", runId), { recursive: true });
    await writeFile(path.join(repo, "results", runId, "run.json"), JSON.stringify({ runId }));
    await writeFile(path.join(repo, "results", runId, "curves.csv"), "labels,accuracy\n10,0.5\n");
  }

  const t0 = performance.now();
  // allSettled: one failure must not abandon the other publishes mid-way (and their temp worktrees).
  const settled = await Promise.allSettled(
    runs.map((runId) =>
      publishResults({
        repoDir: path.join(work, runId),
        runId,
        resultsDir: `results/${runId}`,
        branch: BRANCH,
        message: `results: ${runId}`,
        sshCommand: server.sshCommand(),
        retry: { attempts: 40, baseMs: 100, maxMs: 3000 },
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const failed = settled.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
  expect(failed).toEqual([]);
  const results = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const attempts = results.map((r) => r.attempts);
  console.log(
    `[load] ${RUNS} concurrent publishes: ${seconds.toFixed(1)} s wall, push attempts total ${attempts.reduce((a, b) => a + b, 0)}, max ${Math.max(...attempts)}, per run [${attempts.join(", ")}]`,
  );

  // Every folder is on the branch.
  const folders = (await bare(["ls-tree", "-d", "--name-only", `${BRANCH}:results`])).split("\n").sort();
  expect(folders).toEqual(runs);
  // History: exactly RUNS new commits on top of the pinned commit, no merges, each one run's folder only.
  const commits = (await bare(["rev-list", "--reverse", `${pinned}..${BRANCH}`])).split("\n");
  expect(commits).toHaveLength(RUNS);
  expect(await bare(["rev-list", "--merges", `${pinned}..${BRANCH}`])).toBe("");
  expect(await bare(["merge-base", "--is-ancestor", pinned, BRANCH]).then(() => true)).toBe(true);
  expect(new Set(commits)).toEqual(new Set(results.map((r) => r.commit)));
  const touched: string[] = [];
  for (const c of commits) {
    const files = (await bare(["diff-tree", "--no-commit-id", "--name-only", "-r", c])).split("\n");
    const dirs = new Set(files.map((f) => f.split("/").slice(0, 2).join("/")));
    expect(dirs.size).toBe(1);
    touched.push(...dirs);
  }
  expect(touched.sort()).toEqual(runs.map((r) => `results/${r}`));
  // No force push: every update the server recorded moved the branch forward (old is an ancestor of new).
  const reflog = (await bare(["reflog", "show", "--format=%H", `refs/heads/${BRANCH}`]))
    .split("\n")
    .reverse();
  expect(reflog).toHaveLength(RUNS);
  for (let i = 1; i < reflog.length; i++) {
    await expect(bare(["merge-base", "--is-ancestor", reflog[i - 1]!, reflog[i]!])).resolves.toBe("");
  }
  expect(reflog.at(-1)).toBe(commits.at(-1));
});
