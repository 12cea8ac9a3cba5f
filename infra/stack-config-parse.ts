import { RunstackError } from "../configs/errors.js";
import { CONFIG_NAMESPACE, DEPLOY_KEY_CONFIG, STACK_KEYS, StackConfig } from "../configs/stack.js";

/**
 * Decoding + validation of the `runstack:*` stack config, independent of the Pulumi runtime so the
 * Terraform export (which reads Pulumi.run-<id>.yaml itself) shares every rule and message.
 * Pulumi hands config to the program as text (objects as JSON text); each key is decoded by its
 * declared kind here rather than with pulumi.Config's typed getters, whose errors do not say how to
 * fix the stack.
 */

export type StackKey = (typeof STACK_KEYS)[number];
export type KeyKind = "string" | "integer" | "number" | "boolean" | "string[]";

export const KEY_KINDS = {
  runId: "string",
  experimentConfig: "string",
  configSha256: "string",
  commit: "string",
  repoUrl: "string",
  resultsBranch: "string",
  project: "string",
  zone: "string",
  machineType: "string",
  gpuType: "string",
  gpuCount: "integer",
  spot: "boolean",
  maxRunHours: "number",
  bootImage: "string",
  bootDiskGb: "integer",
  dataImage: "string",
  dataDiskGb: "integer",
  owner: "string",
  nodeVersion: "string",
  experimentArgs: "string[]",
} as const satisfies Record<StackKey, KeyKind>;

/**
 * Pulumi has no "optional" project key: a declared key without a default is required by the CLI.
 * Optional keys are therefore declared in Pulumi.yaml with these defaults, which read as "unset".
 */
export const UNSET_DEFAULTS = { gpuType: "", dataDiskGb: 0 } as const satisfies Partial<
  Record<StackKey, unknown>
>;

/** Raw config text by key (without namespace), plus every fully-qualified key present. */
export interface ConfigSource {
  get(key: string): string | undefined;
  /** Fully-qualified keys (`ns:key`), used to reject unknown `runstack:` keys. */
  keys(): readonly string[];
}

const EXPECTED: Record<KeyKind, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  "string[]": 'a list of strings, e.g. ["--fraction", "0.1"]',
};

type Decoded = { ok: true; value: unknown } | { ok: false; expected: string };

/** Decode one key's raw text; the unset sentinel of an optional key decodes to undefined. */
export function decodeConfigValue(key: StackKey, raw: string): Decoded {
  const kind: KeyKind = KEY_KINDS[key];
  const bad: Decoded = { ok: false, expected: EXPECTED[kind] };
  let value: unknown;
  switch (kind) {
    case "string":
      value = raw;
      break;
    case "integer":
      if (!/^-?\d+$/.test(raw.trim())) return bad;
      value = Number(raw);
      break;
    case "number":
      value = raw.trim() === "" ? Number.NaN : Number(raw);
      if (!Number.isFinite(value)) return bad;
      break;
    case "boolean":
      if (raw !== "true" && raw !== "false") return bad;
      value = raw === "true";
      break;
    case "string[]": {
      try {
        value = JSON.parse(raw);
      } catch {
        return bad;
      }
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) return bad;
      break;
    }
  }
  const sentinel = (UNSET_DEFAULTS as Partial<Record<StackKey, unknown>>)[key];
  return { ok: true, value: sentinel !== undefined && value === sentinel ? undefined : value };
}

export interface ParseStackConfigOptions {
  source: ConfigSource;
  /** Stack name, for the fix commands in messages. */
  stack: string;
  /** Where the values came from, e.g. "stack run-x" or "Pulumi.run-x.yaml". */
  origin?: string;
}

