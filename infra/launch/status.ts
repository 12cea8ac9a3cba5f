import type { StackConfig } from "../../configs/stack.js";
import { launchTimeOf, stackNameOf } from "./run-id.js";

/**
 * Pure status classification: one run's stack file, what git says about its record and what
 * pulumi says about its stack → one state. Anything not observed is `undefined` and is reported
 * as unknown instead of guessed.
 */

export const RUN_STATES = [
  "launched",
  "running",
  "finished",
  "failed",
  "push-failed",
  "pushed-nothing",
  "leaking",
] as const;
export type RunState = (typeof RUN_STATES)[number];

export interface RecordObservation {
  /** results/<id>/run.json exists on origin/<resultsBranch>. */
  found: boolean;
  /** Its `status` field, read loosely (the record schema belongs to experiment/record). */
  status?: string;
}

export interface StackObservation {
  /** The backend has a stack of that name. */
  exists: boolean;
  resourceCount?: number;
  /** ISO time of the stack's last update (`pulumi stack ls --json`). */
  lastUpdate?: string;
  updateInProgress?: boolean;
  /** `pulumi stack output --json`, when read. */
  outputs?: Record<string, unknown>;
}

export interface ClassifyInput {
  stack: StackConfig;
  /** undefined: git could not be asked (fetch failed). */
  record?: RecordObservation;
  /** undefined: no pulumi CLI (or it failed). */
  pulumi?: StackObservation;
  now: Date;
}

export interface RunStatus {
  runId: string;
  stack: string;
  state: RunState;
  /** The run's own outcome, ignoring leftover resources (state says "leaking" over it). */
  outcome: Exclude<RunState, "leaking">;
  /** results/<id>/run.json is in git (null: could not check). */
  recorded: boolean | null;
  recordStatus: string | null;
  resources: number | null;
  deadline: string | null;
  /** True when the deadline comes from the run id's launch minute, not from the stack. */
  deadlineEstimated: boolean;
  /** Columns that could not be determined. */
  unknown: ("result" | "resources" | "deployed")[];
  note: string;
}

/** Record statuses (experiment/record/schema.ts: completed | failed | interrupted) that mean no result. */
const FAILED = new Set(["failed", "interrupted", "preempted", "error"]);
const HOUR = 3_600_000;

function deadlineOf({ stack, pulumi }: ClassifyInput): { at?: Date; estimated: boolean } {
  const out = pulumi?.outputs?.deadline;
  if (typeof out === "string" && !Number.isNaN(Date.parse(out)))
    return { at: new Date(out), estimated: false };
  // `up` returns once the VM exists, so the last update of a live stack is the VM's start (± minutes).
  if (pulumi?.lastUpdate && (pulumi.resourceCount ?? 0) > 0 && !Number.isNaN(Date.parse(pulumi.lastUpdate))) {
    return { at: new Date(Date.parse(pulumi.lastUpdate) + stack.maxRunHours * HOUR), estimated: false };
  }
  const launched = launchTimeOf(stack.runId);
  return launched
    ? { at: new Date(launched.getTime() + stack.maxRunHours * HOUR), estimated: true }
    : { estimated: true };
}

export function classifyRun(input: ClassifyInput): RunStatus {
  const { stack, record, pulumi, now } = input;
  const { at: deadline, estimated } = deadlineOf(input);
  const passed = deadline !== undefined && now.getTime() > deadline.getTime();
  const resources = pulumi ? (pulumi.exists ? (pulumi.resourceCount ?? 0) : 0) : undefined;
  const deployed = pulumi
    ? pulumi.exists && (pulumi.lastUpdate !== undefined || (resources ?? 0) > 0)
    : undefined;
  const unknown: RunStatus["unknown"] = [];
  if (!record) unknown.push("result");
  if (!pulumi) unknown.push("resources", "deployed");

  let outcome: RunStatus["outcome"];
  let note = "";
  if (record?.found) {
    const s = record.status?.toLowerCase();
    outcome = s === "push-failed" ? "push-failed" : s !== undefined && FAILED.has(s) ? "failed" : "finished";
    if (record.status === undefined) note = "run.json has no status field";
  } else if (pulumi?.updateInProgress) {
    outcome = "running";
    note = "a pulumi update is in progress";
  } else if (deployed === false) {
    outcome = "launched";
    note = "stack file written; never deployed";
  } else if (!record) {
    outcome = deployed ? "running" : "launched";
    note = "results could not be checked (git fetch failed)";
  } else if (passed) {
    outcome = "pushed-nothing";
    note =
      deployed === undefined
        ? "deadline passed and no record (whether it was deployed is unknown)"
        : "deadline passed and no record in git";
  } else {
    outcome = deployed ? "running" : "launched";
    if (deployed === undefined) note = "no record yet";
  }
  const leaking = resources !== undefined && resources > 0 && (record?.found === true || passed);
  if (leaking) note = note ? `${note}; reap it` : "resources remain: reap it";
  return {
    runId: stack.runId,
    stack: stackNameOf(stack.runId),
    state: leaking ? "leaking" : outcome,
    outcome,
    recorded: record ? record.found : null,
    recordStatus: record?.found ? (record.status ?? null) : null,
    resources: resources ?? null,
    deadline: deadline ? deadline.toISOString() : null,
    deadlineEstimated: estimated,
    unknown,
    note,
  };
}

/** Loose read of run.json: only `status` matters here, and a broken file still counts as a record. */
export function readRecordStatus(text: string): RecordObservation {
  try {
    const v = JSON.parse(text) as unknown;
    const status = v !== null && typeof v === "object" ? (v as { status?: unknown }).status : undefined;
    return { found: true, status: typeof status === "string" ? status : undefined };
  } catch {
    return { found: true, status: "unreadable" };
  }
}

/** `pulumi stack ls --json` → observations by stack name (org/project/ prefixes dropped). */
export function parseStackList(json: string): Map<string, StackObservation> {
  const list = JSON.parse(json) as unknown;
  const out = new Map<string, StackObservation>();
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (item === null || typeof item !== "object") continue;
    const s = item as Record<string, unknown>;
    if (typeof s.name !== "string") continue;
    out.set(s.name.split("/").pop() as string, {
      exists: true,
      resourceCount: typeof s.resourceCount === "number" ? s.resourceCount : undefined,
      lastUpdate: typeof s.lastUpdate === "string" ? s.lastUpdate : undefined,
      updateInProgress: s.updateInProgress === true,
    });
  }
  return out;
}

export function renderStatusTable(rows: readonly RunStatus[]): string {
  const header = ["RUN", "STATE", "RESULT", "RESOURCES", "DEADLINE", "NOTE"];
  const body = rows.map((r) => [
    r.runId,
    r.state === "leaking" ? `leaking (${r.outcome})` : r.state,
    r.recorded === null ? "?" : r.recorded ? (r.recordStatus ?? "(no status)") : "-",
    r.resources === null ? "?" : String(r.resources),
    r.deadline ? `${r.deadline.slice(0, 16).replace("T", " ")}Z${r.deadlineEstimated ? "~" : ""}` : "?",
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...body.map(line)].join("\n");
}
