import { RunstackError } from "../../configs/errors.js";

/**
 * The VM clones and pushes with a deploy key, which only works over SSH. An https remote would
 * make the launch look fine and the VM fail at clone time, so it is refused here with the
 * equivalent SSH URL to switch to.
 */

const SCP_LIKE = /^[\w.-]+@[\w.-]+:[^\s]+$/;
const SSH_URL = /^ssh:\/\/[^\s]+$/;

export function isSshUrl(url: string): boolean {
  return SCP_LIKE.test(url) || SSH_URL.test(url);
}

/** git@host:path for an https/http/git URL, or undefined when the URL is not host/path shaped. */
export function sshEquivalent(url: string): string | undefined {
  const m = /^(?:https?|git):\/\/(?:[^@/\s]+@)?([^/:\s]+)(?::\d+)?\/(.+?)\/?$/.exec(url);
  if (!m) return undefined;
  const [, host, path] = m as unknown as [string, string, string];
  return `git@${host}:${path.endsWith(".git") ? path : `${path}.git`}`;
}

/** The repoUrl for the stack file: `origin`'s URL, which must be SSH. */
export function requireSshRemote(url: string | undefined, remote = "origin"): string {
  if (url === undefined || url.trim() === "") {
    throw new RunstackError("GIT", `this repository has no '${remote}' remote; the VM clones from it`, {
      hint: `git remote add ${remote} git@github.com:<org>/<repo>.git && git push -u ${remote} HEAD`,
    });
  }
  const trimmed = url.trim();
  if (isSshUrl(trimmed)) return trimmed;
  const ssh = sshEquivalent(trimmed);
  throw new RunstackError(
    "GIT",
    `remote '${remote}' is ${trimmed}, but the VM clones and pushes with an SSH deploy key, so it needs an SSH URL`,
    {
      hint: ssh
        ? `git remote set-url ${remote} ${ssh}`
        : `set an SSH URL: git remote set-url ${remote} git@<host>:<org>/<repo>.git`,
    },
  );
}
