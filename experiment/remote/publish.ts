import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { RunstackError } from "../../configs/errors.js";
import { type RetryLimits, retry } from "./backoff.js";
import {
  type Git,
  GitCommandError,
  type GitIdentity,
  isPermanentGitFailure,
  openGit,
  redactSecrets,
} from "./git.js";
import { checkNames, checkResultsFolder, inside, refuse, refuseStrayChanges } from "./publish-checks.js";

/**
 * Publishes results/<run-id>/ to the results branch: one commit holding only that folder, put on
 * the branch's tip with fetch → rebase → push (never force), retried with bounded backoff.
 *
 * The VM's clone sits on the pinned commit (detached HEAD) and must stay there: the rest of the
 * startup script (self-delete) still runs from it, and the results branch may even be an orphan.
 * So the commit is built in a throwaway worktree on a local branch runstack/results/<run-id>
 * that always holds exactly one commit on top of its base; that commit survives a failed push.
 */

export interface PublishOptions {
  repoDir: string;
  runId: string;
  /** Relative to repoDir, posix, ends with the run id, e.g. results/<runId>. */
  resultsDir: string;
  branch: string;
  message: string;
  sshCommand: string;
  retry?: RetryLimits;
  rand?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
  remote?: string;
  identity?: GitIdentity;
}

export interface PublishResult {
  /** The result commit as it is on the remote branch. */
  commit: string;
  /** Push attempts made; 0 when the results were already on the branch. */
  attempts: number;
}

export const DEFAULT_PUBLISH_RETRY: RetryLimits = { attempts: 10, baseMs: 2_000, maxMs: 120_000 };

/** PUSH_FAILED with what the caller needs to park the results: the commit is still local. */
export class PushFailedError extends RunstackError {
  readonly attempts: number;
  readonly localBranch: string;
  readonly localCommit: string;
  readonly lastError: string;
  constructor(o: {
    attempts: number;
    localBranch: string;
    localCommit: string;
    lastError: string;
    cause: unknown;
  }) {
    super(
      "PUSH_FAILED",
      `pushing results commit ${o.localCommit} gave up after ${o.attempts} attempt(s); last git error: ${o.lastError}`,
      {
        hint: `the results are committed locally on branch ${o.localBranch}; push it later with "git push origin ${o.localBranch}:<results branch>", after checking the network and the deploy key`,
        cause: o.cause,
      },
    );
    this.name = "PushFailedError";
    this.attempts = o.attempts;
    this.localBranch = o.localBranch;
    this.localCommit = o.localCommit;
    this.lastError = o.lastError;
  }
}

const oneLine = (key: string, v: string): string => {
  if (v.trim() === "" || /[\r\n]/.test(v))
    throw refuse(
      `commit message: ${key} must be one non-empty line, got ${JSON.stringify(v)}`,
      "pass plain values",
    );
  return v.trim();
};

/** Subject names the run; trailers (git interpret-trailers) let `status`/`reap` parse the commit back. */
export function resultCommitMessage(o: {
  runId: string;
  configPath: string;
  configSha256: string;
  commit: string;
  status: string;
}): string {
  const runId = oneLine("runId", o.runId);
  const status = oneLine("status", o.status);
  return [
    `results: ${runId} (${status})`,
    "",
    `Runstack-Run: ${runId}`,
    `Runstack-Status: ${status}`,
    `Runstack-Config: ${oneLine("configPath", o.configPath)}`,
    `Runstack-Config-Sha256: ${oneLine("configSha256", o.configSha256)}`,
    `Runstack-Code-Commit: ${oneLine("commit", o.commit)}`,
    "",
  ].join("\n");
}

export const localResultsBranch = (runId: string) => `runstack/results/${runId}`;

/** Fetches the remote branch into its tracking ref; null when it does not exist (yet) on the remote. */
async function fetchTip(git: Git, remote: string, branch: string): Promise<string | null> {
  const tracking = `refs/remotes/${remote}/${branch}`;
  const r = await git.tryRun(["fetch", "--no-tags", "--quiet", remote, `+refs/heads/${branch}:${tracking}`]);
  if (!r.ok) {
    if (!/couldn't find remote ref/i.test(r.error.stderr)) throw r.error;
    await git.tryRun(["update-ref", "-d", tracking]);
    return null;
  }
  const tip = (await git.run(["rev-parse", "--verify", `${tracking}^{commit}`])).trim();
  // Never build a rebase on a garbled answer.
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(tip))
    throw new GitCommandError({
      dir: git.dir,
      args: ["rev-parse", tracking],
      stderr: `not a commit id: "${tip}"`,
    });
  return tip;
}

