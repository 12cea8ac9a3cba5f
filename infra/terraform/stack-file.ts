import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseDocument } from "yaml";
import { RunstackError } from "../../configs/errors.js";
import type { StackConfig } from "../../configs/stack.js";
import { parseStackConfig } from "../stack-config-parse.js";

/**
 * Reads Pulumi.<stack>.yaml directly (no Pulumi CLI): `config: { "runstack:key": value }` with
 * YAML-typed values. Values are turned into the text Pulumi would hand the program, so the same
 * decoder and messages apply. The encrypted deploy key and other namespaces are ignored.
 */
export function readStackFile(path: string): { config: StackConfig; stack: string } {
  const match = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(path));
  if (!match) {
    throw new RunstackError("USAGE", `${path}: not a stack file (expected a name like Pulumi.run-<id>.yaml)`);
  }
  const stack = match[1]!;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new RunstackError("STACK_NOT_FOUND", `cannot read stack file ${path}: ${(e as Error).message}`, {
      hint: "launch writes Pulumi.run-<id>.yaml in the project root",
    });
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RunstackError("CONFIG_PARSE", `${path}: not valid YAML: ${doc.errors[0]!.message}`);
  }
  const raw = doc.toJS() as { config?: Record<string, unknown> } | null;
  const values = raw?.config;
  if (values === null || typeof values !== "object") {
    throw new RunstackError(
      "PULUMI_CONFIG",
      `${path}: no \`config:\` map (expected config: { runstack:<key>: value })`,
    );
  }
  // Pulumi passes scalars as their text and lists/objects as JSON.
  const asConfigText = (v: unknown) =>
    typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  return {
    stack,
    config: parseStackConfig({
      source: {
        get: (key) => (`runstack:${key}` in values ? asConfigText(values[`runstack:${key}`]) : undefined),
        keys: () => Object.keys(values),
      },
      stack,
      origin: path,
    }),
  };
}
