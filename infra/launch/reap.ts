import { RunstackError } from "../../configs/errors.js";
import { destroyStep, showStep } from "./commands.js";
import type { GitPort } from "./git.js";
import { observe } from "./observe.js";
import { type PulumiCli, runOrThrow } from "./pulumi-cli.js";
import type { RunStatus } from "./status.js";

/**
 * reap: `pulumi destroy --refresh --remove` for runs whose record is in git, and only those. A run
 * without its record may still be running, or its results may exist nowhere else yet.
 */

export interface ReapOptions {
  git: GitPort;
  pulumi: () => PulumiCli;
  now: Date;
  dryRun: boolean;
  runId?: string;
  log: (line: string) => void;
}

export interface ReapResult {
  destroyed: string[];
  /** Dry run: what would be destroyed. */
  wouldDestroy: string[];
  skipped: { runId: string; reason: string }[];
  failed: { runId: string; message: string }[];
  notes: string[];
}

/** Pure: whether a run may be destroyed, and why not. */
export function reapDecision(
  row: RunStatus,
  branch: string,
): { reap: true } | { reap: false; reason: string } {
  if (row.unknown.includes("result"))
    return { reap: false, reason: "could not check git for its results (fetch failed)" };
  if (!row.recorded) {
    return {
      reap: false,
      reason: `results/${row.runId}/run.json is not on origin/${branch} (state: ${row.outcome}); destroying could lose its only copy of the results`,
    };
  }
  if (row.resources === 0 && !row.unknown.includes("resources")) {
    return { reap: false, reason: "no stack or no resources left (already reaped?)" };
  }
  return { reap: true };
}

export async function reap(opts: ReapOptions): Promise<ReapResult> {
  let cli: PulumiCli | undefined;
  try {
    cli = opts.pulumi();
    await cli.ensureAvailable();
  } catch (e) {
    if (!opts.dryRun) throw e;
    cli = undefined; // a dry run can still say what it would do from git alone
  }
  const obs = await observe({ git: opts.git, pulumi: cli, now: opts.now, runId: opts.runId });
  if (opts.runId !== undefined && obs.rows.length === 0) {
    throw new RunstackError(
      "STACK_NOT_FOUND",
      `no readable Pulumi.run-${opts.runId}.yaml in the repository root`,
      {
        hint: "see `status` for the runs this checkout knows about",
      },
    );
  }
  const result: ReapResult = { destroyed: [], wouldDestroy: [], skipped: [], failed: [], notes: obs.notes };
  for (const row of obs.rows) {
    const branch = obs.stacks.get(row.runId)?.resultsBranch ?? "main";
    const d = reapDecision(row, branch);
    if (!d.reap) {
      result.skipped.push({ runId: row.runId, reason: d.reason });
      opts.log(`skip ${row.runId}: ${d.reason}`);
      continue;
    }
    const step = destroyStep(row.runId);
    if (opts.dryRun || !cli) {
      result.wouldDestroy.push(row.runId);
      opts.log(`would run: ${showStep(step)}`);
      continue;
    }
    opts.log(`$ ${showStep(step)}`);
    try {
      await runOrThrow(cli, step.args, { onLine: (l) => opts.log(`[${row.runId}] ${l}`) });
      result.destroyed.push(row.runId);
      opts.log(
        `destroyed ${row.runId}; --remove also deleted Pulumi.run-${row.runId}.yaml: commit that (results/${row.runId}/ keeps the provenance)`,
      );
    } catch (e) {
      result.failed.push({ runId: row.runId, message: (e as Error).message });
    }
  }
  if (opts.runId !== undefined && result.skipped.length > 0) {
    throw new RunstackError("UNSAFE_TO_DESTROY", `not reaping ${opts.runId}: ${result.skipped[0]!.reason}`, {
      hint: "wait for its results (see `status`); for a run that will never report, `pulumi destroy -s run-<id>` by hand",
    });
  }
  return result;
}