/** Every problem at once, each naming `runstack:<key>`, what was expected, what was found. */
export function parseStackConfig(opts: ParseStackConfigOptions): StackConfig {
  const { source, stack } = opts;
  const origin = opts.origin ?? `stack ${stack}`;
  const problems: string[] = [];
  const fixKeys = new Set<string>();
  const raw: Record<string, string | undefined> = {};
  const input: Record<string, unknown> = {};

  const known = new Set<string>([...STACK_KEYS, DEPLOY_KEY_CONFIG]);
  for (const full of source.keys()) {
    const [ns, key] = splitKey(full);
    if (ns !== CONFIG_NAMESPACE || known.has(key)) continue;
    const near = closest(key, [...known]);
    problems.push(`${full}: not a runstack key${near ? ` (did you mean ${CONFIG_NAMESPACE}:${near}?)` : ""}`);
    fixKeys.add(`rm:${full}`);
  }

  for (const key of STACK_KEYS) {
    const text = source.get(key);
    raw[key] = text;
    if (text === undefined) continue;
    const decoded = decodeConfigValue(key, text);
    if (decoded.ok) {
      if (decoded.value !== undefined) input[key] = decoded.value;
    } else {
      problems.push(`${CONFIG_NAMESPACE}:${key}: expected ${decoded.expected} (found: ${show(text)})`);
      fixKeys.add(key);
    }
  }

  const result = StackConfig.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? "");
      if (fixKeys.has(key)) continue; // already reported as undecodable
      const found = raw[key] === undefined ? "not set" : `found: ${show(raw[key])}`;
      // Regex messages in configs/stack.ts describe the expected form ("a GCE zone such as …").
      const what =
        raw[key] === undefined && issue.code === "invalid_type"
          ? "required"
          : issue.code === "invalid_format"
            ? `expected ${issue.message}`
            : issue.message;
      problems.push(`${CONFIG_NAMESPACE}:${key}: ${what} (${found})`);
      fixKeys.add(key);
    }
  }
  if (problems.length === 0 && result.success) return result.data;

  const fixes = [...fixKeys].map((k) =>
    k.startsWith("rm:")
      ? `pulumi config rm ${k.slice(3)} -s ${stack}`
      : `pulumi config set ${CONFIG_NAMESPACE}:${k} <value> -s ${stack}`,
  );
  throw new RunstackError(
    "PULUMI_CONFIG",
    `invalid runstack config in ${origin}:\n  ${problems.join("\n  ")}`,
    {
      hint: `fix each key (see configs/stack.ts for what it means):\n  ${fixes.join("\n  ")}`,
    },
  );
}

/**
 * The deploy key must be the key file's CONTENT. Setting its path instead
 * (`pulumi config set --secret runstack:deployKey ~/.ssh/id_x`) is an easy mistake that would only
 * surface on the VM; the value itself is never echoed.
 */
export function checkDeployKeyText(text: string | undefined, stack: string): void {
  const fix = `pulumi config set --secret ${CONFIG_NAMESPACE}:${DEPLOY_KEY_CONFIG} -s ${stack} < deploy-key-file`;
  if (text === undefined || text.trim() === "") {
    throw new RunstackError(
      "PULUMI_CONFIG",
      `${CONFIG_NAMESPACE}:${DEPLOY_KEY_CONFIG} is not set in stack ${stack}`,
      {
        hint: `store the repository's deploy key (private key file content) as a secret:\n  ${fix}`,
      },
    );
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new RunstackError(
      "PULUMI_CONFIG",
      `${CONFIG_NAMESPACE}:${DEPLOY_KEY_CONFIG} in stack ${stack} is not a private key (expected the key file's content starting with "-----BEGIN … PRIVATE KEY-----"; found ${text.length} chars without it — a file path?)`,
      { hint: `read the key from the file on stdin:\n  ${fix}` },
    );
  }
}

function splitKey(full: string): [string, string] {
  const i = full.indexOf(":");
  return i < 0 ? ["", full] : [full.slice(0, i), full.slice(i + 1)];
}

function show(text: string | undefined): string {
  const s = JSON.stringify(text);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Closest known key by edit distance (<= 3), for "did you mean". */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
