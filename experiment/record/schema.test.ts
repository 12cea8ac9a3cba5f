import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import type { CloudContext } from "./cloud.js";
import { buildRecord, parseRecord, type RunRecord, withStatus } from "./schema.js";
import { sampleInputs } from "./testing.js";

const cloud: CloudContext = {
  provider: "gce",
  project: "my-project-123",
  zone: "us-central1-a",
  instanceName: "quick-20261203-134501-k3f9-vm",
  instanceId: "1234567890",
  machineType: "n1-standard-8",
  gpu: { type: "nvidia-tesla-t4", count: 1 },
  bootImage: "projects/debian-cloud/global/images/family/debian-12",
  dataImage: "runstack-data-v1",
  spot: true,
  deadline: "2026-12-03T19:45:01Z",
  preempted: false,
  stack: "run-quick-20261203-134501-k3f9",
};

function rejection(raw: unknown): RunstackError {
  try {
    parseRecord(raw, "results/x/run.json");
  } catch (e) {
    expect(e).toBeInstanceOf(RunstackError);
    return e as RunstackError;
  }
  throw new Error("expected the record to be rejected");
}

// biome-ignore lint/suspicious/noExplicitAny: these tests break the record's types on purpose
type Mutable = any;

function mutated(edit: (r: Mutable) => void): unknown {
  const r: Mutable = structuredClone(buildRecord(sampleInputs()));
  edit(r);
  return r;
}

describe("run record schema", () => {
  it("accepts a complete local record, with no cloud key at all", () => {
    const r = buildRecord(sampleInputs());
    expect(r.schemaVersion).toBe(1);
    expect("cloud" in r).toBe(false);
    expect(parseRecord(JSON.parse(JSON.stringify(r)), "x")).toEqual(r);
  });

  it("accepts a VM record with its cloud context", () => {
    const r = buildRecord({ ...sampleInputs(), cloud, stack: cloud.stack });
    expect(r.cloud).toEqual(cloud);
    expect(r.stack).toBe("run-quick-20261203-134501-k3f9");
  });

  it("records every derived seed per trial next to the base seeds", () => {
    const r = buildRecord(sampleInputs());
    expect(r.seeds.base).toEqual([1, 2]);
    expect(r.seeds.derived).toEqual([
      { strategy: "random", seed: 1, derived: { weights: 11, split: 7, "select/random": 13 } },
      { strategy: "entropy", seed: 1, derived: { weights: 11, split: 7, "select/entropy": 13 } },
    ]);
  });

  it("rejects an unknown top-level key, naming it", () => {
    const e = rejection(mutated((r) => (r.extra = 1)));
    expect(e.code).toBe("RECORD_INVALID");
    expect(e.message).toContain("results/x/run.json: extra: unknown key");
    expect(e.message).toContain("experiment/record/schema.ts");
  });

  it("rejects an unknown nested key with its path", () => {
    const e = rejection(mutated((r) => (r.host.gpuCount = 1)));
    expect(e.message).toContain("results/x/run.json: host.gpuCount: unknown key");
  });

  it("rejects a wrong type deep in a trial with the full key path and what it found", () => {
    const e = rejection(mutated((r) => (r.trials[0].rounds[1].accuracy = "0.9")));
    expect(e.message).toMatch(/trials\.0\.rounds\.1\.accuracy: .*expected number.*\(found: "0\.9"\)/);
  });

  it("keeps a diverged (NaN/Infinity) loss: null in JSON, NaN when read back; a string is still rejected", () => {
    const r = buildRecord({
      ...sampleInputs(),
      trials: sampleInputs().trials.map((t, i) =>
        i === 1
          ? { ...t, rounds: t.rounds.map((x) => ({ ...x, loss: Number.NaN, trainLoss: Infinity })) }
          : t,
      ),
    });
    const json = JSON.stringify(r);
    expect(json).toContain('"loss":null');
    const back = parseRecord(JSON.parse(json), "x");
    expect(back.trials[1]!.rounds[0]!.loss).toBeNaN();
    expect(back.trials[1]!.rounds[0]!.trainLoss).toBeNaN();
    expect(back.trials[0]!.rounds[0]!.loss).toBe(0.5);
    expect(rejection(mutated((x) => (x.trials[1].rounds[0].loss = "high"))).message).toContain(
      "trials.1.rounds.0.loss",
    );
  });

  it("rejects a config that does not satisfy the experiment schema", () => {
    const e = rejection(mutated((r) => (r.config.resolved.seeds = [])));
    expect(e.message).toContain("config.resolved.seeds");
  });

  it("rejects an unknown status and a run id that cannot name a stack", () => {
    expect(rejection(mutated((r) => (r.status = "done"))).message).toContain("status");
    expect(rejection(mutated((r) => (r.runId = "Quick_1"))).message).toContain("runId");
  });

  it("requires a failure for a failed run and none for a completed one", () => {
    expect(rejection(mutated((r) => (r.status = "failed"))).message).toContain(
      "failure: a failed run must say why",
    );
    const withFailure = mutated((r) => (r.failure = { code: "DATA_INVALID", message: "bad" }));
    expect(rejection(withFailure).message).toContain("failure: a completed run has no failure");
  });

  it("requires a reason exactly when git is missing", () => {
    expect(rejection(mutated((r) => (r.git = null))).message).toContain("gitMissingReason");
    const both = mutated((r) => (r.gitMissingReason = "not a git checkout"));
    expect(rejection(both).message).toContain("gitMissingReason");
    const ok = parseRecord(
      mutated((r) => {
        r.git = null;
        r.gitMissingReason = "not a git checkout: /tmp/x";
      }),
      "x",
    );
    expect(ok.git).toBeNull();
  });

  it("refuses a record from a newer schema version with an upgrade hint", () => {
    const e = rejection(mutated((r) => (r.schemaVersion = 2)));
    expect(e.message).toContain("schemaVersion 2 is newer");
    expect(e.hint).toMatch(/update runstack/);
  });

  it("withStatus marks a running record preempted and keeps everything else", () => {
    const running: RunRecord = buildRecord({
      ...sampleInputs(),
      status: "running",
      timings: { ...sampleInputs().timings, finishedAt: null },
    });
    const done = withStatus(running, {
      status: "preempted",
      failure: { code: "INTERRUPTED", message: "spot VM preempted" },
      finishedAt: "2026-12-03T14:00:00Z",
    });
    expect(done.status).toBe("preempted");
    expect(done.timings.finishedAt).toBe("2026-12-03T14:00:00Z");
    expect({ ...done, status: "running", failure: null, timings: running.timings }).toEqual(running);
  });
});
