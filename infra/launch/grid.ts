import { parse as parseYamlScalar } from "yaml";
import { RunstackError } from "../../configs/errors.js";
import { ExperimentConfig } from "../../configs/experiment.js";
import { formatIssues } from "../../configs/load.js";
import { MAX_RUN_NAME } from "./run-id.js";

/**
 * Sweep grids: `--grid al.querySize=10,20 --grid train.learningRate=0.001,0.01` → the cartesian
 * product of overrides applied to one experiment config. Keys are dotted paths (array elements by
 * index, e.g. `model.hidden.0`), values are scalars (numbers, booleans, strings). Every variant is
 * validated against the experiment schema here, before anything is written.
 */

export type Scalar = string | number | boolean;

export interface GridAxis {
  /** Dotted path, e.g. "al.querySize". */
  key: string;
  path: string[];
  values: Scalar[];
}

export interface Variant {
  /** 1-based position in the product (stable for the same grid). */
  index: number;
  overrides: { key: string; value: Scalar }[];
  /** The raw (defaults not applied) config with the overrides, ready to write as YAML. */
  raw: Record<string, unknown>;
  config: ExperimentConfig;
}

const KEY_RE = /^[A-Za-z][A-Za-z0-9]*(\.([A-Za-z][A-Za-z0-9]*|\d+))*$/;
export const MAX_VARIANTS = 100;

/** Parses one `--grid key=v1,v2` argument. */
export function parseGridArg(arg: string): GridAxis {
  const eq = arg.indexOf("=");
  if (eq <= 0) {
    throw new RunstackError("USAGE", `--grid ${arg}: expected key=value1,value2,...`, {
      hint: "e.g. --grid al.querySize=10,20",
    });
  }
  const key = arg.slice(0, eq).trim();
  if (!KEY_RE.test(key)) {
    throw new RunstackError("USAGE", `--grid ${arg}: "${key}" is not a dotted config path`, {
      hint: "use keys like al.querySize, train.learningRate or model.hidden.0",
    });
  }
  const rawValues = arg
    .slice(eq + 1)
    .split(",")
    .map((v) => v.trim());
  if (rawValues.some((v) => v === "")) {
    throw new RunstackError("USAGE", `--grid ${arg}: empty value in the list for ${key}`);
  }
  const values = rawValues.map((v) => parseScalar(key, v));
  if (new Set(rawValues).size !== rawValues.length) {
    throw new RunstackError("USAGE", `--grid ${key}: a value is listed twice`);
  }
  return { key, path: key.split("."), values };
}

function parseScalar(key: string, text: string): Scalar {
  // "[1,2]" was split at its comma: say so instead of sweeping over the strings "[1" and "2]".
  const v: unknown = /^[[{]|[\]}]$/.test(text) ? undefined : parseLoosely(text);
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  throw new RunstackError("USAGE", `--grid ${key}: value "${text}" is not a scalar`, {
    hint: "grid values are numbers, booleans or strings; vary list elements by index (model.hidden.0=128,256)",
  });
}

function parseLoosely(text: string): unknown {
  try {
    return parseYamlScalar(text);
  } catch {
    return text;
  }
}

export interface ExpandGridOptions {
  /** The base config as parsed from YAML (defaults not applied). */
  base: unknown;
  axes: readonly GridAxis[];
  /** Names the base config in error messages. */
  file: string;
}

/**
 * The cartesian product of the axes over `base`. Each variant is renamed `<name>-<index>` (unless
 * `name` itself is swept) so its run ids and records say which variant they are.
 */
