import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isRunstackError } from "../../configs/errors.js";
import type { StackConfig } from "../../configs/stack.js";
import type { GitPort } from "./git.js";
import type { PulumiCli } from "./pulumi-cli.js";
import { REMOTE } from "./repo.js";
import { stackNameOf } from "./run-id.js";
import { parseStackFile } from "./stack-file.js";
import {
  classifyRun,
  parseStackList,
  type RecordObservation,
  type RunStatus,
  readRecordStatus,
  type StackObservation,
} from "./status.js";

/** The I/O half of status and reap: read stack files, results in git, and pulumi's view. */

const STACK_FILE_RE = /^Pulumi\.run-(.+)\.yaml$/;

export interface ObserveOptions {
  git: GitPort;
  /** undefined when no CLI should be asked; its PULUMI_CLI_MISSING is also handled. */
  pulumi?: PulumiCli;
  now: Date;
  /** Only this run. */
  runId?: string;
}

export interface Observation {
  rows: RunStatus[];
  stacks: Map<string, StackConfig>;
  /** Why some columns are unknown, and stack files that could not be read. */
  notes: string[];
}

export function listStackFiles(root: string): { file: string; runId: string }[] {
  return readdirSync(root)
    .map((f) => ({ file: f, m: STACK_FILE_RE.exec(f) }))
    .filter((x): x is { file: string; m: RegExpExecArray } => x.m !== null)
    .map(({ file, m }) => ({ file, runId: m[1]! }))
    .sort((a, b) => a.runId.localeCompare(b.runId));
}

export async function observe({ git, pulumi, now, runId }: ObserveOptions): Promise<Observation> {
  const root = await git.root();
  const notes: string[] = [];
  const stacks = new Map<string, StackConfig>();
  for (const { file, runId: id } of listStackFiles(root)) {
    if (runId !== undefined && id !== runId) continue;
    try {
      stacks.set(id, parseStackFile(readFileSync(join(root, file), "utf8"), file));
    } catch (e) {
      notes.push(`skipped ${file}: ${(e as Error).message}`);
    }
  }

  let fetched = true;
  try {
    await git.fetch(REMOTE);
  } catch (e) {
    fetched = false;
    notes.push(`result column unknown: git fetch ${REMOTE} failed (${(e as Error).message.split("\n")[0]})`);
  }
  const records = new Map<string, RecordObservation>();
  if (fetched) {
    for (const [id, s] of stacks) {
      const bytes = await git.readAt(`${REMOTE}/${s.resultsBranch}`, `results/${id}/run.json`);
      records.set(id, bytes === undefined ? { found: false } : readRecordStatus(bytes.toString("utf8")));
    }
  }

  const live = await observeStacks(pulumi, [...stacks.keys()], notes);
  const rows = [...stacks.entries()].map(([id, stack]) =>
    classifyRun({ stack, record: records.get(id), pulumi: live?.get(id), now }),
  );
  return { rows, stacks, notes };
}

async function observeStacks(
  pulumi: PulumiCli | undefined,
  ids: string[],
  notes: string[],
): Promise<Map<string, StackObservation> | undefined> {
  if (!pulumi) {
    notes.push("resources/deployed columns unknown: pulumi was not asked");
    return undefined;
  }
  let listed: Map<string, StackObservation>;
  try {
    const r = await pulumi.run(["stack", "ls", "--json"]);
    if (r.code !== 0) {
      notes.push(
        `resources/deployed columns unknown: pulumi stack ls failed: ${r.stderr.trim().split("\n")[0]}`,
      );
      return undefined;
    }
    listed = parseStackList(r.stdout);
  } catch (e) {
    if (isRunstackError(e) && e.code === "PULUMI_CLI_MISSING") {
      notes.push("resources/deployed columns unknown: the pulumi CLI is not on PATH");
      return undefined;
    }
    throw e;
  }
  const out = new Map<string, StackObservation>();
  for (const id of ids) {
    const seen = listed.get(stackNameOf(id));
    if (!seen) {
      out.set(id, { exists: false });
      continue;
    }
    if ((seen.resourceCount ?? 0) > 0) {
      const r = await pulumi.run(["stack", "output", "--json", "-s", stackNameOf(id)]);
      if (r.code === 0) {
        try {
          const outputs = JSON.parse(r.stdout) as unknown;
          if (outputs !== null && typeof outputs === "object")
            seen.outputs = outputs as Record<string, unknown>;
        } catch {
          notes.push(`${stackNameOf(id)}: stack output was not JSON`);
        }
      }
    }
    out.set(id, seen);
  }
  return out;
}
