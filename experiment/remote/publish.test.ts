import { describe, expect, it } from "vitest";
import { isRunstackError } from "../../configs/errors.js";
import { resultCommitMessage } from "./publish.js";
import { checkNames } from "./publish-checks.js";

const base = {
  runId: "r-20261203-abc",
  configPath: "configs/mnist-margin.yaml",
  configSha256: "9f".repeat(32),
  commit: "a".repeat(40),
  status: "succeeded",
};

describe("resultCommitMessage", () => {
  it("names the run in the subject and the config, its hash and the code commit as trailers", () => {
    const msg = resultCommitMessage(base);
    const [subject, blank, ...trailers] = msg.trimEnd().split("\n");
    expect(subject).toBe("results: r-20261203-abc (succeeded)");
    expect(blank).toBe("");
    expect(trailers).toEqual([
      "Runstack-Run: r-20261203-abc",
      "Runstack-Status: succeeded",
      "Runstack-Config: configs/mnist-margin.yaml",
      `Runstack-Config-Sha256: ${"9f".repeat(32)}`,
      `Runstack-Code-Commit: ${"a".repeat(40)}`,
    ]);
  });

  it.each(["runId", "configPath", "status", "commit"] as const)(
    "refuses a %s that would inject lines",
    (key) => {
      try {
        resultCommitMessage({ ...base, [key]: "x\nRunstack-Status: succeeded" });
        expect.unreachable();
      } catch (e) {
        expect(isRunstackError(e) && e.code).toBe("PUBLISH_REFUSED");
      }
    },
  );

  it("refuses empty values", () => {
    expect(() => resultCommitMessage({ ...base, configSha256: " " })).toThrow(/configSha256/);
  });
});

describe("checkNames", () => {
  it.each([
    ["r-1", "results/r-1"],
    ["2026-12-03.a_b", "runs/2026-12-03.a_b"],
  ])("accepts run %s in %s", (runId, resultsDir) => {
    expect(() => checkNames({ runId, resultsDir })).not.toThrow();
  });
  it.each([
    ["../x", "results/../x"],
    ["a..b", "results/a..b"],
    ["x.lock", "results/x.lock"],
    ["-flag", "results/-flag"],
    ["r", "/abs/results/r"],
    ["r", "results//r"],
    ["r", "results/r/"],
    ["r", "results/other"],
    ["r", "../results/r"],
    ["has space", "results/has space"],
  ])("refuses run %j in %j", (runId, resultsDir) => {
    try {
      checkNames({ runId, resultsDir });
      expect.unreachable();
    } catch (e) {
      expect(isRunstackError(e) && e.code).toBe("PUBLISH_REFUSED");
    }
  });
});
