import type { StrategyName } from "../../configs/experiment.js";
import type { TrialResult } from "./types.js";

export interface CurvePoint {
  labels: number;
  accuracy: number;
}

/**
 * AUBC, the area under the budget curve: the trapezoid-rule area under accuracy vs number of
 * labels, divided by the label span (last − first label count). That makes it the mean accuracy
 * over the budget, in [0, 1], weighted by labels rather than by rounds. Some benchmarks instead
 * report the plain mean of the per-round accuracies; the two agree only when every round adds the
 * same number of labels, so compare AUBCs only between runs with the same initial size, query size
 * and budget. A single-point curve's AUBC is its accuracy. Points must be in increasing label order.
 */
export function aubc(curve: readonly CurvePoint[]): number {
  if (curve.length === 0) throw new RangeError("aubc: the curve has no points");
  const first = curve[0]!;
  const last = curve[curve.length - 1]!;
  const span = last.labels - first.labels;
  if (curve.length === 1 || span === 0) return curve.reduce((s, p) => s + p.accuracy, 0) / curve.length;
  let area = 0;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    if (b.labels < a.labels)
      throw new RangeError(`aubc: labels decrease at point ${i} (${a.labels} → ${b.labels})`);
    area += ((a.accuracy + b.accuracy) / 2) * (b.labels - a.labels);
  }
  return area / span;
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export interface Stat {
  mean: number;
  std: number;
  n: number;
}

