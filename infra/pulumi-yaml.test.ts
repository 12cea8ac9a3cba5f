import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEPLOY_KEY_CONFIG, STACK_KEYS, StackConfig } from "../configs/stack.js";
import { decodeConfigValue, KEY_KINDS, type StackKey, UNSET_DEFAULTS } from "./stack-config-parse.js";

/**
 * Pulumi.yaml is the CLI's view of the stack config: the CLI applies its defaults and rejects
 * values of the wrong declared type before the program runs. It must agree with configs/stack.ts.
 */

interface Declaration {
  type?: string;
  items?: { type: string };
  description?: string;
  secret?: boolean;
  default?: unknown;
}
const root = new URL("../", import.meta.url);
const project = parse(readFileSync(new URL("Pulumi.yaml", root), "utf8")) as {
  name: string;
  main?: string;
  runtime: { name: string; options?: Record<string, unknown> };
  config: Record<string, Declaration>;
};

/** What the CLI hands the program for a Pulumi.yaml default: scalars as text, arrays as JSON. */
const asProgramText = (value: unknown) => (typeof value === "object" ? JSON.stringify(value) : String(value));

/** zod's view of a key: its default, "optional" (no default) or "required". */
function zodDefault(
  key: StackKey,
): { kind: "default"; value: unknown } | { kind: "optional" } | { kind: "required" } {
  const r = StackConfig.shape[key].safeParse(undefined);
  if (!r.success) return { kind: "required" };
  return r.data === undefined ? { kind: "optional" } : { kind: "default", value: r.data };
}

describe("Pulumi.yaml", () => {
  it("declares exactly the stack keys plus the secret deploy key", () => {
    expect(Object.keys(project.config).sort()).toEqual([...STACK_KEYS, DEPLOY_KEY_CONFIG].sort());
    expect(project.config[DEPLOY_KEY_CONFIG]).toMatchObject({ type: "string", secret: true });
    expect(project.config[DEPLOY_KEY_CONFIG]).not.toHaveProperty("default");
  });

  it("uses only the declaration form Pulumi's project schema allows, with a description each", () => {
    const allowed = new Set(["type", "items", "description", "secret", "default"]);
    for (const [key, decl] of Object.entries(project.config)) {
      expect(
        Object.keys(decl).filter((k) => !allowed.has(k)),
        key,
      ).toEqual([]);
      expect(["string", "integer", "boolean", "array"], key).toContain(decl.type);
      if (decl.type === "array") expect(decl.items, key).toEqual({ type: "string" });
      expect(decl.description?.length ?? 0, key).toBeGreaterThan(10);
    }
  });

  it("declares each key with the Pulumi type of its zod kind (numbers as string: Pulumi has no number)", () => {
    const pulumiType = {
      string: "string",
      integer: "integer",
      number: "string",
      boolean: "boolean",
      "string[]": "array",
    };
    for (const key of STACK_KEYS) expect(project.config[key]?.type, key).toBe(pulumiType[KEY_KINDS[key]]);
  });

  it("has defaults that the program reads back as the zod defaults; optional keys read as unset", () => {
    for (const key of STACK_KEYS) {
      const decl = project.config[key]!;
      const z = zodDefault(key);
      if (z.kind === "required") {
        expect(decl, `${key} is required by the schema`).not.toHaveProperty("default");
        continue;
      }
      expect(decl, `${key} needs a default or the CLI requires it`).toHaveProperty("default");
      const decoded = decodeConfigValue(key, asProgramText(decl.default));
      expect(decoded.ok, key).toBe(true);
      if (!decoded.ok) continue;
      if (z.kind === "optional") {
        expect(decl.default, key).toEqual((UNSET_DEFAULTS as Record<string, unknown>)[key]);
        expect(decoded.value, key).toBeUndefined();
      } else {
        expect(decoded.value, key).toEqual(z.value);
      }
    }
  });

  it("runs infra/index.ts as an ES module from the project root (package.json main, no Pulumi.yaml main)", () => {
    expect(project.name).toBe("runstack");
    expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: true } });
    // A file `main:` would make infra/ the working directory, where ts-node finds no tsconfig.json.
    expect(project.main).toBeUndefined();
    const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
    expect(pkg).toMatchObject({ type: "module", main: "infra/index.ts" });
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(["ts-node", "typescript"]));
  });
});
