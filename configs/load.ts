import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { RunstackError } from "./errors.js";
import { ExperimentConfig } from "./experiment.js";

export interface LoadedConfig {
  config: ExperimentConfig;
  /** Path as given by the user. */
  path: string;
  /** sha256 of the file's bytes: identifies exactly what ran. */
  sha256: string;
  /** The file's text, kept so a record can embed exactly what was read. */
  text: string;
}

/** Render zod issues as "file: key.path: expected X, found Y" lines. */
export function formatIssues(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  input?: unknown,
  schemaFile = "configs/experiment.ts",
): string {
  return issues
    .flatMap((issue) => {
      // An unknown key is reported at its own path, so a typo points at itself.
      if (issue.code === "unrecognized_keys") {
        return issue.keys.map((key) => {
          const path = [...issue.path, key].map(String).join(".");
          return `${file}: ${path}: unknown key (a typo? every key and its default is in ${schemaFile})`;
        });
      }
      const path = issue.path.length ? issue.path.map(String).join(".") : "(top level)";
      const found = describeFound(input, issue.path);
      return [`${file}: ${path}: ${issue.message}${found}`];
    })
    .join("\n");
}

function describeFound(input: unknown, path: readonly PropertyKey[]): string {
  if (input === undefined) return "";
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  if (cur === undefined) return " (found: nothing)";
  const shown = JSON.stringify(cur);
  return ` (found: ${shown && shown.length > 60 ? `${shown.slice(0, 57)}...` : shown})`;
}

/** What a YAML file holds, for error messages: "experiment config", "launch defaults"... */
export interface YamlShape<T> {
  schema: z.ZodType<T>;
  what: string;
  /** Where every key and its default is defined, named in messages. */
  schemaFile: string;
}

const EXPERIMENT: YamlShape<ExperimentConfig> = {
  schema: ExperimentConfig,
  what: "experiment config",
  schemaFile: "configs/experiment.ts",
};

/** Validate an already-parsed value against a shape; `file` names it in every error line. */
export function parseAs<T>(shape: YamlShape<T>, raw: unknown, file: string): T {
  const result = shape.schema.safeParse(raw);
  if (!result.success) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `invalid ${shape.what}\n${formatIssues(file, result.error.issues, raw, shape.schemaFile)}`,
      { hint: `fix the keys named above; see ${shape.schemaFile} for every key and its default` },
    );
  }
  return result.data;
}

/** Parse YAML text (duplicate keys are errors) and validate it against a shape. */
export function parseYamlAs<T>(shape: YamlShape<T>, text: string, file: string): T {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RunstackError("CONFIG_PARSE", `${file}: not valid YAML: ${doc.errors[0]!.message}`, {
      hint: "check indentation and quoting at the line shown",
    });
  }
  return parseAs(shape, doc.toJS() ?? {}, file);
}

/** Validate an already-parsed object as an experiment config; `file` names it in errors. */
export function parseConfig(raw: unknown, file: string): ExperimentConfig {
  return parseAs(EXPERIMENT, raw, file);
}

export function parseConfigText(text: string, file: string): ExperimentConfig {
  return parseYamlAs(EXPERIMENT, text, file);
}

export function loadConfig(path: string): LoadedConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RunstackError("CONFIG_NOT_FOUND", `cannot read config ${path}: ${(e as Error).message}`, {
      hint: "pass an existing file with --config, e.g. configs/quick.yaml",
    });
  }
  const text = bytes.toString("utf8");
  return {
    config: parseConfigText(text, path),
    path,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    text,
  };
}
