import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  deployKeySshCommand,
  gitEnv,
  isPermanentGitFailure,
  RUNSTACK_IDENTITY,
  redactSecrets,
  shellQuote,
} from "./git.js";

const sh = (script: string) => execFileSync("sh", ["-c", script], { encoding: "utf8" });

describe("deployKeySshCommand", () => {
  it("pins the key, the host key and non-interactive mode", () => {
    const cmd = deployKeySshCommand({ keyPath: "/run/key", knownHostsPath: "/run/known_hosts" });
    for (const opt of [
      "-i '/run/key'",
      "-o IdentitiesOnly=yes",
      "-o StrictHostKeyChecking=yes",
      "-o UserKnownHostsFile='/run/known_hosts'",
      "-o BatchMode=yes",
      "-F /dev/null",
    ])
      expect(cmd).toContain(opt);
    expect(cmd.startsWith("ssh ")).toBe(true);
  });

  it("survives paths with spaces and quotes when git hands it to the shell", () => {
    const keyPath = "/tmp/it's a key";
    const cmd = deployKeySshCommand({ keyPath, knownHostsPath: "/k h" });
    // Replace ssh by printf to see the words the shell really produces.
    const words = sh(`printf '%s\\n' ${cmd.slice("ssh ".length)}`)
      .trimEnd()
      .split("\n");
    expect(words[words.indexOf("-i") + 1]).toBe(keyPath);
    expect(words).toContain("UserKnownHostsFile=/k h");
  });
});

describe("shellQuote", () => {
  it.each(["plain", "with space", "it's", '$HOME `x` \\ "q"', ""])("round-trips %j through sh", (w) => {
    expect(sh(`printf '%s' ${shellQuote(w)}`)).toBe(w);
  });
});

// PEM markers built at runtime: these are fabricated strings, and a literal header in source trips
// secret scanners.
const marker = (edge: "BEGIN" | "END", kind: string) => `-----${edge} ${kind} PRIVATE ${"KEY"}-----`;

describe("redactSecrets", () => {
  const pem = `${marker("BEGIN", "OPENSSH")}\nb3BlbnNzaC1rZXktdjEAAAAA\n${marker("END", "OPENSSH")}`;
  it("removes private key blocks, even truncated ones, and literal secrets", () => {
    const out = redactSecrets(`before ${pem} after; token=supersecret123 ${marker("BEGIN", "RSA")}\nAAAA`, [
      "supersecret123",
    ]);
    expect(out).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
    expect(out).not.toContain("supersecret123");
    expect(out).not.toContain("AAAA");
    expect(out).toContain("before [redacted private key] after");
  });
  it("leaves ordinary text alone", () => {
    expect(redactSecrets("fatal: could not read from remote")).toBe("fatal: could not read from remote");
  });
});

describe("isPermanentGitFailure", () => {
  it.each([
    "git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.",
    "Host key verification failed.\nfatal: Could not read from remote repository.",
    "ERROR: Repository not found.",
    "remote: error: GH006: Protected branch update failed",
  ])("gives up at once on %j", (stderr) => expect(isPermanentGitFailure(stderr)).toBe(true));
  it.each([
    "ssh: connect to host 127.0.0.1 port 2222: Connection refused",
    "kex_exchange_identification: Connection closed by remote host",
    " ! [rejected]        HEAD -> results (fetch first)\nerror: failed to push some refs",
    " ! [remote rejected] HEAD -> results (cannot lock ref 'refs/heads/results')",
    "ssh: connect to host github.com port 22: Connection timed out",
  ])("retries %j", (stderr) => expect(isPermanentGitFailure(stderr)).toBe(false));
});

describe("gitEnv", () => {
  it("sets identity and the ssh command but nothing inherited from a caller's git state", () => {
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = "/somewhere/else";
    try {
      const env = gitEnv({ sshCommand: "ssh -i /k" });
      expect(env.GIT_SSH_COMMAND).toBe("ssh -i /k");
      expect(env.GIT_AUTHOR_NAME).toBe(RUNSTACK_IDENTITY.name);
      expect(env.GIT_COMMITTER_EMAIL).toBe(RUNSTACK_IDENTITY.email);
      expect(env.GIT_TERMINAL_PROMPT).toBe("0");
      expect(env.GIT_DIR).toBeUndefined();
      expect(gitEnv({}).GIT_SSH_COMMAND).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });
});
