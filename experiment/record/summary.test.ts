import { describe, expect, it } from "vitest";
import { buildRecord } from "./schema.js";
import { recordSummary } from "./summary.js";
import { sampleInputs } from "./testing.js";

describe("recordSummary", () => {
  it("keeps mean/std per strategy, the seeds and the per-seed comparison with random", () => {
    const summary = recordSummary({
      strategies: [
        {
          strategy: "random",
          seeds: [1, 2],
          aubc: { mean: 0.6, std: 0.01 },
          finalAccuracy: { mean: 0.7, std: 0.02 },
        },
        {
          strategy: "bald",
          seeds: [1, 2],
          aubc: { mean: 0.66, std: 0.03 },
          finalAccuracy: { mean: 0.8, std: 0 },
        },
      ],
      vsRandom: [{ strategy: "bald", wins: 2, losses: 0, ties: 0, meanDiff: 0.06 }],
    });
    expect(summary).toEqual({
      random: { aubcMean: 0.6, aubcStd: 0.01, finalAccuracyMean: 0.7, finalAccuracyStd: 0.02, seeds: [1, 2] },
      bald: {
        aubcMean: 0.66,
        aubcStd: 0.03,
        finalAccuracyMean: 0.8,
        finalAccuracyStd: 0,
        seeds: [1, 2],
        vsRandom: { wins: 2, losses: 0, ties: 0, meanDiff: 0.06 },
      },
    });
    expect(buildRecord({ ...sampleInputs(), summary }).summary).toEqual(summary);
  });

  it("an empty summary (no trial completed) is a valid record summary", () => {
    expect(
      buildRecord({ ...sampleInputs(), summary: recordSummary({ strategies: [], vsRandom: [] }) }).summary,
    ).toEqual({});
  });
});
