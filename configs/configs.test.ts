import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunstackError } from "./errors.js";
import { loadConfig, parseConfigText } from "./load.js";

const here = new URL(".", import.meta.url).pathname;

describe("reviewed configs", () => {
  const files = readdirSync(here).filter((f) => f.endsWith(".yaml"));
  it("ships the quick default and the full-scale config", () => {
    expect(files).toEqual(expect.arrayContaining(["quick.yaml", "mnist-full.yaml"]));
  });
  for (const f of files) {
    it(`${f} validates against the schema`, () => {
      const loaded = loadConfig(join(here, f));
      expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(loaded.config.seeds.length).toBeGreaterThan(0);
    });
  }
});

function errorOf(fn: () => unknown): RunstackError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RunstackError) return e;
    throw e;
  }
  throw new Error("expected a RunstackError");
}

const valid = `name: t
dataset: { source: synthetic }
model: { kind: mlp }
al: { strategies: [random], rounds: 2 }
seeds: [1]
`;

describe("config errors name the file, key path, expectation and what was found", () => {
  it("accepts a minimal config and fills defaults", () => {
    const c = parseConfigText(valid, "x.yaml");
    expect(c.train.epochs).toBe(20);
    expect(c.al.initial.count).toBe(20);
    expect(c.backend).toBe("auto");
  });
  it("rejects an unknown key with its path", () => {
    const e = errorOf(() => parseConfigText(valid.replace("kind: mlp", "kind: mlp, hiden: [3]"), "bad.yaml"));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toContain("bad.yaml: model.hiden: unknown key");
    expect(e.message).toContain("hiden");
  });
  it("rejects a wrong type and says what it found", () => {
    const e = errorOf(() => parseConfigText(valid.replace("rounds: 2", "rounds: two"), "bad.yaml"));
    expect(e.message).toMatch(/bad\.yaml: al\.rounds: .*number/i);
    expect(e.message).toContain('found: "two"');
  });
  it("rejects an unknown strategy listing the valid ones", () => {
    const e = errorOf(() => parseConfigText(valid.replace("[random]", "[randon]"), "bad.yaml"));
    expect(e.message).toContain("al.strategies.0");
    expect(e.message).toContain("margin");
  });
  it("needs rounds or budget", () => {
    const e = errorOf(() => parseConfigText(valid.replace(", rounds: 2", ""), "bad.yaml"));
    expect(e.message).toContain("al.rounds");
  });
  it("rejects bald on a model without dropout (every MC pass would be identical)", () => {
    const e = errorOf(() => parseConfigText(valid.replace("[random]", "[random, bald]"), "bad.yaml"));
    expect(e.message).toContain("bad.yaml: al.strategies: bald needs dropout");
    expect(() =>
      parseConfigText(
        valid.replace("[random]", "[random, bald]").replace("kind: mlp", "kind: mlp, dropout: 0.5"),
        "ok.yaml",
      ),
    ).not.toThrow();
  });
  it("reports YAML syntax errors as CONFIG_PARSE", () => {
    const e = errorOf(() => parseConfigText("name: [unclosed", "bad.yaml"));
    expect(e.code).toBe("CONFIG_PARSE");
    expect(e.message).toContain("bad.yaml");
  });
  it("reports a missing file as CONFIG_NOT_FOUND", () => {
    const e = errorOf(() => loadConfig("/nonexistent/x.yaml"));
    expect(e.code).toBe("CONFIG_NOT_FOUND");
    expect(e.hint).toContain("--config");
  });
});
