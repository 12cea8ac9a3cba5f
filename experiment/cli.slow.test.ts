import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const tiny = join(root, "test/fixtures/tiny.yaml");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as npm scripts do (`node --import tsx`: one process, so signals reach it directly). */
function cli(
  args: string[],
  opts: { onStderr?: (s: string, kill: (sig: NodeJS.Signals) => void) => void } = {},
) {
  return new Promise<Result>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "experiment/cli.ts"), ...args], {
      cwd: root,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      opts.onStderr?.(stderr, (sig) => child.kill(sig));
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const outDir = () => mkdtempSync(join(tmpdir(), "runstack-cli-"));

describe("experiment CLI (a real process)", () => {
  it("runs a config and writes one complete, validated record with the curve table", async () => {
    const out = outDir();
    const r = await cli(["run", "--config", tiny, "--out", out, "--run-id", "tiny-cli-test"]);
    expect(r.stderr).toContain("round 3/3");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("AUBC");
    expect(r.stdout).toContain("run tiny-cli-test: completed");
    const record = JSON.parse(readFileSync(join(out, "tiny-cli-test/run.json"), "utf8"));
    expect(record.status).toBe("completed");
    expect(record.trials).toHaveLength(4);
    // The fixture is learnable (chance is 1/3): a broken trainer or loop would fail here.
    for (const t of record.trials) expect(t.summary.finalAccuracy).toBeGreaterThan(0.6);
    const firstPicks = (s: string) =>
      record.trials.find((t: { strategy: string; seed: number }) => t.strategy === s && t.seed === 1)
        .rounds[0].selected;
    expect(firstPicks("margin")).not.toEqual(firstPicks("random"));
    expect(record.backend.name).toBe("cpu");
    expect(record.config.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.git.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(record.cloud).toBeUndefined();
    expect(readFileSync(join(out, "tiny-cli-test/curves.csv"), "utf8").split("\n")[0]).toBe(
      "strategy,seed,round,labels,accuracy,loss",
    );
  });

  it("a bad config exits 2, names the file and key, and writes nothing", async () => {
    const out = outDir();
    const bad = join(out, "bad.yaml");
    writeFileSync(bad, readFileSync(tiny, "utf8").replace("rounds: 2", "rounds: -1"));
    const r = await cli(["run", "--config", bad, "--out", join(out, "results")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: al.rounds`);
    expect(existsSync(join(out, "results"))).toBe(false);
  });

  it("bad flags exit 2 with a hint", async () => {
    const r = await cli(["run", "--fraction", "2"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--fraction: expected a number in (0, 1]");
    expect(r.stderr).toContain("hint:");
    const u = await cli(["run", "--bogus"]);
    expect(u.code).toBe(2);
  });

  it("an unwritable --out exits 3 with a user error (not an internal one)", async () => {
    const file = join(outDir(), "afile");
    writeFileSync(file, "");
    const r = await cli(["run", "--config", tiny, "--out", join(file, "sub")]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("error [OUTPUT_UNWRITABLE]");
    expect(r.stderr).not.toContain("internal error");
  });

  it("an option the command does not use is an error, never silently ignored", async () => {
    const r = await cli(["train", "--config", tiny, "--cloud-context", "x.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("train does not take --cloud-context");
    const d = await cli(["run", "--config", tiny, "--data-dir", "/nonexistent"]);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain("--data-dir applies to IDX datasets");
  });

  it("missing IDX data exits 3 and writes nothing", async () => {
    const out = outDir();
    const r = await cli(["run", "--config", join(root, "configs/mnist-full.yaml"), "--out", join(out, "r")]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("--data-dir");
    expect(existsSync(join(out, "r"))).toBe(false);
  });

  it("Ctrl-C leaves a record with status interrupted and the rounds completed so far", async () => {
    const out = outDir();
    let sent = false;
    const slow = join(out, "slow.yaml");
    writeFileSync(
      slow,
      readFileSync(tiny, "utf8").replace("rounds: 2", "rounds: 40").replace("epochs: 3", "epochs: 20"),
    );
    const r = await cli(["run", "--config", slow, "--out", out, "--run-id", "tiny-int"], {
      onStderr: (s, kill) => {
        if (!sent && s.includes("round 3/")) {
          sent = true;
          kill("SIGINT");
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const record = JSON.parse(readFileSync(join(out, "tiny-int/run.json"), "utf8"));
    expect(record.status).toBe("interrupted");
    expect(record.failure.code).toBe("INTERRUPTED");
    const rounds = record.trials.flatMap((t: { rounds: unknown[] }) => t.rounds);
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    expect(readdirSync(join(out, "tiny-int")).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  it("a run that fails mid-way (a diverged model) exits 4 and keeps a failed record with the rounds so far", async () => {
    const out = outDir();
    const r = await cli([
      "run",
      "--config",
      tiny,
      "--set",
      "train.learningRate=1e30",
      "--out",
      out,
      "--run-id",
      "tiny-div",
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("error [LEARNER_OUTPUT]");
    expect(r.stderr).toContain("hint: lower train.learningRate");
    const record = JSON.parse(readFileSync(join(out, "tiny-div/run.json"), "utf8"));
    expect(record.status).toBe("failed");
    expect(record.failure.code).toBe("LEARNER_OUTPUT");
    expect(record.trials.at(-1).status).toBe("failed");
    expect(record.trials[0].rounds.length).toBeGreaterThan(0);
  });

  it("train saves a loadable model next to its record", async () => {
    const out = outDir();
    const r = await cli(["train", "--config", tiny, "--out", out, "--run-id", "tiny-train"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/test accuracy \d+\.\d+%/);
    const record = JSON.parse(readFileSync(join(out, "tiny-train/run.json"), "utf8"));
    expect(record.supervised.labels).toBeGreaterThan(0);
    expect(record.supervised.modelFiles).toEqual(["model/model.json", "model/weights.bin"]);
    const model = JSON.parse(readFileSync(join(out, "tiny-train/model/model.json"), "utf8"));
    expect(model.weightsManifest[0].paths).toEqual(["./weights.bin"]);
  });

  it("the full-scale CNN config runs here on 1% of real Fashion-MNIST IDX files (the seed workflow)", async () => {
    const dir = outDir();
    for (const f of readdirSync("/usr/share/datasets/fashion-mnist")) {
      copyFileSync(join("/usr/share/datasets/fashion-mnist", f), join(dir, f));
    }
    const m = await cli(["data-manifest", dir, "--name", "fashion-mnist"]);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/wrote .*manifest\.json \(4 files, sha256 [0-9a-f]{64}\)/);
    const out = outDir();
    const r = await cli([
      "run",
      ...["--config", join(root, "configs/fashion-mnist-full.yaml"), "--data-dir", dir, "--fraction", "0.01"],
      ...["--set", "al.rounds=1", "--set", "seeds=[1]", "--set", "train.epochs=2"],
      ...["--set", "al.strategies=[margin,bald,coreset]", "--out", out, "--run-id", "fm-smoke"],
    ]);
    expect(r.code).toBe(0);
    const record = JSON.parse(readFileSync(join(out, "fm-smoke/run.json"), "utf8"));
    expect(record.backend.name).toBe("wasm");
    expect(record.config.resolved.model.kind).toBe("cnn");
    expect(record.config.resolved.al.rounds).toBe(1);
    expect(record.dataset).toMatchObject({ source: "idx", name: "fashion-mnist", fraction: 0.01 });
    expect(record.dataset.sizes).toMatchObject({ train: 600, test: 100 });
    expect(record.command.argv).toContain("al.strategies=[margin,bald,coreset]");
    expect(record.trials.map((t: { strategy: string }) => t.strategy)).toEqual(["margin", "bald", "coreset"]);
  });

  it("--set rejects a key the schema does not know, naming it", async () => {
    const r = await cli(["run", "--config", tiny, "--set", "al.roundz=3", "--out", outDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("al.roundz: unknown key");
    const bad = await cli(["run", "--config", tiny, "--set", "nonsense"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("expected key.path=value");
  });

  it("--help lists options and exit codes", async () => {
    const r = await cli(["run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--data-dir");
    expect(r.stdout).toContain("130");
  });
});
