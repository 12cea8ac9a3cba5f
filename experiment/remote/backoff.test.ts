import { describe, expect, it } from "vitest";
import { isRunstackError } from "../../configs/errors.js";
import { backoffDelays, retry } from "./backoff.js";

const seq = (...xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length]!;
};

describe("backoffDelays", () => {
  it("doubles the ceiling each step and caps it at maxMs", () => {
    // rand just under 1 exposes the ceiling of each step.
    const d = backoffDelays({ attempts: 8, baseMs: 100, maxMs: 1000, rand: () => 0.999999 });
    expect(d).toEqual([99, 199, 399, 799, 999, 999, 999]);
  });

  it("scales each ceiling by the jitter (full jitter, not additive noise)", () => {
    const d = backoffDelays({ attempts: 4, baseMs: 1000, maxMs: 60_000, rand: seq(0, 0.5, 0.25) });
    expect(d).toEqual([0, 1000, 1000]);
  });

  it("has attempts - 1 delays, none for a single attempt", () => {
    expect(backoffDelays({ attempts: 1, baseMs: 10, maxMs: 10, rand: Math.random })).toEqual([]);
    expect(backoffDelays({ attempts: 5, baseMs: 10, maxMs: 10, rand: Math.random })).toHaveLength(4);
  });

  it("stays within [0, maxMs] even for huge attempt counts and out-of-range rand", () => {
    const d = backoffDelays({ attempts: 2000, baseMs: 50, maxMs: 5000, rand: seq(1.7, -3, Number.NaN, 0.3) });
    for (const x of d) {
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(5000);
    }
  });

  it.each([
    { attempts: 0, baseMs: 1, maxMs: 1 },
    { attempts: 1.5, baseMs: 1, maxMs: 1 },
    { attempts: 3, baseMs: -1, maxMs: 1 },
    { attempts: 3, baseMs: 10, maxMs: 5 },
    { attempts: 3, baseMs: 1, maxMs: Number.POSITIVE_INFINITY },
  ])("rejects nonsense limits %o with CONFIG_INVALID", (limits) => {
    try {
      backoffDelays({ ...limits, rand: Math.random });
      expect.unreachable();
    } catch (e) {
      expect(isRunstackError(e) && e.code).toBe("CONFIG_INVALID");
    }
  });
});

describe("retry", () => {
  const limits = { attempts: 4, baseMs: 100, maxMs: 1000, rand: () => 0.5 };

  it("returns the first success and sleeps the backoff schedule between failures", async () => {
    const slept: number[] = [];
    const seen: number[] = [];
    const value = await retry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error(`boom ${attempt}`);
        return "ok";
      },
      { ...limits, sleep: async (ms) => void slept.push(ms) },
    );
    expect(value).toBe("ok");
    expect(seen).toEqual([1, 2, 3]);
    expect(slept).toEqual([50, 100]);
  });

  it("gives up after the bounded attempts and rethrows the last error", async () => {
    let calls = 0;
    const retried: number[] = [];
    const p = retry(
      async (attempt) => {
        calls++;
        throw new Error(`fail ${attempt}`);
      },
      { ...limits, sleep: async () => {}, onRetry: ({ attempt }) => void retried.push(attempt) },
    );
    await expect(p).rejects.toThrow("fail 4");
    expect(calls).toBe(4);
    expect(retried).toEqual([1, 2, 3]);
  });

  it("throws a non-retryable error at once without sleeping", async () => {
    let calls = 0;
    let sleeps = 0;
    const p = retry(
      async () => {
        calls++;
        throw new Error("Permission denied (publickey)");
      },
      {
        ...limits,
        sleep: async () => void sleeps++,
        isRetryable: (e) => !String(e).includes("Permission denied"),
      },
    );
    await expect(p).rejects.toThrow("Permission denied");
    expect(calls).toBe(1);
    expect(sleeps).toBe(0);
  });

  it("really waits with the default sleep (tiny delays)", async () => {
    let calls = 0;
    const v = await retry(
      async () => {
        if (++calls < 3) throw new Error("x");
        return calls;
      },
      { attempts: 3, baseMs: 1, maxMs: 2 },
    );
    expect(v).toBe(3);
  });
});