export function stat(values: readonly number[]): Stat {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

export interface StrategySummary {
  strategy: StrategyName;
  /** Seeds of the completed trials this summary averages. */
  seeds: number[];
  /** Accuracy at each label count reached, over the seeds that reached it. */
  curve: { labels: number; accuracy: Stat }[];
  aubc: Stat;
  finalAccuracy: Stat;
}

/** Per-seed AUBC comparison of one strategy against random (how the literature reports wins). */
export interface VsRandom {
  strategy: StrategyName;
  wins: number;
  losses: number;
  ties: number;
  /** Mean over the paired seeds of (strategy AUBC − random AUBC). */
  meanDiff: number;
  perSeed: { seed: number; diff: number }[];
}

export interface ExperimentSummary {
  strategies: StrategySummary[];
  vsRandom: VsRandom[];
  /** Trials left out of the statistics because they did not complete. */
  incomplete: { strategy: StrategyName; seed: number; status: TrialResult["status"]; rounds: number }[];
}

/**
 * Mean ± std over seeds per strategy. Only completed trials count: a partial curve's AUBC spans a
 * different budget and would bias the mean; incomplete trials are listed instead.
 */
export function summarize(trials: readonly TrialResult[]): ExperimentSummary {
  const incomplete: ExperimentSummary["incomplete"] = [];
  const byStrategy = new Map<StrategyName, TrialResult[]>();
  for (const t of trials) {
    if (t.status !== "completed" || t.summary === null) {
      incomplete.push({ strategy: t.strategy, seed: t.seed, status: t.status, rounds: t.rounds.length });
      continue;
    }
    const list = byStrategy.get(t.strategy) ?? [];
    list.push(t);
    byStrategy.set(t.strategy, list);
  }

  const strategies: StrategySummary[] = [];
  for (const [strategy, list] of byStrategy) {
    const atLabels = new Map<number, number[]>();
    for (const t of list) {
      for (const r of t.rounds) {
        const values = atLabels.get(r.labels) ?? [];
        values.push(r.accuracy);
        atLabels.set(r.labels, values);
      }
    }
    strategies.push({
      strategy,
      seeds: list.map((t) => t.seed),
      curve: [...atLabels.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([labels, values]) => ({ labels, accuracy: stat(values) })),
      aubc: stat(list.map((t) => t.summary!.aubc)),
      finalAccuracy: stat(list.map((t) => t.summary!.finalAccuracy)),
    });
  }

  const vsRandom: VsRandom[] = [];
  const random = new Map((byStrategy.get("random") ?? []).map((t) => [t.seed, t.summary!.aubc]));
  if (random.size > 0) {
    for (const [strategy, list] of byStrategy) {
      if (strategy === "random") continue;
      const perSeed = list
        .filter((t) => random.has(t.seed))
        .map((t) => ({ seed: t.seed, diff: t.summary!.aubc - random.get(t.seed)! }));
      if (perSeed.length === 0) continue;
      vsRandom.push({
        strategy,
        wins: perSeed.filter((p) => p.diff > 0).length,
        losses: perSeed.filter((p) => p.diff < 0).length,
        ties: perSeed.filter((p) => p.diff === 0).length,
        meanDiff: perSeed.reduce((s, p) => s + p.diff, 0) / perSeed.length,
        perSeed,
      });
    }
  }
  return { strategies, vsRandom, incomplete };
}

const BOLD = "\u001b[1m";
const RESET = "\u001b[0m";

const seedsText = (n: number): string => `${n} seed${n === 1 ? "" : "s"}`;

function fmtStat(s: Stat, digits: number): string {
  return `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

/**
 * Accuracy vs labels per strategy (mean ± std over seeds), then AUBC and final accuracy rows, then
 * the per-seed comparison with random. Plain text by default (safe for --no-color, logs and files);
 * `color: true` only adds bold to the best mean of each row. A cell averaged over fewer seeds than
 * its strategy has is marked with the count in brackets.
 */
export function renderTable(summary: ExperimentSummary, opts: { color?: boolean } = {}): string {
  const cols = summary.strategies;
  const lines: string[] = [];
  if (cols.length > 0) {
    const labelCounts = [...new Set(cols.flatMap((c) => c.curve.map((p) => p.labels)))].sort((a, b) => a - b);
    const rows: { head: string; cells: { text: string; mean: number }[] }[] = [];
    for (const labels of labelCounts) {
      rows.push({
        head: String(labels),
        cells: cols.map((c) => {
          const p = c.curve.find((q) => q.labels === labels);
          if (p === undefined) return { text: "-", mean: Number.NaN };
          const partial = p.accuracy.n < c.seeds.length ? ` (${p.accuracy.n})` : "";
          return { text: fmtStat(p.accuracy, 3) + partial, mean: p.accuracy.mean };
        }),
      });
    }
    rows.push({ head: "AUBC", cells: cols.map((c) => ({ text: fmtStat(c.aubc, 4), mean: c.aubc.mean })) });
    rows.push({
      head: "final",
      cells: cols.map((c) => ({ text: fmtStat(c.finalAccuracy, 3), mean: c.finalAccuracy.mean })),
    });

    const header = ["labels", ...cols.map((c) => `${c.strategy} (${seedsText(c.seeds.length)})`)];
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => (i === 0 ? r.head.length : r.cells[i - 1]!.text.length))),
    );
    lines.push("accuracy vs labels (mean ± sample std over seeds)");
    lines.push(header.map((h, i) => (i === 0 ? h.padStart(widths[0]!) : h.padEnd(widths[i]!))).join("  "));
    for (const [r, row] of rows.entries()) {
      if (r === rows.length - 2) lines.push(widths.map((w) => "-".repeat(w)).join("  "));
      const best = Math.max(
        ...row.cells.map((c) => (Number.isNaN(c.mean) ? Number.NEGATIVE_INFINITY : c.mean)),
      );
      const cells = row.cells.map((c, i) => {
        const padded = c.text.padEnd(widths[i + 1]!);
        return opts.color && cols.length > 1 && c.mean === best ? `${BOLD}${padded}${RESET}` : padded;
      });
      lines.push([row.head.padStart(widths[0]!), ...cells].join("  ").trimEnd());
    }
  } else {
    lines.push("no completed trials");
  }

  if (summary.vsRandom.length > 0) {
    lines.push("", "AUBC vs random, per seed (AUBC = trapezoid area under accuracy vs labels / label span):");
    for (const v of summary.vsRandom) {
      const sign = v.meanDiff >= 0 ? "+" : "";
      lines.push(
        `  ${v.strategy}: ${v.wins} wins, ${v.losses} losses, ${v.ties} ties over ${seedsText(v.perSeed.length)}; mean difference ${sign}${v.meanDiff.toFixed(4)}`,
      );
    }
  }
  if (summary.incomplete.length > 0) {
    lines.push("", "not included (did not complete):");
    for (const t of summary.incomplete) {
      lines.push(`  ${t.strategy} seed ${t.seed}: ${t.status} after ${t.rounds} rounds`);
    }
  }
  return lines.join("\n");
}
