import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunstackError } from "../../configs/errors.js";
import { RUN_ID_RE } from "../../configs/stack.js";
import { mulberry32 } from "../rng.js";
import { CURVES_HEADER, curvesCsv, writeCurves } from "./curves.js";
import { buildRecord, withStatus } from "./schema.js";
import { sampleInputs } from "./testing.js";
import { createRunDir, newRunId, readRecord, writeRecord } from "./writer.js";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "runstack-record-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

async function rejects(p: Promise<unknown>): Promise<RunstackError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RunstackError);
  return e as RunstackError;
}

/** Every key path of a JSON value, in document order (array items collapsed to []). */
function keyPaths(v: unknown, prefix = ""): string[] {
  if (Array.isArray(v)) return v.length ? keyPaths(v[0], `${prefix}[]`) : [];
  if (v === null || typeof v !== "object") return [];
  return Object.entries(v).flatMap(([k, child]) => [`${prefix}${k}`, ...keyPaths(child, `${prefix}${k}.`)]);
}

describe("newRunId", () => {
  it("reads like quick-20261203-134501-k3f9 (UTC time, 4 random characters)", () => {
    const seq = [10, 3, 15, 35].map((k) => (k + 0.5) / 36);
    const id = newRunId("quick", new Date("2026-12-03T13:45:01.999Z"), () => seq.shift()!);
    expect(id).toBe("quick-20261203-134501-kdp9");
  });

  it("is always a valid stack suffix / GCE name prefix, whatever the name, date and random source", () => {
    const rand = mulberry32(42);
    const charset = "abcXYZ019-_. /é😀İ\t-";
    const odd = ["", "-", "123", "9lives", "___", "A".repeat(200), "ÉÈ", "a-", "--a--", "run id!", "😀"];
    const rands: (() => number)[] = [rand, () => 0, () => 0.999999999, () => 1, () => Number.NaN, () => -3];
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rand() * 60);
      let name = odd[i % odd.length]!;
      if (i >= odd.length) {
        name = "";
        for (let j = 0; j < len; j++) name += charset[Math.floor(rand() * charset.length)];
      }
      const when = new Date(Math.floor(rand() * 4102444800000)); // 1970..2100
      const id = newRunId(name, when, rands[i % rands.length]!);
      if (!RUN_ID_RE.test(id))
        throw new Error(`invalid run id ${JSON.stringify(id)} from name ${JSON.stringify(name)}`);
      expect(id.length).toBeLessThanOrEqual(40);
    }
  });

  it("keeps as much of the name as fits and falls back to 'run' when nothing usable is left", () => {
    const at = new Date("2026-12-03T13:45:01Z");
    const r = () => 0;
    expect(newRunId("Mnist Full", at, r)).toBe("mnist-full-20261203-134501-aaaa");
    expect(newRunId("a-very-long-experiment-name-indeed", at, r)).toBe(
      "a-very-long-experim-20261203-134501-aaaa",
    );
    expect(newRunId("42", at, r)).toBe("run-20261203-134501-aaaa");
    expect(newRunId("ab--__..cd", at, r)).toBe("ab-cd-20261203-134501-aaaa");
    // Cut at 19 characters would end on '-': the dash goes, no '--' in the id.
    expect(newRunId("abcdefghijklmnopqr-stuv", at, r)).toBe("abcdefghijklmnopqr-20261203-134501-aaaa");
  });

  it("refuses an invalid date instead of producing NaN in an id", () => {
    expect(() => newRunId("quick", new Date(Number.NaN), Math.random)).toThrow(/newRunId/);
  });
});

describe("createRunDir", () => {
  it("creates the run directory under a missing results folder", async () => {
    const dir = await createRunDir(join(tmp, "results", "local"), "quick-1");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses an existing run directory and leaves its content alone", async () => {
    const dir = await createRunDir(tmp, "quick-1");
    writeFileSync(join(dir, "run.json"), "precious");
    const e = await rejects(createRunDir(tmp, "quick-1"));
    expect(e.code).toBe("RECORD_EXISTS");
    expect(e.message).toContain(dir);
    expect(readFileSync(join(dir, "run.json"), "utf8")).toBe("precious");
  });

  it("refuses a run id that would escape the results folder or break a stack name", async () => {
    for (const bad of ["../x", "Quick", "a", "x/y", "quick-"]) {
      expect((await rejects(createRunDir(tmp, bad))).code).toBe("RECORD_INVALID");
    }
  });
});

