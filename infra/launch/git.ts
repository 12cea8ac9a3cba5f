import { type SimpleGit, simpleGit } from "simple-git";
import { RunstackError } from "../../configs/errors.js";

/**
 * The git operations launch/status/reap need, behind an interface so planning stays testable.
 * The real adapter uses simple-git; tests use it too, against real temp repositories.
 */
export interface GitPort {
  /** Absolute path of the working tree's top level. */
  root(): Promise<string>;
  /** Paths (relative to the root) that are modified, staged, deleted or untracked. */
  changedFiles(): Promise<string[]>;
  head(): Promise<string>;
  /** The remote's URL as configured (not rewritten by url.*.insteadOf): what the VM will use. */
  remoteUrl(remote: string): Promise<string | undefined>;
  fetch(remote: string): Promise<void>;
  /** Remote-tracking branches (e.g. origin/main) that contain the commit. */
  remoteBranchesContaining(commit: string, remote: string): Promise<string[]>;
  /** Bytes of `path` at `rev`, or undefined when the rev or the path does not exist. */
  readAt(rev: string, path: string): Promise<Buffer | undefined>;
  userEmail(): Promise<string | undefined>;
}

async function wrap<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RunstackError) throw e;
    throw new RunstackError("GIT", `git ${what} failed: ${(e as Error).message.trim()}`, { cause: e });
  }
}

export function simpleGitPort(cwd: string): GitPort {
  const git: SimpleGit = simpleGit({ baseDir: cwd });
  return {
    root: () =>
      wrap("rev-parse --show-toplevel", async () => {
        try {
          return (await git.revparse(["--show-toplevel"])).trim();
        } catch (e) {
          throw new RunstackError("GIT", `${cwd} is not inside a git repository`, {
            hint: "run launch from a clone of the experiment repository",
            cause: e,
          });
        }
      }),
    changedFiles: () =>
      wrap("status", async () => {
        const st = await git.status(["--untracked-files=all"]);
        return st.files.map((f) => f.path);
      }),
    head: () => wrap("rev-parse HEAD", async () => (await git.revparse(["HEAD"])).trim()),
    remoteUrl: (remote) =>
      wrap("config", async () => {
        const v = await git.getConfig(`remote.${remote}.url`);
        return v.value ?? undefined;
      }),
    fetch: (remote) =>
      wrap(`fetch ${remote}`, async () => {
        await git.fetch(remote);
      }),
    remoteBranchesContaining: (commit, remote) =>
      wrap("branch -r --contains", async () => {
        const out = await git.raw(["branch", "-r", "--contains", commit]);
        return out
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l.startsWith(`${remote}/`) && !l.includes(" -> "));
      }),
    readAt: async (rev, path) => {
      try {
        await git.raw(["cat-file", "-e", `${rev}:${path}`]);
      } catch {
        return undefined;
      }
      return wrap(`show ${rev}:${path}`, () => git.showBuffer([`${rev}:${path}`]));
    },
    userEmail: async () => {
      try {
        return (await git.getConfig("user.email")).value ?? undefined;
      } catch {
        return undefined;
      }
    },
  };
}
