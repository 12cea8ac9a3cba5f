import { parse as parseYaml } from "yaml";
import { RunstackError } from "../../configs/errors.js";

/**
 * `--set key.path=value` overrides (e.g. `--set al.rounds=3 --set seeds=[1]`): values are YAML, so
 * numbers, booleans and lists read naturally. The result is validated by the config schema like the
 * file itself, and the record holds the resolved config plus the argv that produced it.
 */
export interface Override {
  path: string[];
  value: unknown;
  raw: string;
}

const KEY_PATH = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

export function parseOverride(arg: string): Override {
  const eq = arg.indexOf("=");
  const key = eq < 0 ? "" : arg.slice(0, eq);
  if (!KEY_PATH.test(key)) {
    throw new RunstackError(
      "USAGE",
      `--set ${arg}: expected key.path=value (e.g. al.rounds=3), found "${arg}"`,
      {
        hint: "keys are the config's dotted paths, see configs/experiment.ts",
      },
    );
  }
  let value: unknown;
  try {
    value = parseYaml(arg.slice(eq + 1));
  } catch (e) {
    throw new RunstackError("USAGE", `--set ${arg}: the value is not valid YAML: ${(e as Error).message}`);
  }
  return { path: key.split("."), value, raw: arg };
}

/** Returns a copy of `config` with the override applied; unknown keys are left to the schema to reject. */
export function applyOverride<T extends object>(config: T, o: Override): T {
  const copy = structuredClone(config) as Record<string, unknown>;
  let cur: Record<string, unknown> = copy;
  for (const [i, key] of o.path.slice(0, -1).entries()) {
    const next = cur[key];
    if (next === undefined) cur[key] = {};
    else if (next === null || typeof next !== "object" || Array.isArray(next)) {
      throw new RunstackError(
        "USAGE",
        `--set ${o.raw}: ${o.path.slice(0, i + 1).join(".")} is not a section`,
        {
          hint: "set the whole value instead, e.g. --set seeds=[1,2]",
        },
      );
    }
    cur = cur[key] as Record<string, unknown>;
  }
  cur[o.path.at(-1)!] = o.value;
  return copy as T;
}
