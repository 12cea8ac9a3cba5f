import { join } from "node:path";
import type { TrialResult } from "../al/types.js";
import { writeFileAtomic } from "./atomic.js";

export const CURVES_FILE = "curves.csv";
export const CURVES_HEADER = ["strategy", "seed", "round", "labels", "accuracy", "loss"] as const;

/**
 * One row per strategy/seed/round, for plotting without parsing run.json. Numbers are written
 * with full precision (String(n)), so the CSV never disagrees with the record.
 */
export function curvesCsv(trials: readonly TrialResult[]): string {
  const lines = [CURVES_HEADER.join(",")];
  for (const t of trials) {
    for (const r of t.rounds) {
      lines.push([csvField(t.strategy), t.seed, r.round, r.labels, r.accuracy, r.loss].join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Write `<dir>/curves.csv` atomically, like run.json. Returns the file's path. */
export async function writeCurves(dir: string, trials: readonly TrialResult[]): Promise<string> {
  const path = join(dir, CURVES_FILE);
  await writeFileAtomic(path, curvesCsv(trials));
  return path;
}

// Strategy names are an enum today; quoting keeps the file valid if a name ever holds a comma.
function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
