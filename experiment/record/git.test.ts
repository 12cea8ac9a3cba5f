import { describe, expect, it } from "vitest";
import { parsePorcelain, stripUrlCredentials, truncateDiff } from "./git.js";

describe("stripUrlCredentials", () => {
  it.each([
    ["https://user:s3cret@github.com/org/repo.git", "https://github.com/org/repo.git"],
    ["https://ghp_token123@github.com/org/repo.git", "https://github.com/org/repo.git"],
    ["https://x-access-token:ghs_abc@github.com/org/repo", "https://github.com/org/repo"],
    ["http://u:p@host:8080/r.git", "http://host:8080/r.git"],
    ["ssh://git:pw@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"],
    ["ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"],
    ["git@github.com:org/repo.git", "git@github.com:org/repo.git"],
    ["https://github.com/org/repo.git", "https://github.com/org/repo.git"],
    ["/srv/git/repo.git", "/srv/git/repo.git"],
    ["https://github.com/org/re@po.git", "https://github.com/org/re@po.git"],
  ])("%s → %s", (input, expected) => {
    expect(stripUrlCredentials(input)).toBe(expected);
  });
});

describe("parsePorcelain", () => {
  it("separates tracked changes from untracked names, including renames and odd names", () => {
    const out = [
      " M src/a.ts",
      "A  new.ts",
      "R  to.ts",
      "from.ts",
      "?? notes/with space.txt",
      "?? tab\there",
      "",
    ].join("\0");
    expect(parsePorcelain(out)).toEqual({
      changed: ["src/a.ts", "new.ts", "to.ts"],
      untracked: ["notes/with space.txt", "tab\there"],
    });
  });

  it("reads a clean tree as no change", () => {
    expect(parsePorcelain("")).toEqual({ changed: [], untracked: [] });
  });
});

describe("truncateDiff", () => {
  it("keeps a diff under the limit untouched", () => {
    expect(truncateDiff("abc", 3)).toEqual({ diff: "abc", truncated: false });
  });

  it("cuts above the limit with a visible marker, never splitting a character", () => {
    const text = `${"a".repeat(9)}é${"b".repeat(20)}`; // é is 2 bytes at bytes 9-10
    const { diff, truncated } = truncateDiff(text, 10);
    expect(truncated).toBe(true);
    expect(diff.startsWith(`${"a".repeat(9)}\n`)).toBe(true);
    expect(diff).toContain("[runstack: diff truncated: kept 9 of 31 bytes]");
    expect(diff).not.toContain("\uFFFD");
  });
});
