import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { captureGit, MAX_DIFF_BYTES } from "./git.js";
import { captureProvenance, gpuNames, KEY_PACKAGES } from "./provenance.js";
import { buildRecord } from "./schema.js";
import { sampleInputs } from "./testing.js";

/** Real git repositories in temp dirs; config is local to each repo so the user's never matters. */
let tmp: string;
let savedCeiling: string | undefined;

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

function newRepo(name = "repo"): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.email", "test@example.com");
  git(dir, "config", "user.name", "Test");
  git(dir, "config", "commit.gpgsign", "false");
  writeFileSync(join(dir, "a.txt"), "one\n");
  git(dir, "add", "a.txt");
  git(dir, "commit", "-q", "-m", "first");
  return dir;
}

beforeAll(() => {
  // Keep git from finding a repository above the temp dir (so "not a checkout" means it).
  savedCeiling = process.env.GIT_CEILING_DIRECTORIES;
  process.env.GIT_CEILING_DIRECTORIES = tmpdir();
});
afterAll(() => {
  if (savedCeiling === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
  else process.env.GIT_CEILING_DIRECTORIES = savedCeiling;
});
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "runstack-prov-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe("git provenance from real repositories", () => {
  it("a clean checkout is not dirty and has no diff", async () => {
    const dir = newRepo();
    const { git: g, reason } = await captureGit({ cwd: dir });
    expect(reason).toBeNull();
    expect(g).toEqual({
      remote: null,
      branch: "main",
      commit: git(dir, "rev-parse", "HEAD"),
      dirty: false,
      untracked: [],
      diff: null,
      diffTruncated: false,
    });
  });

  it("a modified tracked file makes it dirty and the diff shows the change", async () => {
    const dir = newRepo();
    writeFileSync(join(dir, "a.txt"), "one\ntwo\n");
    const { git: g } = await captureGit({ cwd: dir });
    expect(g?.dirty).toBe(true);
    expect(g?.diff).toContain("+two");
    expect(g?.diff).toContain("a.txt");
    expect(g?.diffTruncated).toBe(false);
  });

  it("staged changes count too (diff against HEAD)", async () => {
    const dir = newRepo();
    writeFileSync(join(dir, "b.txt"), "staged content\n");
    git(dir, "add", "b.txt");
    const { git: g } = await captureGit({ cwd: dir });
    expect(g?.dirty).toBe(true);
    expect(g?.diff).toContain("+staged content");
  });

  it("untracked files are listed by name (content never recorded) and make it dirty", async () => {
    const dir = newRepo();
    mkdirSync(join(dir, "notes"));
    writeFileSync(join(dir, "notes", "todo me.txt"), "private-content-xyz\n");
    const { git: g } = await captureGit({ cwd: dir });
    expect(g?.dirty).toBe(true);
    expect(g?.untracked).toEqual(["notes/todo me.txt"]);
    expect(JSON.stringify(g)).not.toContain("private-content-xyz");
  });

  it("the VM path skips the diff but still says dirty", async () => {
    const dir = newRepo();
    writeFileSync(join(dir, "a.txt"), "changed\n");
    const { git: g } = await captureGit({ cwd: dir, includeDiff: false });
    expect(g?.dirty).toBe(true);
    expect(g?.diff).toBeNull();
  });

  it("a diff above 1 MiB is truncated with a marker", async () => {
    const dir = newRepo();
    writeFileSync(join(dir, "a.txt"), `${"line of text\n".repeat(120_000)}`);
    const { git: g } = await captureGit({ cwd: dir });
    expect(g?.diffTruncated).toBe(true);
    expect(Buffer.byteLength(g!.diff!)).toBeLessThan(MAX_DIFF_BYTES + 200);
    expect(g?.diff).toMatch(/\[runstack: diff truncated: kept \d+ of \d+ bytes\]\n$/);
  });

  it("the origin URL is recorded without credentials", async () => {
    const dir = newRepo();
    git(dir, "remote", "add", "origin", "https://alice:hunter2@github.com/org/runstack.git");
    const { git: g } = await captureGit({ cwd: dir });
    expect(g?.remote).toBe("https://github.com/org/runstack.git");
    expect(JSON.stringify(g)).not.toContain("hunter2");
  });

  it("a detached HEAD (as on a VM at a pinned commit) has branch null", async () => {
    const dir = newRepo();
    git(dir, "checkout", "-q", "--detach", "HEAD");
    const { git: g } = await captureGit({ cwd: dir });
    expect(g?.branch).toBeNull();
    expect(g?.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it("works from a subdirectory of the checkout", async () => {
    const dir = newRepo();
    mkdirSync(join(dir, "sub"));
    const { git: g } = await captureGit({ cwd: join(dir, "sub") });
    expect(g?.commit).toBe(git(dir, "rev-parse", "HEAD"));
  });

  it("not a git checkout: git null with the reason, no throw", async () => {
    const plain = join(tmp, "plain");
    mkdirSync(plain);
    expect(await captureGit({ cwd: plain })).toEqual({ git: null, reason: `not a git checkout: ${plain}` });
  });

  it("a repository without commits and a missing directory are reasons too", async () => {
    const empty = join(tmp, "empty");
    mkdirSync(empty);
    git(empty, "init", "-q");
    expect((await captureGit({ cwd: empty })).reason).toMatch(/no commit yet/);
    expect((await captureGit({ cwd: join(tmp, "gone") })).reason).toMatch(/does not exist/);
  });
});

describe("captureProvenance", () => {
  it("records packages from node_modules, the lockfile hash and the host", async () => {
    const dir = newRepo();
    mkdirSync(join(dir, "node_modules", "@tensorflow", "tfjs-core"), { recursive: true });
    mkdirSync(join(dir, "node_modules", "zod"), { recursive: true });
    writeFileSync(
      join(dir, "node_modules", "@tensorflow", "tfjs-core", "package.json"),
      '{"version":"4.22.0"}',
    );
    writeFileSync(join(dir, "node_modules", "zod", "package.json"), '{"name":"zod","version":"4.1.0"}');
    writeFileSync(join(dir, "package.json"), "{}");
    writeFileSync(join(dir, "package-lock.json"), "lock\n");
    mkdirSync(join(dir, "sub"));
    const p = await captureProvenance({ cwd: join(dir, "sub"), argv: ["run", "--config", "x.yaml"] });
    expect(p.command).toEqual({ argv: ["run", "--config", "x.yaml"], cwd: join(dir, "sub") });
    expect(p.packages.versions["zod"]).toBe("4.1.0");
    expect(p.packages.versions["@tensorflow/tfjs-core"]).toBe("4.22.0");
    expect(p.packages.versions["@tensorflow/tfjs-node-gpu"]).toBeNull();
    for (const k of KEY_PACKAGES) expect(k in p.packages.versions).toBe(true);
    expect(Object.keys(p.packages.versions)).toEqual(Object.keys(p.packages.versions).sort());
    expect(p.packages.lockfileSha256).toBe(
      execFileSync("sha256sum", [join(dir, "package-lock.json")], { encoding: "utf8" }).split(" ")[0],
    );
    expect(p.packages.node).toBe(process.version);
    expect(p.host.cpus).toBeGreaterThan(0);
    expect(p.host.memoryBytes).toBeGreaterThan(0);
    expect(Array.isArray(p.host.gpu)).toBe(true);
  });

  it("no environment variable value ends up in a record", async () => {
    const dir = newRepo();
    const names = ["RUNSTACK_TEST_SECRET", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY"];
    const sentinels = names.map(() => `sentinel-${randomBytes(12).toString("hex")}`);
    const saved = names.map((n) => process.env[n]);
    names.forEach((n, i) => {
      process.env[n] = sentinels[i];
    });
    try {
      writeFileSync(join(dir, "a.txt"), "dirty\n");
      const provenance = await captureProvenance({ cwd: dir, argv: ["run"] });
      const json = JSON.stringify(buildRecord({ ...sampleInputs(), provenance }));
      for (const s of sentinels) expect(json).not.toContain(s);
      for (const n of names) expect(json).not.toContain(n);
    } finally {
      names.forEach((n, i) => {
        if (saved[i] === undefined) delete process.env[n];
        else process.env[n] = saved[i];
      });
    }
  });

  it("a machine without nvidia-smi has no GPUs", async () => {
    expect(await gpuNames(join(tmp, "no-such-nvidia-smi"))).toEqual([]);
  });
});
