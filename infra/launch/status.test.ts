import { describe, expect, it } from "vitest";
import { StackConfig } from "../../configs/stack.js";
import { reapDecision } from "./reap.js";
import { classifyRun, parseStackList, readRecordStatus, renderStatusTable } from "./status.js";

// Launched 2026-12-03 10:00 UTC with a 6 h deadline → 16:00 UTC.
const stack = StackConfig.parse({
  runId: "quick-20261203-1000-ab12",
  experimentConfig: "configs/quick.yaml",
  configSha256: "a".repeat(64),
  commit: "b".repeat(40),
  repoUrl: "git@github.com:acme/exp.git",
  project: "acme-ml-123",
  zone: "us-central1-a",
  dataImage: "img",
  owner: "ada",
});
const before = new Date("2026-12-03T12:00:00Z");
const after = new Date("2026-12-03T17:00:00Z");
const live = { exists: true, resourceCount: 7, lastUpdate: "2026-12-03T10:05:00Z" };

describe("run status", () => {
  it("a written but never deployed stack is launched, whatever the time", () => {
    const r = classifyRun({ stack, record: { found: false }, pulumi: { exists: false }, now: after });
    expect([r.state, r.resources, r.note]).toEqual(["launched", 0, "stack file written; never deployed"]);
  });

  it("a deployed stack without a record before its deadline is running", () => {
    const r = classifyRun({ stack, record: { found: false }, pulumi: live, now: before });
    expect(r.state).toBe("running");
    expect(r.deadline).toBe("2026-12-03T16:05:00.000Z");
    expect(r.deadlineEstimated).toBe(false);
  });

  it("a stack output 'deadline' wins over estimates", () => {
    const r = classifyRun({
      stack,
      record: { found: false },
      pulumi: { ...live, outputs: { deadline: "2026-12-03T11:00:00Z" } },
      now: before,
    });
    expect([r.state, r.outcome]).toEqual(["leaking", "pushed-nothing"]);
  });

  it("a record in git means finished (or failed / push-failed from its status)", () => {
    const gone = { exists: true, resourceCount: 0, lastUpdate: "2026-12-03T15:00:00Z" };
    expect(
      classifyRun({ stack, record: { found: true, status: "succeeded" }, pulumi: gone, now: before }).state,
    ).toBe("finished");
    expect(
      classifyRun({ stack, record: { found: true, status: "failed" }, pulumi: gone, now: before }).state,
    ).toBe("failed");
    expect(
      classifyRun({ stack, record: { found: true, status: "push-failed" }, pulumi: gone, now: before }).state,
    ).toBe("push-failed");
  });

  it("resources left after the run reported are leaking, keeping the outcome", () => {
    const r = classifyRun({ stack, record: { found: true, status: "succeeded" }, pulumi: live, now: before });
    expect([r.state, r.outcome, r.resources]).toEqual(["leaking", "finished", 7]);
  });

  it("no record after the deadline is pushed-nothing, and leaking while resources remain", () => {
    expect(
      classifyRun({ stack, record: { found: false }, pulumi: { ...live, resourceCount: 0 }, now: after })
        .state,
    ).toBe("pushed-nothing");
    expect(classifyRun({ stack, record: { found: false }, pulumi: live, now: after }).state).toBe("leaking");
  });

  it("without the CLI it estimates the deadline from the run id and says what it could not see", () => {
    const r = classifyRun({ stack, record: { found: false }, now: after });
    expect(r.state).toBe("pushed-nothing");
    expect(r.deadlineEstimated).toBe(true);
    expect(r.deadline).toBe("2026-12-03T16:00:00.000Z");
    expect(r.unknown).toEqual(["resources", "deployed"]);
    expect(classifyRun({ stack, record: { found: false }, now: before }).state).toBe("launched");
  });

  it("without git results it never claims finished or pushed-nothing", () => {
    const r = classifyRun({ stack, pulumi: live, now: after });
    expect(r.outcome).toBe("running");
    expect(r.unknown).toContain("result");
  });

  it("reads records loosely and pulumi's stack list by short name", () => {
    expect(readRecordStatus('{"status":"failed","x":1}')).toEqual({ found: true, status: "failed" });
    expect(readRecordStatus("{}")).toEqual({ found: true, status: undefined });
    expect(readRecordStatus("not json")).toEqual({ found: true, status: "unreadable" });
    const m = parseStackList(
      '[{"name":"org/runstack/run-a","resourceCount":3,"lastUpdate":"2026-12-03T10:00:00Z"},{"name":"run-b"}]',
    );
    expect(m.get("run-a")).toMatchObject({ exists: true, resourceCount: 3 });
    expect(m.get("run-b")).toMatchObject({ exists: true, resourceCount: undefined });
  });

  it("renders a table with '?' for unknown columns", () => {
    const t = renderStatusTable([classifyRun({ stack, record: { found: false }, now: before })]);
    expect(t.split("\n")[0]).toMatch(/^RUN\s+STATE\s+RESULT\s+RESOURCES\s+DEADLINE\s+NOTE$/);
    expect(t).toContain("quick-20261203-1000-ab12  launched  -");
    expect(t).toContain("2026-12-03 16:00Z~");
  });
});

describe("reap decisions", () => {
  it("destroys only runs whose record is in git, and says why it skips the others", () => {
    const row = (record: { found: boolean; status?: string } | undefined, pulumi = live) =>
      reapDecision(classifyRun({ stack, record, pulumi, now: after }), "main");
    expect(row({ found: true, status: "succeeded" })).toEqual({ reap: true });
    expect(row({ found: true, status: "failed" })).toEqual({ reap: true });
    expect(row({ found: false })).toMatchObject({
      reap: false,
      reason: expect.stringContaining("is not on origin/main"),
    });
    expect(row(undefined)).toMatchObject({ reap: false, reason: expect.stringContaining("fetch failed") });
    expect(row({ found: true }, { exists: false } as typeof live)).toMatchObject({
      reap: false,
      reason: expect.stringContaining("already reaped"),
    });
  });
});
