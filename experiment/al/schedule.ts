import type { AlConfig } from "../../configs/experiment.js";

/** The stopping rule, shared by the loop and by anything that predicts it (progress bars, planning). */
type Schedule = Pick<AlConfig, "rounds" | "budget" | "querySize"> & { initial: { count: number } };

/**
 * Labels to acquire after round `round` (0-based) with `labelled` labels in a pool of `poolSize`
 * rows; 0 means this is the last round. al.rounds counts acquisitions; the budget and the pool cap
 * the last one.
 */
export function acquisitionSize(o: {
  al: Schedule;
  round: number;
  labelled: number;
  poolSize: number;
}): number {
  if (o.al.rounds !== undefined && o.round >= o.al.rounds) return 0;
  const budgetLeft = o.al.budget === undefined ? Number.POSITIVE_INFINITY : o.al.budget - o.labelled;
  return Math.max(0, Math.min(o.al.querySize, budgetLeft, o.poolSize - o.labelled));
}

/**
 * How many rounds (evaluated points on the curve) a completed trial has: at most al.rounds + 1,
 * fewer when the budget or the pool (when given) runs out first.
 */
export function plannedRounds(al: Schedule, poolSize = Number.POSITIVE_INFINITY): number {
  if (al.rounds === undefined && al.budget === undefined && poolSize === Number.POSITIVE_INFINITY) {
    throw new RangeError("plannedRounds: nothing bounds the loop (no al.rounds, al.budget or pool size)");
  }
  let labelled = Math.min(al.initial.count, poolSize);
  for (let round = 0; ; round++) {
    const k = acquisitionSize({ al, round, labelled, poolSize });
    if (k === 0) return round + 1;
    labelled += k;
  }
}
