import type { StrategySummary } from "./schema.js";

/**
 * The shape of experiment/al/metrics.ts `summarize()` that a record keeps, declared structurally
 * so the record does not depend on everything the metrics module reports (curves, tables).
 */
export interface SummaryLike {
  strategies: readonly {
    strategy: string;
    seeds: readonly number[];
    aubc: { mean: number; std: number };
    finalAccuracy: { mean: number; std: number };
  }[];
  vsRandom: readonly { strategy: string; wins: number; losses: number; ties: number; meanDiff: number }[];
}

/** Strategy → figures, in the order the metrics listed the strategies. */
export function recordSummary(s: SummaryLike): Record<string, StrategySummary> {
  const out: Record<string, StrategySummary> = {};
  for (const st of s.strategies) {
    const vs = s.vsRandom.find((v) => v.strategy === st.strategy);
    out[st.strategy] = {
      aubcMean: st.aubc.mean,
      aubcStd: st.aubc.std,
      finalAccuracyMean: st.finalAccuracy.mean,
      finalAccuracyStd: st.finalAccuracy.std,
      seeds: [...st.seeds],
      ...(vs ? { vsRandom: { wins: vs.wins, losses: vs.losses, ties: vs.ties, meanDiff: vs.meanDiff } } : {}),
    };
  }
  return out;
}
