import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { RunstackError } from "../../configs/errors.js";
import type { ExperimentConfig } from "../../configs/experiment.js";
import { loadConfig, parseConfigText } from "../../configs/load.js";
import type { GitPort } from "./git.js";
import { requireSshRemote } from "./remote-url.js";

/**
 * The git preconditions of a launch. The VM clones the pinned commit from the remote an hour or
 * more later, so everything it needs must be committed and pushed now.
 */

export const REMOTE = "origin";
/** Stack files never reach the VM (it clones the pinned commit), so they may be uncommitted. */
const IGNORED_CHANGES = /^Pulumi\.run-[^/]+\.yaml$/;
const MAX_LISTED = 20;

export interface RepoState {
  root: string;
  commit: string;
  repoUrl: string;
  userEmail?: string;
}

export async function checkRepo(git: GitPort): Promise<RepoState> {
  const root = await git.root();
  const dirty = (await git.changedFiles()).filter((f) => !IGNORED_CHANGES.test(f));
  if (dirty.length > 0) {
    const shown = dirty.slice(0, MAX_LISTED).map((f) => `  ${f}`);
    if (dirty.length > MAX_LISTED) shown.push(`  … and ${dirty.length - MAX_LISTED} more`);
    throw new RunstackError(
      "GIT_DIRTY",
      `the working tree has uncommitted changes; the VM would run the commit without them:\n${shown.join("\n")}`,
      { hint: "commit (or stash) them and git push, then launch again" },
    );
  }
  const repoUrl = requireSshRemote(await git.remoteUrl(REMOTE), REMOTE);
  const commit = await git.head();
  await git.fetch(REMOTE);
  const containing = await git.remoteBranchesContaining(commit, REMOTE);
  if (containing.length === 0) {
    throw new RunstackError(
      "GIT_COMMIT_NOT_ON_REMOTE",
      `HEAD ${commit.slice(0, 12)} is not on any branch of '${REMOTE}' (checked after git fetch); the VM clones from there and would fail`,
      { hint: "git push first (e.g. git push origin HEAD), then launch again" },
    );
  }
  return { root, commit, repoUrl, userEmail: await git.userEmail() };
}

export interface PinnedConfig {
  /** Repository-relative, '/'-separated: what the VM reads at the commit. */
  path: string;
  sha256: string;
  config: ExperimentConfig;
}

/** Validates the config file and pins it: it must exist at the commit, and the hash is of those bytes. */
export async function pinConfig(
  git: GitPort,
  repo: RepoState,
  configPath: string,
  cwd: string,
): Promise<PinnedConfig> {
  const given = resolve(cwd, configPath);
  const loaded = loadConfig(given);
  // git reports the top level with symlinks resolved; compare like with like.
  const abs = existsSync(given) ? realpathSync(given) : given;
  const rel = relative(realpathSync(repo.root), abs);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `${configPath} is outside the repository ${repo.root}; the VM only has the repository`,
      {
        hint: "move the config under configs/ and commit it",
      },
    );
  }
  const path = rel.split(sep).join("/");
  const bytes = await git.readAt(repo.commit, path);
  if (bytes === undefined) {
    throw new RunstackError(
      "CONFIG_NOT_FOUND",
      `${path} is not in commit ${repo.commit.slice(0, 12)} (untracked or git-ignored?)`,
      {
        hint: `git add ${path} && git commit && git push, then launch again`,
      },
    );
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== loaded.sha256) {
    throw new RunstackError(
      "GIT_DIRTY",
      `${path} differs from its committed version (sha256 ${loaded.sha256.slice(0, 12)} on disk, ${sha256.slice(0, 12)} at HEAD)`,
      {
        hint: "commit and push the file as it is on disk (check .gitattributes line-ending rules)",
      },
    );
  }
  return {
    path,
    sha256,
    config: parseConfigText(bytes.toString("utf8"), `${path}@${repo.commit.slice(0, 12)}`),
  };
}
