import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type CliIo, main } from "./cli.js";
import { parseStackFile } from "./stack-file.js";
import {
  CONFIG_TEXT,
  type FakePulumi,
  makeDeployKey,
  makeFakePulumi,
  makeRepo,
  SSH_URL,
  type TempRepo,
} from "./testing/fixtures.js";

const REQUIRED = [
  "--project",
  "acme-ml-123",
  "--zone",
  "us-central1-a",
  "--data-image",
  "projects/acme-ml-123/global/images/data-v1",
];
const RUN_ID = "blobs-20261203-1345-aaaa";
const STACK_FILE = `Pulumi.run-${RUN_ID}.yaml`;

let repo: TempRepo;
let pulumi: FakePulumi;
beforeEach(() => {
  repo = makeRepo();
  pulumi = makeFakePulumi(repo.dir);
});
afterEach(() => repo.cleanup());

async function cli(argv: string[], env: NodeJS.ProcessEnv = pulumi.env) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    cwd: repo.work,
    env,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    now: () => new Date("2026-12-03T13:45:30Z"),
    random: () => 0,
  };
  const code = await main(argv, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const stackFiles = () => readdirSync(repo.work).filter((f) => f.startsWith("Pulumi.run-"));

describe("launch (real git repos, fake pulumi on PATH)", () => {
  it("writes a stack file pinned to the pushed commit that parses with StackConfig, and prints the commands", async () => {
    const r = await cli([
      "launch",
      "configs/blobs.yaml",
      ...REQUIRED,
      "--gpu",
      "nvidia-tesla-t4",
      "--spot",
      "--hours",
      "3",
    ]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(stackFiles()).toEqual([STACK_FILE]);
    const text = readFileSync(join(repo.work, STACK_FILE), "utf8");
    const raw = (parse(text) as { config: Record<string, unknown> }).config;
    // Fractional numbers are written as strings (Pulumi.yaml declares them `type: string`).
    expect(raw["runstack:maxRunHours"]).toBe("3");
    const stack = parseStackFile(text, STACK_FILE);
    expect(stack).toMatchObject({
      runId: RUN_ID,
      experimentConfig: "configs/blobs.yaml",
      configSha256: createHash("sha256").update(CONFIG_TEXT).digest("hex"),
      commit: repo.git("rev-parse", "HEAD"),
      repoUrl: SSH_URL,
      owner: "ada-l",
      gpuType: "nvidia-tesla-t4",
      gpuCount: 1,
      spot: true,
      maxRunHours: 3,
    });
    expect(r.out).toContain(`pulumi config set --secret runstack:deployKey -s run-${RUN_ID} < KEYFILE`);
    expect(r.out).toContain(`pulumi up --yes --non-interactive -s run-${RUN_ID}`);
    expect(r.out).toContain("PULUMI_CONFIG_PASSPHRASE");
    expect(pulumi.calls()).toEqual([]);
  });

  it("never overwrites an existing stack file (and ignores stack files when checking for a dirty tree)", async () => {
    expect((await cli(["launch", "configs/blobs.yaml", ...REQUIRED])).code).toBe(0);
    const before = readFileSync(join(repo.work, STACK_FILE), "utf8");
    const r = await cli(["launch", "configs/blobs.yaml", ...REQUIRED, "--hours", "1"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("[RECORD_EXISTS]");
    expect(readFileSync(join(repo.work, STACK_FILE), "utf8")).toBe(before);
  });

  it("refuses a dirty tree, listing the files, and writes nothing", async () => {
    repo.write("configs/blobs.yaml", `${CONFIG_TEXT}# edited\n`);
    repo.write("notes.txt", "untracked\n");
    const r = await cli(["launch", "configs/blobs.yaml", ...REQUIRED]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("[GIT_DIRTY]");
    expect(r.err).toContain("configs/blobs.yaml");
    expect(r.err).toContain("notes.txt");
    expect(stackFiles()).toEqual([]);
  });

  it("refuses a commit the remote does not have ('git push first') and writes nothing", async () => {
    repo.write("extra.ts", "export {};\n");
    repo.commitAll("not pushed");
    const r = await cli(["launch", "configs/blobs.yaml", ...REQUIRED]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("[GIT_COMMIT_NOT_ON_REMOTE]");
    expect(r.err).toContain("git push first");
    expect(stackFiles()).toEqual([]);
  });

  it("refuses an https origin and names the SSH URL to use", async () => {
    repo.git("remote", "set-url", "origin", "https://github.com/acme/exp.git");
    const r = await cli(["launch", "configs/blobs.yaml", ...REQUIRED]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("hint: git remote set-url origin git@github.com:acme/exp.git");
    expect(stackFiles()).toEqual([]);
  });

  it("refuses a config that is not in the commit (git-ignored)", async () => {
    repo.write(".gitignore", "configs/local.yaml\n");
    repo.commitAll("ignore local configs");
    repo.git("push", "-q", "origin", "main");
    repo.write("configs/local.yaml", CONFIG_TEXT);
    const r = await cli(["launch", "configs/local.yaml", ...REQUIRED]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/configs\/local.yaml is not in commit/);
    expect(stackFiles()).toEqual([]);
  });

  it("refuses an invalid experiment config and a missing required value, naming it", async () => {
    repo.write("configs/bad.yaml", CONFIG_TEXT.replace("rounds: 2", "rounds: 0"));
    repo.commitAll("bad");
    repo.git("push", "-q", "origin", "main");
    const bad = await cli(["launch", "configs/bad.yaml", ...REQUIRED]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("al.rounds");
    const missing = await cli(["launch", "configs/blobs.yaml", "--project", "acme-ml-123"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--data-image");
    expect(stackFiles()).toEqual([]);
  });

  it("--up runs init, the secret and up, passing the deploy key on stdin and never in argv or logs", async () => {
    const key = makeDeployKey(repo.dir);
    const r = await cli(["launch", "configs/blobs.yaml", ...REQUIRED, "--up", "--deploy-key", key.path]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const calls = pulumi.calls();
    const s = `run-${RUN_ID}`;
    expect(calls.map((c) => c.argv)).toEqual([
      ["version"],
      ["stack", "init", s, "--secrets-provider", "passphrase", "--no-select"],
      ["config", "set", "--secret", "runstack:deployKey", "-s", s],
      ["up", "--yes", "--non-interactive", "-s", s],
    ]);
    expect(calls[2]!.stdin).toBe(key.text);
    const keyBody = key.text.split("\n")[1]!;
    expect(keyBody.length).toBeGreaterThan(20);
    for (const c of calls) expect(c.argv.join(" ")).not.toContain(keyBody);
    for (const c of [calls[0]!, calls[1]!, calls[3]!]) expect(c.stdin).toBe("");
    expect(r.out).not.toContain(keyBody);
    expect(readFileSync(join(repo.work, STACK_FILE), "utf8")).not.toContain(keyBody);
  });

  it("--up needs a deploy key that is a private key, checked before writing", async () => {
    const noKey = await cli(["launch", "configs/blobs.yaml", ...REQUIRED, "--up"]);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain("--deploy-key");
    const pub = join(repo.dir, "key.pub");
    writeFileSync(pub, "ssh-ed25519 AAAA test\n");
    const wrong = await cli(["launch", "configs/blobs.yaml", ...REQUIRED, "--up", "--deploy-key", pub]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain("does not look like a private key");
    expect(stackFiles()).toEqual([]);
  });

  it("--up without a pulumi binary fails with an install hint, before writing anything", async () => {
    const key = makeDeployKey(repo.dir);
    const r = await cli(["launch", "configs/blobs.yaml", ...REQUIRED, "--up", "--deploy-key", key.path], {
      ...process.env,
      PATH: join(repo.dir, "empty-bin"),
    });
    expect(r.code).toBe(4);
    expect(r.err).toContain("[PULUMI_CLI_MISSING]");
    expect(r.err).toMatch(/hint: install the Pulumi CLI/);
    expect(stackFiles()).toEqual([]);
  });

  it("a failing pulumi step exits 4 with its stderr, keeping the stack file for a manual retry", async () => {
    const key = makeDeployKey(repo.dir);
    pulumi.failOn("up");
    const r = await cli(["launch", "configs/blobs.yaml", ...REQUIRED, "--up", "--deploy-key", key.path]);
    expect(r.code).toBe(4);
    expect(r.err).toContain("[PULUMI_FAILED]");
    expect(r.err).toContain("up failed on purpose");
    expect(existsSync(join(repo.work, STACK_FILE))).toBe(true);
  });

  it("prints help with the exit codes and rejects unknown flags as usage errors", async () => {
    const h = await cli(["launch", "--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("exit codes: 0 ok; 2 usage");
    const u = await cli(["launch", "configs/blobs.yaml", "--bogus"]);
    expect(u.code).toBe(2);
    expect(u.err).toContain("[USAGE]");
  });
});
