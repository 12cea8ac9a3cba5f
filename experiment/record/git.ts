import { existsSync } from "node:fs";
import { simpleGit } from "simple-git";
import type { GitInfo } from "./schema.js";

/** Diffs above this are cut: a record must stay small enough to read and to push. */
export const MAX_DIFF_BYTES = 1024 * 1024;

export type GitCapture = { git: GitInfo; reason: null } | { git: null; reason: string };

/**
 * Remove credentials from a remote URL. For http(s) any user info goes (a bare token is as
 * secret as user:password); for other schemes only a password goes (ssh://git@host is not a
 * secret). scp-like `git@host:org/repo` has no password field and is kept as is.
 */
export function stripUrlCredentials(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@(.*)$/i.exec(url);
  if (!m) return url;
  const [, scheme, userinfo, rest] = m as unknown as [string, string, string, string];
  if (/^(https?|ftps?):\/\/$/i.test(scheme)) return `${scheme}${rest}`;
  const user = userinfo.split(":")[0]!;
  return user ? `${scheme}${user}@${rest}` : `${scheme}${rest}`;
}

/** Parse `git status --porcelain=v1 -z`: tracked changes vs untracked names. */
export function parsePorcelain(out: string): { changed: string[]; untracked: string[] } {
  const changed: string[] = [];
  const untracked: string[] = [];
  const fields = out.split("\0");
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    const path = entry.slice(3);
    if (xy === "??") untracked.push(path);
    else changed.push(path);
    // Renames and copies carry the original path in the next field.
    if (xy[0] === "R" || xy[0] === "C") i++;
  }
  return { changed, untracked };
}

/** Cut `text` to at most `maxBytes` UTF-8 bytes (on a character boundary) plus a visible marker. */
export function truncateDiff(text: string, maxBytes = MAX_DIFF_BYTES): { diff: string; truncated: boolean } {
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= maxBytes) return { diff: text, truncated: false };
  let end = maxBytes;
  // Step back over UTF-8 continuation bytes so no character is split.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  const kept = buf.subarray(0, end).toString("utf8");
  return {
    diff: `${kept}\n[runstack: diff truncated: kept ${end} of ${buf.length} bytes]\n`,
    truncated: true,
  };
}

/**
 * Git state of the checkout containing `cwd`. Never throws: a directory that is not a checkout
 * (or a git that cannot run) is recorded as git: null with the reason, because a run must not fail
 * for want of provenance. `includeDiff: false` skips the diff (a VM's clone is pinned and clean).
 */
export async function captureGit(opts: { cwd: string; includeDiff?: boolean }): Promise<GitCapture> {
  if (!existsSync(opts.cwd)) return { git: null, reason: `directory does not exist: ${opts.cwd}` };
  try {
    const git = simpleGit({ baseDir: opts.cwd });
    if (!(await git.checkIsRepo())) return { git: null, reason: `not a git checkout: ${opts.cwd}` };
    let commit: string;
    try {
      commit = (await git.revparse(["--verify", "HEAD"])).trim();
    } catch {
      return { git: null, reason: `git repository at ${opts.cwd} has no commit yet` };
    }
    const branchName = (await git.raw(["rev-parse", "--abbrev-ref", "HEAD"])).trim();
    const remotes = await git.getRemotes(true);
    const origin = remotes.find((r) => r.name === "origin");
    const status = parsePorcelain(await git.raw(["status", "--porcelain=v1", "-z", "--untracked-files=all"]));
    const dirty = status.changed.length > 0 || status.untracked.length > 0;
    let diff: string | null = null;
    let diffTruncated = false;
    if (dirty && opts.includeDiff !== false && status.changed.length > 0) {
      const cut = truncateDiff(await git.raw(["diff", "--no-color", "--no-ext-diff", "HEAD"]));
      diff = cut.diff;
      diffTruncated = cut.truncated;
    }
    return {
      git: {
        remote: origin?.refs.fetch ? stripUrlCredentials(origin.refs.fetch) : null,
        branch: branchName === "HEAD" ? null : branchName,
        commit,
        dirty,
        untracked: status.untracked,
        diff,
        diffTruncated,
      },
      reason: null,
    };
  } catch (e) {
    // Error text from git may quote the remote URL; strip credentials from it too.
    const msg = (e as Error).message.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, stripUrlCredentials);
    return { git: null, reason: `git failed in ${opts.cwd}: ${msg.split("\n")[0]}` };
  }
}
