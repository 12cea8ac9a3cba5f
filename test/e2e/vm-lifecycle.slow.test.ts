import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { startGceEmulator } from "../harness/gce-emulator.js";
import { gitTestEnv } from "../harness/git-server.js";
import { createVmWorld, until, type VmWorld } from "./vm-world.js";

/**
 * The run on the VM, end to end: the real rendered startup script (bash) against the GCE emulator
 * and a real sshd git server, cloning this working tree and running the real experiment CLI.
 * Every fault ends with nothing lost and the VM deleted, or kept with a status saying why.
 */
const exec = promisify(execFile);
let world: VmWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

const T = 240_000;
const runJsonPath = (w: VmWorld) => path.join(w.workDir, "repo/results", w.runId, "run.json");
const record = async (w: VmWorld, rev = "main") =>
  JSON.parse(await w.show(rev, `results/${w.runId}/run.json`));
const deletes = (w: VmWorld) =>
  w.emu.calls.filter((c) => c.method === "DELETE" && c.path.includes("/instances/"));
const lastWrite = (w: VmWorld, key: string) =>
  w.emu.guestWrites.filter((x) => x.key === `runstack/${key}`).at(-1);

/** The key must not appear anywhere a human or another process could read it. */
function expectNoKeyLeak(w: VmWorld, psLines: string[], extra: string[]) {
  const keyBody = w.deployKey.split("\n").filter((l) => l && !l.startsWith("-----"))[0]!;
  expect(keyBody.length).toBeGreaterThan(20);
  const places = {
    ps: psLines.join("\n"),
    bootLog: w.bootLog(),
    serial: existsSync(w.serialFile) ? readFileSync(w.serialFile, "utf8") : "",
    emulatorCalls: JSON.stringify(w.emu.calls.filter((c) => !c.path.includes(":access"))),
    guestAttributes: JSON.stringify([...w.emu.guestAttributes]),
    ...Object.fromEntries(extra.map((t, i) => [`extra${i}`, t])),
  };
  for (const [where, text] of Object.entries(places)) {
    expect(text.includes(keyBody), `deploy key found in ${where}`).toBe(false);
    expect(text.includes("PRIVATE KEY-----"), `private key block in ${where}`).toBe(false);
  }
  expect(
    psLines.some((l) => l.includes("vm-run.ts")),
    "ps sampling saw the VM runtime",
  ).toBe(true);
}

