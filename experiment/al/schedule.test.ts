import { describe, expect, it } from "vitest";
import { acquisitionSize, plannedRounds } from "./schedule.js";

const al = (o: { rounds?: number; budget?: number }) => ({ querySize: 10, initial: { count: 20 }, ...o });

describe("schedule", () => {
  it("al.rounds counts acquisitions, so a trial evaluates rounds + 1 times", () => {
    expect(plannedRounds(al({ rounds: 100 }))).toBe(101);
  });

  it("the budget caps the last acquisition and the number of rounds", () => {
    // 20 → 30 → 40 → 45
    expect(plannedRounds(al({ budget: 45 }))).toBe(4);
    expect(acquisitionSize({ al: al({ budget: 45 }), round: 2, labelled: 40, poolSize: 1000 })).toBe(5);
    expect(plannedRounds(al({ rounds: 2, budget: 45 }))).toBe(3);
  });

  it("the pool caps it too", () => {
    // 20 → 30 → 35
    expect(plannedRounds(al({ rounds: 100 }), 35)).toBe(3);
    expect(acquisitionSize({ al: al({ rounds: 100 }), round: 1, labelled: 30, poolSize: 35 })).toBe(5);
  });

  it("refuses a schedule with nothing to stop it", () => {
    expect(() => plannedRounds(al({}))).toThrow(/nothing bounds the loop/);
  });
});