describe("writeRecord / readRecord", () => {
  it("writes run.json in schema key order whatever order the inputs had", async () => {
    const dir = await createRunDir(tmp, "quick-20261203-134501-k3f9");
    const path = await writeRecord(dir, buildRecord(sampleInputs()));
    const text = readFileSync(path, "utf8");
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.split("\n")[1]).toBe('  "schemaVersion": 1,');
    // The config's own keys belong to configs/experiment.ts and version keys are data: leave them out
    // so this snapshot changes only when the record's shape does.
    const paths = keyPaths(JSON.parse(text)).filter(
      (p) => !/^(config\.resolved|packages\.versions)\./.test(p),
    );
    expect(paths).toMatchSnapshot();
  });

  it("round-trips through readRecord", async () => {
    const dir = await createRunDir(tmp, "quick-20261203-134501-k3f9");
    const rec = buildRecord(sampleInputs());
    const path = await writeRecord(dir, rec);
    expect(await readRecord(path)).toEqual(rec);
  });

  it("lets a run update its own record (running → completed) and leaves no temp file", async () => {
    const dir = await createRunDir(tmp, "quick-20261203-134501-k3f9");
    const done = buildRecord(sampleInputs());
    const running = withStatus(done, { status: "running", failure: null, finishedAt: null });
    await writeRecord(dir, running);
    expect((await readRecord(join(dir, "run.json"))).status).toBe("running");
    await writeRecord(dir, done);
    expect((await readRecord(join(dir, "run.json"))).status).toBe("completed");
    expect(readdirSync(dir)).toEqual(["run.json"]);
  });

  it("never overwrites another run's record", async () => {
    const dir = await createRunDir(tmp, "quick-20261203-134501-k3f9");
    await writeRecord(dir, buildRecord(sampleInputs()));
    const before = readFileSync(join(dir, "run.json"), "utf8");
    const other = buildRecord({ ...sampleInputs(), runId: "quick-20261203-134501-zzzz" });
    const e = await rejects(writeRecord(dir, other));
    expect(e.code).toBe("RECORD_EXISTS");
    expect(e.message).toContain("run quick-20261203-134501-k3f9");
    writeFileSync(join(dir, "run.json"), "not json");
    expect((await rejects(writeRecord(dir, other))).message).toContain("unidentifiable");
    writeFileSync(join(dir, "run.json"), before);
    expect(readFileSync(join(dir, "run.json"), "utf8")).toBe(before);
  });

  it("refuses an invalid record with the key path, writing nothing", async () => {
    const dir = await createRunDir(tmp, "quick-20261203-134501-k3f9");
    const bad = { ...buildRecord(sampleInputs()), host: { ...sampleInputs().provenance.host, cpus: -1 } };
    const e = await rejects(writeRecord(dir, bad));
    expect(e.code).toBe("RECORD_INVALID");
    expect(e.message).toContain(`${join(dir, "run.json")}: host.cpus`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("tells a missing record from a corrupt one", async () => {
    expect((await rejects(readRecord(join(tmp, "nope.json")))).code).toBe("RECORD_NOT_FOUND");
    writeFileSync(join(tmp, "half.json"), '{"schemaVersion": 1, "runId": "qu');
    const e = await rejects(readRecord(join(tmp, "half.json")));
    expect(e.code).toBe("RECORD_INVALID");
    expect(e.message).toContain("not valid JSON");
  });
});

describe("curves.csv", () => {
  it("has one row per strategy/seed/round with full-precision numbers", async () => {
    const { trials } = sampleInputs();
    const path = await writeCurves(tmp, trials);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(CURVES_HEADER.join(","));
    expect(lines.slice(1)).toEqual([
      "random,1,0,20,0.5,0.5",
      "random,1,1,30,0.6,0.4",
      "random,1,2,40,0.7,0.30000000000000004",
      "entropy,1,0,20,0.5,0.5",
      "entropy,1,1,30,0.65,0.35",
      "entropy,1,2,40,0.8,0.19999999999999996",
    ]);
    expect(readdirSync(tmp)).toEqual(["curves.csv"]);
  });

  it("is just the header before any trial finished", () => {
    expect(curvesCsv([])).toBe("strategy,seed,round,labels,accuracy,loss\n");
  });
});
