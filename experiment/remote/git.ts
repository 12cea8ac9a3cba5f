import { type SimpleGit, simpleGit } from "simple-git";
import { RunstackError } from "../../configs/errors.js";

/**
 * Thin adapter over simple-git for the VM's publish step. The deploy key reaches ssh only through
 * GIT_SSH_COMMAND in the git child's environment: never in argv (visible in `ps` to every user),
 * never in a remote URL (stored in .git/config, echoed in errors), never in a log line.
 */

export interface GitIdentity {
  name: string;
  email: string;
}

/** Who authors result commits: set per command through the environment, never in git config. */
export const RUNSTACK_IDENTITY: GitIdentity = { name: "runstack", email: "runstack@localhost" };

/** Single-quotes a word for the POSIX shell git runs GIT_SSH_COMMAND with. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface SshCommandOptions {
  /** Private key file (mode 0600). Its path travels in ssh's argv; its content never leaves the file. */
  keyPath: string;
  /** known_hosts holding the server's host key: we never trust on first use. */
  knownHostsPath: string;
  connectTimeoutSec?: number;
}

/** The GIT_SSH_COMMAND value for a deploy key: non-interactive, this key only, pinned host key. */
export function deployKeySshCommand(opts: SshCommandOptions): string {
  return [
    "ssh",
    // Ignore ~/.ssh/config and /etc/ssh/ssh_config: the command must behave the same on every host.
    "-F",
    "/dev/null",
    "-i",
    shellQuote(opts.keyPath),
    "-o IdentitiesOnly=yes",
    "-o StrictHostKeyChecking=yes",
    `-o UserKnownHostsFile=${shellQuote(opts.knownHostsPath)}`,
    "-o GlobalKnownHostsFile=/dev/null",
    "-o BatchMode=yes",
    `-o ConnectTimeout=${opts.connectTimeoutSec ?? 15}`,
    // A half-dead connection must fail (and be retried) rather than hang until the VM's deadline.
    "-o ServerAliveInterval=15",
    "-o ServerAliveCountMax=4",
  ].join(" ");
}

const PRIVATE_KEY_BLOCK =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;

/** Removes private-key blocks and the given literal secrets from text meant for errors and logs. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(PRIVATE_KEY_BLOCK, "[redacted private key]");
  for (const s of secrets) if (s.length >= 8) out = out.replaceAll(s, "[redacted]");
  return out;
}

/** A failed git command: code GIT, message redacted, stderr kept (redacted) for retry decisions. */
export class GitCommandError extends RunstackError {
  readonly args: readonly string[];
  readonly stderr: string;
  constructor(opts: { dir: string; args: readonly string[]; stderr: string }) {
    const stderr = redactSecrets(opts.stderr).trim();
    // Only the subcommand and its first flag: later args can be long (commit messages).
    const what = ["git", ...opts.args.slice(0, 2)].join(" ");
    super("GIT", `${what} failed in ${opts.dir}: ${stderr || "(no output)"}`);
    this.name = "GitCommandError";
    this.args = opts.args;
    this.stderr = stderr;
  }
}

export interface GitOptions {
  dir: string;
  /** GIT_SSH_COMMAND for commands that talk to the remote (see deployKeySshCommand). */
  sshCommand?: string;
  identity?: GitIdentity;
  /** Kill a git process that printed nothing for this long (a hung network must not eat the deadline). */
  silenceTimeoutMs?: number;
}

export interface Git {
  readonly dir: string;
  /** Runs `git <args>` in dir; resolves stdout, rejects with GitCommandError. */
  run(args: readonly string[]): Promise<string>;
  /** Like run, but a non-zero exit resolves as { ok: false } instead of throwing. */
  tryRun(args: readonly string[]): Promise<{ ok: true; out: string } | { ok: false; error: GitCommandError }>;
}

/**
 * The child's whole environment, built from scratch: inheriting process.env would carry GIT_DIR,
 * GIT_WORK_TREE or a stray GIT_SSH_COMMAND from the caller into commands that must not see them.
 */
export function gitEnv(opts: Pick<GitOptions, "sshCommand" | "identity">): Record<string, string> {
  const id = opts.identity ?? RUNSTACK_IDENTITY;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    // Stable English messages: retry decisions match on git's and ssh's stderr.
    LC_ALL: "C",
    LANG: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: id.name,
    GIT_AUTHOR_EMAIL: id.email,
    GIT_COMMITTER_NAME: id.name,
    GIT_COMMITTER_EMAIL: id.email,
  };
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  if (opts.sshCommand !== undefined) env.GIT_SSH_COMMAND = opts.sshCommand;
  return env;
}

export function openGit(opts: GitOptions): Git {
  const sg: SimpleGit = simpleGit({
    baseDir: opts.dir,
    config: [
      // The project's hooks (lint, tests via husky & co.) must not run on the VM's result commit,
      // and a user's signing setup must not make it fail.
      "core.hooksPath=/dev/null",
      "commit.gpgsign=false",
      // No background gc racing the publish or outliving the VM.
      "gc.auto=0",
    ],
    // simple-git blocks GIT_SSH_COMMAND and core.hooksPath by default because an attacker-chosen
    // value runs a program; here both values are ours, built above.
    unsafe: { allowUnsafeSshCommand: true, allowUnsafeHooksPath: true },
    timeout: { block: opts.silenceTimeoutMs ?? 600_000 },
    // The default also ends a task 50 ms after the process exits, even if its stdout is not drained
    // yet: on a loaded machine that returned "" for `rev-parse`. Wait for the streams to close.
    completion: { onClose: true, onExit: false },
    // simple-git's default counts a non-zero exit as success when stderr is empty, which would make
    // `rev-parse --quiet` and `merge-base --is-ancestor` answer "yes" to everything.
    errors: (error, result) => {
      if (error !== undefined || result.exitCode === 0) return error;
      const text = Buffer.concat([...result.stdErr, ...result.stdOut])
        .toString("utf8")
        .trim();
      return Buffer.from(text || `exit code ${result.exitCode}`);
    },
  }).env(gitEnv(opts));

  const run = async (args: readonly string[]): Promise<string> => {
    try {
      return await sg.raw([...args]);
    } catch (e) {
      const stderr = e instanceof Error ? e.message : String(e);
      throw new GitCommandError({ dir: opts.dir, args, stderr });
    }
  };
  return {
    dir: opts.dir,
    run,
    async tryRun(args) {
      try {
        return { ok: true, out: await run(args) };
      } catch (e) {
        if (e instanceof GitCommandError) return { ok: false, error: e };
        throw e;
      }
    },
  };
}

/** Failures where trying again cannot help: wrong key, unknown host key, no such repository or branch rule. */
const PERMANENT = [
  /Permission denied \(publickey/,
  /Host key verification failed/,
  /REMOTE HOST IDENTIFICATION HAS CHANGED/,
  /Repository not found/i,
  /does not appear to be a git repository/,
  /protected branch|GH006|pre-receive hook declined/,
  /No such file or directory.*(identity|key)|Load key .*: (invalid format|bad permissions)/i,
];

export function isPermanentGitFailure(stderr: string): boolean {
  return PERMANENT.some((re) => re.test(stderr));
}
