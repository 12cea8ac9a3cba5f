import { describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import type { PhaseReporter } from "./phase.js";
import { publishOrPark } from "./safekeeping.js";

function harness(results: (() => { commit: string; attempts: number })[]) {
  let t = 0;
  const events: string[] = [];
  const reporter: PhaseReporter = {
    phase: async (p) => void events.push(`phase:${p}`),
    detail: async () => {},
    resultCommit: async () => {},
  };
  return {
    events,
    opts: {
      publish: async () => {
        events.push("publish");
        const next = results.shift();
        if (!next) throw new RunstackError("PUSH_FAILED", "remote down");
        return next();
      },
      park: async () => void events.push("park"),
      reporter,
      parkAt: 10_000,
      retryIntervalMs: 3_000,
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
      },
      log: () => {},
    },
  };
}

describe("publishOrPark: results end up pushed or parked, never dropped", () => {
  it("pushes on the first round when the remote is up", async () => {
    const h = harness([() => ({ commit: "c1", attempts: 1 })]);
    expect(await publishOrPark(h.opts)).toEqual({ kind: "pushed", commit: "c1", attempts: 1 });
    expect(h.events).toEqual(["publish"]);
  });

  it("retries in rounds while push-failed, and pushes when the remote comes back", async () => {
    const fail = () => {
      throw new RunstackError("PUSH_FAILED", "down");
    };
    const h = harness([fail, () => ({ commit: "c2", attempts: 2 })]);
    expect((await publishOrPark(h.opts)).kind).toBe("pushed");
    expect(h.events).toEqual(["publish", "phase:push-failed", "publish"]);
  });

  it("parks the boot disk when no round can start before the park time", async () => {
    const h = harness([]);
    const r = await publishOrPark(h.opts);
    expect(r.kind).toBe("parked");
    // rounds at t=0, 3000, 6000, 9000; after that the next pause would cross parkAt (12000 > 10000)
    expect(h.events.filter((e) => e === "publish")).toHaveLength(4);
    expect(h.events.at(-1)).toBe("park");
  });

  it("parks at once when publishing is refused (pushing can never work)", async () => {
    const h = harness([
      () => {
        throw new RunstackError("PUBLISH_REFUSED", "key material under results/");
      },
    ]);
    const r = await publishOrPark(h.opts);
    expect(r).toMatchObject({ kind: "parked", reason: expect.stringMatching(/refused/) });
    expect(h.events).toEqual(["publish", "park"]);
  });

  it("parks at once when the VM is shutting down", async () => {
    const h = harness([]);
    const r = await publishOrPark({ ...h.opts, shuttingDown: () => true });
    expect(r.kind).toBe("parked");
    expect(h.events).toEqual(["publish", "park"]);
  });
});
