import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliIo, main } from "./cli.js";
import { parseStackFile } from "./stack-file.js";
import type { RunStatus } from "./status.js";
import {
  type FakePulumi,
  makeDeployKey,
  makeFakePulumi,
  makeRepo,
  pushRecord,
  type TempRepo,
} from "./testing/fixtures.js";

const REQUIRED = ["--project", "acme-ml-123", "--zone", "us-central1-a", "--data-image", "img-v1"];

let repo: TempRepo;
let pulumi: FakePulumi;
beforeEach(() => {
  repo = makeRepo();
  pulumi = makeFakePulumi(repo.dir);
});
afterEach(() => repo.cleanup());

function io(out: string[], err: string[], env: NodeJS.ProcessEnv, now: string, seq: number[]): CliIo {
  let i = 0;
  return {
    cwd: repo.work,
    env,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    now: () => new Date(now),
    random: () => seq[i++ % seq.length]!,
  };
}

async function cli(argv: string[], opts: { env?: NodeJS.ProcessEnv; now?: string; seq?: number[] } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    io(out, err, opts.env ?? pulumi.env, opts.now ?? "2026-12-03T13:45:00Z", opts.seq ?? [0]),
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const stackFiles = () => readdirSync(repo.work).filter((f) => f.startsWith("Pulumi.run-"));

describe("sweep (two steps: write variant configs, then launch them once pushed)", () => {
  it("rejects a bad grid key with its path and writes nothing", async () => {
    const r = await cli(["sweep", "configs/blobs.yaml", "--grid", "al.querySiz=5,10"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("al.querySiz");
    expect(existsSync(join(repo.work, "configs/sweeps"))).toBe(false);
  });

  it("writes validated variants, refuses to launch them until pushed, then launches each with --up", async () => {
    const grid = ["--grid", "al.querySize=5,10"];
    const step1 = await cli(["sweep", "configs/blobs.yaml", ...grid]);
    expect(step1.err).toBe("");
    expect(step1.code).toBe(0);
    expect(readdirSync(join(repo.work, "configs/sweeps")).sort()).toEqual(["blobs-1.yaml", "blobs-2.yaml"]);
    expect(step1.out).toContain("git push");
    // Writing the same grid again is a no-op, not a conflict.
    expect((await cli(["sweep", "configs/blobs.yaml", ...grid])).code).toBe(0);

    const early = await cli(["sweep", "configs/blobs.yaml", ...grid, "--launch", ...REQUIRED]);
    expect(early.code).toBe(3);
    expect(early.err).toContain("configs/sweeps/blobs-1.yaml");
    expect(stackFiles()).toEqual([]);

    repo.commitAll("sweep variants");
    repo.git("push", "-q", "origin", "main");
    const key = makeDeployKey(repo.dir);
    const r = await cli(
      [
        "sweep",
        "configs/blobs.yaml",
        ...grid,
        "--launch",
        ...REQUIRED,
        "--up",
        "--deploy-key",
        key.path,
        "--parallel",
        "2",
      ],
      { seq: [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5] },
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const files = stackFiles().sort();
    expect(files).toHaveLength(2);
    const stacks = files.map((f) => parseStackFile(readFileSync(join(repo.work, f), "utf8"), f));
    expect(stacks.map((s) => s.experimentConfig).sort()).toEqual([
      "configs/sweeps/blobs-1.yaml",
      "configs/sweeps/blobs-2.yaml",
    ]);
    for (const s of stacks) {
      const bytes = readFileSync(join(repo.work, s.experimentConfig));
      expect(s.configSha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(s.commit).toBe(repo.git("rev-parse", "HEAD"));
    }
    const calls = pulumi.calls();
    const names = stacks.map((s) => `run-${s.runId}`);
    for (const n of names) {
      expect(calls.filter((c) => c.argv[0] === "up" && c.argv.includes(n))).toHaveLength(1);
      const set = calls.filter((c) => c.argv[0] === "config" && c.argv.includes(n));
      expect(set).toHaveLength(1);
      expect(set[0]!.stdin).toBe(key.text);
    }
    // every init happens before the first up (init/secret are serial; only ups run in parallel)
    const firstUp = calls.findIndex((c) => c.argv[0] === "up");
    expect(calls.slice(0, firstUp).filter((c) => c.argv[1] === "init")).toHaveLength(2);
  });
});

describe("status and reap (results in git, fake pulumi)", () => {
  async function twoRuns() {
    const a = await cli(["launch", "configs/blobs.yaml", ...REQUIRED], { seq: [0] });
    const b = await cli(["launch", "configs/blobs.yaml", ...REQUIRED], { seq: [0.5] });
    expect([a.code, b.code]).toEqual([0, 0]);
    const ids = stackFiles()
      .map((f) => /^Pulumi\.run-(.+)\.yaml$/.exec(f)![1]!)
      .sort();
    const [done, pending] = ids as [string, string];
    pushRecord(repo, done, { status: "completed", runId: done });
    pulumi.setStacks(
      ids.map((id) => ({ name: `run-${id}`, resourceCount: 6, lastUpdate: "2026-12-03T13:50:00Z" })),
    );
    return { done, pending };
  }

  it("classifies runs from the stack files, git and pulumi, as a table and as JSON", async () => {
    const { done, pending } = await twoRuns();
    const r = await cli(["status", "--json"], { now: "2026-12-03T15:00:00Z" });
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.out) as { runs: RunStatus[] }).runs;
    const by = new Map(rows.map((x) => [x.runId, x]));
    expect(by.get(done)).toMatchObject({
      state: "leaking",
      outcome: "finished",
      recordStatus: "completed",
      resources: 6,
    });
    expect(by.get(pending)).toMatchObject({ state: "running", recorded: false, resources: 6 });
    const late = await cli(["status", "--json"], { now: "2026-12-04T15:00:00Z" });
    const lateRows = (JSON.parse(late.out) as { runs: RunStatus[] }).runs;
    expect(lateRows.find((x) => x.runId === pending)).toMatchObject({
      state: "leaking",
      outcome: "pushed-nothing",
    });
    const table = await cli(["status"], { now: "2026-12-03T15:00:00Z" });
    expect(table.out).toMatch(new RegExp(`${done}\\s+leaking \\(finished\\)\\s+completed\\s+6`));
  });

  it("without the pulumi CLI says which columns it could not determine", async () => {
    const { done } = await twoRuns();
    const r = await cli(["status"], {
      env: { ...process.env, PATH: join(repo.dir, "empty-bin") },
      now: "2026-12-03T15:00:00Z",
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`${done}\\s+finished\\s+completed\\s+\\?`));
    expect(r.out).toContain("note: resources/deployed columns unknown: the pulumi CLI is not on PATH");
  });

  it("reap --dry-run only prints; reap destroys finished runs and skips the rest, saying why", async () => {
    const { done, pending } = await twoRuns();
    const dry = await cli(["reap", "--dry-run"], { now: "2026-12-03T15:00:00Z" });
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(
      `would run: pulumi destroy --refresh --remove --yes --non-interactive -s run-${done}`,
    );
    expect(dry.out).toContain(`skip ${pending}: results/${pending}/run.json is not on origin/main`);
    expect(pulumi.calls().filter((c) => c.argv[0] === "destroy")).toEqual([]);

    const real = await cli(["reap"], { now: "2026-12-03T15:00:00Z" });
    expect(real.err).toBe("");
    expect(real.code).toBe(0);
    const destroys = pulumi.calls().filter((c) => c.argv[0] === "destroy");
    expect(destroys.map((c) => c.argv)).toEqual([
      ["destroy", "--refresh", "--remove", "--yes", "--non-interactive", "-s", `run-${done}`],
    ]);

    const refused = await cli(["reap", "--run", pending], { now: "2026-12-03T15:00:00Z" });
    expect(refused.code).toBe(3);
    expect(refused.err).toContain("[UNSAFE_TO_DESTROY]");
    expect(pulumi.calls().filter((c) => c.argv[0] === "destroy")).toHaveLength(1);
  });

  it("reap without the pulumi CLI fails clearly (a dry run still works)", async () => {
    await twoRuns();
    const env = { ...process.env, PATH: join(repo.dir, "empty-bin") };
    const r = await cli(["reap"], { env });
    expect(r.code).toBe(4);
    expect(r.err).toContain("[PULUMI_CLI_MISSING]");
    expect((await cli(["reap", "--dry-run"], { env })).code).toBe(0);
    // A malformed id is a usage error before anything else is looked at.
    const bad = await cli(["reap", "--run", "../x"], { env });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--run ../x: not a run id");
  });
});
