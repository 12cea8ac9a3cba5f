import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import { StackConfig } from "../../configs/stack.js";
import { isSshUrl, requireSshRemote, sshEquivalent } from "./remote-url.js";

describe("the repository URL the VM clones from", () => {
  it("accepts scp-like and ssh:// URLs, which the stack schema accepts too", () => {
    for (const url of [
      "git@github.com:acme/exp.git",
      "ssh://git@github.com/acme/exp.git",
      "git@gitlab.example.org:g/sub/r",
    ]) {
      expect(isSshUrl(url)).toBe(true);
      expect(requireSshRemote(url)).toBe(url);
      expect(StackConfig.shape.repoUrl.safeParse(url).success).toBe(true);
    }
  });

  it("refuses an https remote and names the equivalent SSH URL", () => {
    let err: unknown;
    try {
      requireSshRemote("https://github.com/acme/exp");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunstackError);
    expect((err as RunstackError).code).toBe("GIT");
    expect((err as RunstackError).message).toContain("https://github.com/acme/exp");
    expect((err as RunstackError).hint).toBe("git remote set-url origin git@github.com:acme/exp.git");
  });

  it("derives SSH equivalents for https URLs with credentials or ports", () => {
    expect(sshEquivalent("https://user@github.com/acme/exp.git")).toBe("git@github.com:acme/exp.git");
    expect(sshEquivalent("https://gitlab.example.org:8443/g/sub/r/")).toBe(
      "git@gitlab.example.org:g/sub/r.git",
    );
    expect(sshEquivalent("/srv/git/exp.git")).toBeUndefined();
  });

  it("refuses a missing remote and a local path with a hint", () => {
    expect(() => requireSshRemote(undefined)).toThrow(/no 'origin' remote/);
    expect(() => requireSshRemote("/srv/git/exp.git")).toThrow(/needs an SSH URL/);
  });
});