describe("the run on the VM (startup script + vm-run, emulated GCE, real git over ssh)", () => {
  it(
    "pushes exactly one result commit naming the pinned commit, config hash and instance, then deletes itself",
    async () => {
      world = await createVmWorld();
      const w = world;
      const boot = await w.boot();
      expect(boot.code).toBe(0);
      const log = await w.mainLog();
      expect(log).toHaveLength(2);
      expect(log[1]).toBe(w.seedCommit);
      const rec = await record(w);
      expect(rec.status).toBe("completed");
      expect(rec.git.commit).toBe(w.seedCommit);
      expect(rec.config.sha256).toBe(w.configSha256);
      expect(rec.cloud).toMatchObject({
        instanceName: `runstack-${w.runId}`,
        zone: "us-central1-a",
        preempted: false,
      });
      expect(await w.show("main", `results/${w.runId}/log.txt`)).toContain("");
      const files = (
        await exec("git", ["show", "--name-only", "--format=", "main"], { cwd: w.git.bareRepoPath })
      ).stdout;
      expect(
        files
          .trim()
          .split("\n")
          .every((f) => f.startsWith(`results/${w.runId}/`)),
      ).toBe(true);

      expect(w.phases()).toEqual(["booting", "cloning", "installing", "running", "publishing", "done"]);
      expect(lastWrite(w, "result-commit")?.value).toBe(log[0]);
      expect(deletes(w)).toHaveLength(1);
      expect(deletes(w)[0]!.t).toBeGreaterThanOrEqual(lastWrite(w, "result-commit")!.t);
      expect(w.emu.diskAutoDelete.get("persistent-disk-0")).toBe(true);
      expect(readFileSync(w.serialFile, "utf8")).toMatch(
        /^RUNSTACK phase=done run=vm-e2e-1 detail=record status completed/m,
      );

      // Security: the key file was 0600 whenever it existed, and nothing is left behind.
      expect(boot.keyModes.length).toBeGreaterThan(0);
      expect(boot.keyModes.every((m) => m === 0o600)).toBe(true);
      expect(readdirSync(w.secretDir)).toEqual([]);
      const history = (
        await exec("git", ["log", "-p", "--all"], { cwd: w.git.bareRepoPath, maxBuffer: 256 << 20 })
      ).stdout;
      expectNoKeyLeak(w, boot.psLines, [
        history.split(w.seedCommit)[0]!,
        await w.show("main", `results/${w.runId}/log.txt`),
      ]);

      // A second boot after the run finished: no second experiment, no second commit; it only
      // makes sure the VM goes (a fresh emulator stands for the VM that was not deleted yet).
      const first = w.emu;
      const again = await startGceEmulator({ instanceName: `runstack-${w.runId}`, attributes: {} });
      try {
        const env = { RUNSTACK_METADATA_URL: again.metadataUrl, RUNSTACK_COMPUTE_URL: again.computeUrl };
        const second = await w.boot({ env });
        expect(second.code).toBe(0);
        expect(await w.mainLog()).toEqual(log);
        expect(again.guestWrites.filter((x) => x.key === "runstack/phase")).toEqual([]);
        expect(again.calls.filter((c) => c.method === "DELETE")).toHaveLength(1);
        expect(second.groupPsLines.some((l) => l.includes("experiment/cli.ts"))).toBe(false);
        expect(w.bootLog()).toContain("second boot: run vm-e2e-1 already finished (pushed)");
        expect(deletes({ ...w, emu: first } as VmWorld)).toHaveLength(1);
      } finally {
        await again.stop();
      }
    },
    T,
  );

  it(
    "experiment crash mid-run: the record says failed, what exists is pushed, the VM is deleted",
    async () => {
      world = await createVmWorld();
      const w = world;
      const boot = await w.boot({
        during: async (_w, { pgid }) => {
          await until(() => existsSync(runJsonPath(w)), 120_000, "run.json");
          // Only this boot's experiment (same process group): never another test's or a user's run.
          const ps = await exec("ps", ["-eo", "pid=,pgid=,args="]);
          const pids = ps.stdout
            .split("\n")
            .map((l) => l.trim().split(/\s+/))
            .filter(
              ([, g, ...args]) => Number(g) === pgid && args.join(" ").includes("experiment/cli.ts run"),
            )
            .map(([pid]) => Number(pid));
          expect(pids.length).toBeGreaterThan(0);
          for (const pid of pids) process.kill(pid, "SIGKILL");
        },
      });
      expect(boot.code).toBe(0);
      const log = await w.mainLog();
      expect(log).toHaveLength(2);
      const rec = await record(w);
      expect(rec.status).toBe("failed");
      expect(rec.failure.message).toMatch(/SIGKILL|exit code/);
      expect(w.phases()).toEqual(["booting", "cloning", "installing", "running", "publishing", "failed"]);
      expect(deletes(w)).toHaveLength(1);
    },
    T,
  );

  it(
    "install failure: phase failed, the boot log is pushed by the trap, the VM is deleted",
    async () => {
      world = await createVmWorld();
      const w = world;
      const boot = await w.boot({ env: { RUNSTACK_INSTALL_CMD: "echo 'npm ERR! simulated' >&2; exit 7" } });
      expect(boot.code).not.toBe(0);
      expect(w.phases()).toEqual(["booting", "cloning", "installing", "failed"]);
      expect(lastWrite(w, "detail")?.value).toMatch(/install command .* exited 7/);
      const log = await w.mainLog();
      expect(log).toHaveLength(2);
      expect(await w.show("main", `results/${w.runId}/boot-log.txt`)).toContain("npm ERR! simulated");
      expect(deletes(w)).toHaveLength(1);
      expect(readdirSync(w.secretDir)).toEqual([]);
    },
    T,
  );

  it(
    "git server down for a while, then back: publish retries and pushes once, then the VM is deleted",
    async () => {
      world = await createVmWorld();
      const w = world;
      const boot = await w.boot({
        during: async () => {
          await until(
            () => w.emu.guestAttributes.get("runstack/phase") === "publishing",
            150_000,
            "publishing",
          );
          await w.git.pause();
          await until(() => /publish: attempt 1 failed/.test(w.bootLog()), 60_000, "a failed push");
          await w.git.resume();
        },
      });
      expect(boot.code).toBe(0);
      expect(await w.mainLog()).toHaveLength(2);
      expect((await record(w)).status).toBe("completed");
      expect(w.phases().at(-1)).toBe("done");
      expect(lastWrite(w, "detail")?.value).toMatch(/after [2-9] attempt/);
      expect(deletes(w)).toHaveLength(1);
    },
    T,
  );

  it(
    "git server down for good: push-failed, retried until the park time, boot disk parked, then deleted",
    async () => {
      world = await createVmWorld({ deadlineInSec: 600 });
      const w = world;
      const env = { RUNSTACK_PARK_MARGIN_SECONDS: "540", RUNSTACK_PUSH_RETRY_INTERVAL_SECONDS: "3" };
      const boot = await w.boot({
        env,
        during: async () => {
          await until(() => w.emu.guestAttributes.get("runstack/phase") === "running", 120_000, "running");
          await until(() => existsSync(path.join(w.workDir, "repo/node_modules")), 10_000, "install");
          await until(() => w.emu.guestAttributes.get("runstack/phase") !== "running", 150_000, "end of run");
          await w.git.pause();
        },
      });
      expect(boot.code).toBe(3); // vm-run: parked
      expect(await w.mainLog()).toEqual([w.seedCommit]);
      expect(w.phases().slice(-2)).toEqual(["push-failed", "push-failed"]);
      expect(lastWrite(w, "detail")?.value).toMatch(
        /^parked: boot disk runstack-vm-e2e-1 .*record status completed/,
      );
      expect(w.emu.diskAutoDelete.get("persistent-disk-0")).toBe(false);
      const park = w.emu.calls.find((c) => c.path.includes("setDiskAutoDelete?autoDelete=false"));
      expect(park).toBeDefined();
      expect(deletes(w)).toHaveLength(1);
      expect(deletes(w)[0]!.t).toBeGreaterThanOrEqual(park!.t);
      // Nothing lost: the result commit sits on the parked disk, on its local branch.
      const repo = path.join(w.workDir, "repo");
      const rec = JSON.parse(
        (
          await exec("git", ["show", `runstack/results/${w.runId}:results/${w.runId}/run.json`], {
            cwd: repo,
          })
        ).stdout,
      );
      expect(rec.status).toBe("completed");
      expect(readFileSync(path.join(w.workDir, "state/outcome"), "utf8")).toMatch(/^parked/);
    },
    T,
  );

  it(
    "push rejected because another run pushed first: rebased onto it and pushed, both results kept",
    async () => {
      world = await createVmWorld();
      const w = world;
      const bare = w.git.bareRepoPath;
      const g = (args: string[], cwd = bare) => exec("git", args, { cwd, env: gitTestEnv() });
      // Another run's result commit, made ready in the bare repo; a pre-receive hook moves main to
      // it during our first push, so that push loses the race exactly like on GitHub.
      const other = path.join(w.dir, "other");
      await g(["clone", "-q", bare, other], w.dir);
      await exec("mkdir", ["-p", path.join(other, "results/other-run")]);
      await exec("sh", ["-c", `echo '{}' > ${path.join(other, "results/other-run/run.json")}`]);
      await g(["add", "-A"], other);
      await g(["commit", "-q", "-m", "results: other-run (completed)"], other);
      await g(["push", "-q", "origin", "HEAD:refs/heads/other-run"], other);
      const otherCommit = (await g(["rev-parse", "HEAD"], other)).stdout.trim();
      const hook = path.join(bare, "hooks/pre-receive");
      await exec("sh", [
        "-c",
        `cat > ${hook} <<'EOF'
#!/bin/sh
if [ ! -f "$GIT_DIR/raced" ]; then
  touch "$GIT_DIR/raced"
  env -u GIT_QUARANTINE_PATH git update-ref refs/heads/main ${otherCommit}
fi
exit 0
EOF
chmod +x ${hook}`,
      ]);
      const boot = await w.boot();
      expect(boot.code).toBe(0);
      expect(existsSync(path.join(bare, "raced"))).toBe(true);
      const log = await w.mainLog();
      expect(log).toHaveLength(3);
      expect(log[1]).toBe(otherCommit);
      expect((await record(w)).status).toBe("completed");
      expect(lastWrite(w, "detail")?.value).toMatch(/after [2-9] attempt/);
      expect(deletes(w)).toHaveLength(1);
    },
    T,
  );

  it(
    "preemption mid-run: the rounds so far are pushed with status preempted, then the VM is deleted",
    async () => {
      world = await createVmWorld();
      const w = world;
      const boot = await w.boot({
        during: async () => {
          await until(
            () => existsSync(runJsonPath(w)) && /"round"/.test(readFileSync(runJsonPath(w), "utf8")),
            150_000,
            "a finished trial in run.json",
          );
          w.emu.preempt();
        },
      });
      expect(boot.code).toBe(0);
      const rec = await record(w);
      expect(rec.status).toBe("preempted");
      expect(rec.cloud.preempted).toBe(true);
      expect(rec.trials.length).toBeGreaterThan(0);
      expect(w.phases()).toEqual([
        "booting",
        "cloning",
        "installing",
        "running",
        "preempted",
        "publishing",
        "preempted",
      ]);
      const toggles = w.emu.calls.filter((c) => c.path.includes("/setDiskAutoDelete?")).map((c) => c.path);
      expect(toggles[0]).toContain("autoDelete=false");
      expect(toggles.at(-1)).toContain("autoDelete=true");
      expect(deletes(w)).toHaveLength(1);
      expect(deletes(w)[0]!.t).toBeGreaterThanOrEqual(lastWrite(w, "result-commit")!.t);
    },
    T,
  );
});