export function expandGrid({ base, axes, file }: ExpandGridOptions): Variant[] {
  if (axes.length === 0) throw new RunstackError("USAGE", "sweep needs at least one --grid key=v1,v2");
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new RunstackError("USAGE", `--grid ${a.key} is given twice; merge the values`);
    seen.add(a.key);
  }
  for (const a of axes) {
    for (const b of axes) {
      if (a !== b && b.key.startsWith(`${a.key}.`)) {
        throw new RunstackError("USAGE", `--grid ${a.key} and --grid ${b.key} overlap; vary one of them`);
      }
    }
  }
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  if (total > MAX_VARIANTS) {
    throw new RunstackError("USAGE", `the grid has ${total} variants, more than ${MAX_VARIANTS}`, {
      hint: "split the sweep into smaller grids",
    });
  }
  if (base === null || typeof base !== "object" || Array.isArray(base)) {
    throw new RunstackError("CONFIG_INVALID", `${file}: expected a mapping at the top level`);
  }

  const combos: { key: string; path: string[]; value: Scalar }[][] = [[]];
  for (const axis of axes) {
    const next: typeof combos = [];
    for (const combo of combos) for (const value of axis.values) next.push([...combo, { ...axis, value }]);
    combos.splice(0, combos.length, ...next);
  }

  const problems: string[] = [];
  const variants: Variant[] = [];
  combos.forEach((combo, i) => {
    const label = combo.map((o) => `${o.key}=${String(o.value)}`).join(" ");
    const raw = structuredClone(base) as Record<string, unknown>;
    if (typeof raw.name === "string" && !seen.has("name"))
      raw.name = variantName(raw.name, i + 1, MAX_RUN_NAME);
    try {
      for (const o of combo) setPath(raw, o.path, o.value);
    } catch (e) {
      problems.push(`variant ${i + 1} (${label}): ${(e as Error).message}`);
      return;
    }
    const parsed = ExperimentConfig.safeParse(raw);
    if (!parsed.success) {
      problems.push(formatIssues(`${file} with ${label}`, parsed.error.issues, raw));
      return;
    }
    variants.push({
      index: i + 1,
      overrides: combo.map(({ key, value }) => ({ key, value })),
      raw,
      config: parsed.data,
    });
  });
  if (problems.length > 0) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `the sweep grid gives invalid configs:\n${problems.join("\n")}`,
      {
        hint: "fix the --grid keys/values named above; nothing was written",
      },
    );
  }
  return variants;
}

/** Sets a scalar at a dotted path, creating missing mappings but never changing a value's kind. */
function setPath(root: Record<string, unknown>, path: readonly string[], value: Scalar): void {
  let cur: unknown = root;
  path.forEach((seg, i) => {
    const last = i === path.length - 1;
    const where = path.slice(0, i).join(".") || "(top level)";
    if (Array.isArray(cur)) {
      const idx = Number(seg);
      if (!/^\d+$/.test(seg) || idx >= cur.length) {
        throw new Error(
          `${path.join(".")}: ${where} is a list of ${cur.length}; "${seg}" is not an index in it`,
        );
      }
      if (last) cur[idx] = value;
      else cur = cur[idx];
      return;
    }
    if (cur === null || typeof cur !== "object") {
      throw new Error(`${path.join(".")}: ${where} is a ${typeof cur} value, not a mapping`);
    }
    const obj = cur as Record<string, unknown>;
    if (/^\d+$/.test(seg)) throw new Error(`${path.join(".")}: ${where} is a mapping, not a list`);
    if (last) {
      const old = obj[seg];
      if (old !== undefined && old !== null && typeof old === "object") {
        throw new Error(
          `${path.join(".")} is a ${Array.isArray(old) ? "list" : "mapping"}; grid values are scalars`,
        );
      }
      obj[seg] = value;
    } else {
      if (obj[seg] === undefined) obj[seg] = {};
      cur = obj[seg];
    }
  });
}

/** Variant config name: the base name with `-<index>`, cut so run ids keep the index visible. */
export function variantName(base: string, index: number, maxLength: number): string {
  const suffix = `-${index}`;
  return `${base.slice(0, Math.max(1, maxLength - suffix.length)).replace(/-+$/, "")}${suffix}`;
}
