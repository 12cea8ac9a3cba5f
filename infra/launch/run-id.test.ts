import { describe, expect, it } from "vitest";
import { RUN_ID_RE } from "../../configs/stack.js";
import { launchTimeOf, MAX_RUN_NAME, makeRunId, randomSuffix, stackFileNameOf } from "./run-id.js";

const now = new Date("2026-12-03T13:45:59Z");

describe("run ids", () => {
  it("are <name>-<yyyymmdd-hhmm>-<4 random> in UTC and valid stack names / GCE prefixes", () => {
    const id = makeRunId({ name: "quick", now, suffix: "ab12" });
    expect(id).toBe("quick-20261203-1345-ab12");
    expect(id).toMatch(RUN_ID_RE);
    expect(stackFileNameOf(id)).toBe("Pulumi.run-quick-20261203-1345-ab12.yaml");
  });

  it("use UTC whatever the local offset of the Date", () => {
    expect(makeRunId({ name: "x", now: new Date("2026-12-31T23:59:00-05:00"), suffix: "0000" })).toBe(
      "x-20270101-0459-0000",
    );
  });

  it("truncate long config names so the id fits 40 chars, without a trailing '-'", () => {
    const name = "a-very-long-experiment-name-for-mnist";
    const id = makeRunId({ name, now, suffix: "zz99" });
    expect(id.length).toBeLessThanOrEqual(40);
    expect(id).toMatch(RUN_ID_RE);
    expect(id.startsWith(name.slice(0, MAX_RUN_NAME).replace(/-+$/, ""))).toBe(true);
    expect(makeRunId({ name: "abcdefghijklmnopqrst-x", now, suffix: "aaaa" })).toBe(
      "abcdefghijklmnopqrst-20261203-1345-aaaa",
    );
  });

  it("reject names and suffixes that cannot form a valid id", () => {
    expect(() => makeRunId({ name: "Quick", now, suffix: "ab12" })).toThrow(/not usable in a run id/);
    expect(() => makeRunId({ name: "1x", now, suffix: "ab12" })).toThrow(/not usable/);
    expect(() => makeRunId({ name: "q", now, suffix: "AB12" })).toThrow(/suffix/);
  });

  it("carry their launch minute", () => {
    expect(launchTimeOf("quick-20261203-1345-ab12")?.toISOString()).toBe("2026-12-03T13:45:00.000Z");
    expect(launchTimeOf("hand-made")).toBeUndefined();
  });

  it("draw the suffix from [a-z0-9] for any random source, including the edges", () => {
    expect(randomSuffix(() => 0)).toBe("aaaa");
    expect(randomSuffix(() => 0.999999)).toBe("9999");
    expect(randomSuffix(() => 1)).toBe("9999");
    let i = 0;
    const seq = [0.1, 0.5, 0.7, 0.9];
    expect(randomSuffix(() => seq[i++ % 4]!)).toMatch(/^[a-z0-9]{4}$/);
  });
});