const revParse = async (git: Git, rev: string) => {
  const r = await git.tryRun(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
  return r.ok ? r.out.trim() : null;
};

const isAncestor = async (git: Git, a: string, b: string) =>
  (await git.tryRun(["merge-base", "--is-ancestor", a, b])).ok;

/** True when the branch exists and its tip commit has one parent and changes only the results folder. */
async function holdsResultCommit(git: Git, branch: string, resultsDir: string): Promise<boolean> {
  if ((await revParse(git, `refs/heads/${branch}`)) === null) return false;
  const parents = (await git.run(["rev-list", "--parents", "-n", "1", `refs/heads/${branch}`]))
    .trim()
    .split(" ");
  if (parents.length !== 2) return false;
  const files = (
    await git.run(["diff-tree", "--no-commit-id", "--name-only", "-r", "-z", `refs/heads/${branch}`])
  )
    .split("\0")
    .filter(Boolean);
  return files.length > 0 && files.every((f) => inside(f, resultsDir));
}

/** Puts the one result commit of the local branch onto the remote tip (a conflict is permanent). */
async function rebaseOnto(wt: Git, tip: string): Promise<void> {
  if ((await revParse(wt, "HEAD~1")) === tip) return;
  const r = await wt.tryRun(["rebase", "--no-verify", "--onto", tip, "HEAD~1"]);
  if (!r.ok) {
    await wt.tryRun(["rebase", "--abort"]);
    throw new RunstackError(
      "PUSH_FAILED",
      `rebasing the results commit onto ${tip} conflicted: ${r.error.stderr}`,
      {
        hint: "another commit on the results branch touched this run's folder; run ids must be unique",
        cause: r.error,
      },
    );
  }
}

/**
 * Makes the local branch = base + exactly one commit of the results folder. Returns false when the
 * folder's content is already in base (published before): then there is nothing to commit.
 */
async function commitInWorktree(o: {
  wt: Git;
  wtDir: string;
  repoDir: string;
  resultsDir: string;
  message: string;
  reused: boolean;
}): Promise<boolean> {
  await rm(path.join(o.wtDir, o.resultsDir), { recursive: true, force: true });
  await cp(path.join(o.repoDir, o.resultsDir), path.join(o.wtDir, o.resultsDir), { recursive: true });
  await o.wt.run(["add", "-A", "--", o.resultsDir]);
  const staged = (await o.wt.run(["diff", "--cached", "--name-only", "-z"])).split("\0").filter(Boolean);
  const stray = staged.filter((p) => !inside(p, o.resultsDir));
  if (stray.length > 0)
    throw refuse(`staged paths outside ${o.resultsDir}/: ${stray.join(", ")}`, "report this bug");
  if (staged.length > 0) {
    await o.wt.run(["commit", "--no-verify", "--quiet", ...(o.reused ? ["--amend"] : []), "-m", o.message]);
    return true;
  }
  if (o.reused) return true;
  const touched = (await o.wt.run(["log", "-1", "--format=%H", "HEAD", "--", o.resultsDir])).trim();
  if (touched === "")
    throw refuse(
      `every file under ${o.resultsDir}/ is gitignored on the results branch`,
      "un-ignore results/",
    );
  return false;
}

export async function publishResults(opts: PublishOptions): Promise<PublishResult> {
  checkNames(opts);
  const { repoDir, resultsDir, branch, runId } = opts;
  const remote = opts.remote ?? "origin";
  const log = (line: string) => opts.log?.(redactSecrets(line, [opts.sshCommand]));
  const git = (dir: string) => openGit({ dir, sshCommand: opts.sshCommand, identity: opts.identity });
  const repo = git(repoDir);
  const local = localResultsBranch(runId);

  if (!(await repo.tryRun(["check-ref-format", "--branch", branch])).ok)
    throw refuse(
      `results branch ${JSON.stringify(branch)} is not a valid branch name`,
      "fix the results branch",
    );
  await checkResultsFolder(repoDir, resultsDir);
  await refuseStrayChanges(repo, resultsDir, repoDir);

  // A branch left by an earlier attempt (failed push, rebooted VM) is reused when it holds its
  // result commit; one left before committing (crash in between) is rebuilt, never amended onto.
  const reused = await holdsResultCommit(repo, local, resultsDir);
  if (!reused) {
    await repo.tryRun(["branch", "-D", local]);
    // Offline-safe base: the last known tip, else the pinned commit (the branch does not exist yet).
    const base = (await revParse(repo, `refs/remotes/${remote}/${branch}`)) ?? (await revParse(repo, "HEAD"));
    if (base === null) throw refuse(`${repoDir} has no commit checked out`, "clone the repository first");
    await repo.run(["branch", "--no-track", local, base]);
  }

  await repo.run(["worktree", "prune"]);
  const wtDir = await mkdtemp(path.join(tmpdir(), `runstack-publish-${runId}-`));
  try {
    // Sparse: the results branch accumulates every run's files (models too); only ours are checked out.
    await repo.run(["worktree", "add", "--force", "--quiet", "--no-checkout", wtDir, local]);
    const wt = git(wtDir);
    await wt.run(["sparse-checkout", "set", "--no-cone", `/${resultsDir}/`]);
    await wt.run(["read-tree", "-mu", "HEAD"]);
    const committed = await commitInWorktree({
      wt,
      wtDir,
      repoDir,
      resultsDir,
      message: opts.message,
      reused,
    });
    if (!committed) {
      const commit = (await wt.run(["log", "-1", "--format=%H", "HEAD", "--", resultsDir])).trim();
      await wt.run(["checkout", "--quiet", "--detach"]);
      await repo.run(["branch", "-D", local]);
      log(`publish: ${resultsDir} is already on ${branch} in ${commit}; nothing to push`);
      return { commit, attempts: 0 };
    }
    const localCommit = (await wt.run(["rev-parse", "HEAD"])).trim();
    log(`publish: committed ${resultsDir} as ${localCommit} on local branch ${local}`);
    return await pushWithRetry({ opts, wt, remote, local, localCommit, log });
  } finally {
    await repo.tryRun(["worktree", "remove", "--force", wtDir]);
    await rm(wtDir, { recursive: true, force: true });
    await repo.tryRun(["worktree", "prune"]);
  }
}

async function pushWithRetry(o: {
  opts: PublishOptions;
  wt: Git;
  remote: string;
  local: string;
  localCommit: string;
  log: (line: string) => void;
}): Promise<PublishResult> {
  const { opts, wt, remote, log } = o;
  const { branch, resultsDir } = opts;
  let attempts = 0;
  let alreadyThere: string | null = null;
  try {
    await retry(
      async (attempt) => {
        attempts = attempt;
        const tip = await fetchTip(wt, remote, branch);
        if (tip !== null) {
          await rebaseOnto(wt, tip);
          if (await isAncestor(wt, "HEAD", tip)) {
            alreadyThere = (await wt.run(["log", "-1", "--format=%H", "HEAD", "--", resultsDir])).trim();
            return;
          }
        }
        // No '+' and no --force: a moved tip must be rejected, then fetched and rebased onto.
        await wt.run(["push", "--no-verify", "--quiet", remote, `HEAD:refs/heads/${branch}`]);
      },
      {
        ...(opts.retry ?? DEFAULT_PUBLISH_RETRY),
        rand: opts.rand,
        sleep: opts.sleep,
        isRetryable: (e) => e instanceof GitCommandError && !isPermanentGitFailure(e.stderr),
        onRetry: ({ attempt, error, delayMs }) =>
          log(`publish: attempt ${attempt} failed (${firstLine(error)}); retrying in ${delayMs} ms`),
      },
    );
  } catch (e) {
    const localCommit = (await revParse(wt, "HEAD")) ?? o.localCommit;
    const lastError = e instanceof GitCommandError ? e.stderr : e instanceof Error ? e.message : String(e);
    log(`publish: giving up after ${attempts} attempt(s); results stay on local branch ${o.local}`);
    throw new PushFailedError({ attempts, localBranch: o.local, localCommit, lastError, cause: e });
  }
  if (alreadyThere !== null) {
    log(`publish: ${resultsDir} is already on ${branch} in ${alreadyThere}`);
    return { commit: alreadyThere, attempts: attempts - 1 };
  }
  const commit = (await wt.run(["rev-parse", "HEAD"])).trim();
  log(`publish: pushed ${commit} to ${remote}/${branch} after ${attempts} attempt(s)`);
  return { commit, attempts };
}

/** The line that says what went wrong, not git's "To <url>" preamble. */
const firstLine = (e: unknown) => {
  const lines = (e instanceof GitCommandError ? e.stderr : String(e)).split("\n").map((l) => l.trim());
  return (
    lines.find((l) => /rejected|fatal|error|denied|refused|timed out|closed|^ssh:/i.test(l)) ??
    lines.find(Boolean) ??
    "?"
  );
};
