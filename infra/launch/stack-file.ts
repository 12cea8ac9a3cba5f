import { Document, parseDocument } from "yaml";
import { RunstackError } from "../../configs/errors.js";
import { formatIssues } from "../../configs/load.js";
import {
  CONFIG_NAMESPACE,
  DEPLOY_KEY_CONFIG,
  STACK_KEYS,
  StackConfig,
  type StackConfigInput,
} from "../../configs/stack.js";
import { KEY_KINDS } from "../stack-config-parse.js";
import { destroyStep, launchSteps, secretsProviderNote, showStep } from "./commands.js";
import { stackNameOf } from "./run-id.js";

/**
 * Pulumi.run-<id>.yaml: written by launch, read by infra/stack-config.ts (through Pulumi) and by
 * status/reap. Keys are written in STACK_KEYS order with every default filled in, so the file
 * says exactly what will run and diffs between runs are easy to read.
 */

/** Where a stack key comes from on the command line, for errors that say how to fix them. */
const KEY_SOURCES: Partial<Record<(typeof STACK_KEYS)[number], string>> = {
  project: "--project or defaults.yaml project",
  zone: "--zone or defaults.yaml zone",
  dataImage: "--data-image or defaults.yaml dataImage",
  owner: "--owner, defaults.yaml owner or git config user.email",
  machineType: "--machine or defaults.yaml machineType",
  gpuType: "--gpu TYPE[:COUNT]",
  gpuCount: "--gpu TYPE[:COUNT]",
  maxRunHours: "--hours or defaults.yaml maxRunHours",
  resultsBranch: "--branch or defaults.yaml resultsBranch",
  runId: "--name or the config's name",
};

/** Validates the values launch gathered; errors name the stack key and the flag that sets it. */
export function buildStackConfig(input: StackConfigInput): StackConfig {
  const parsed = StackConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    const source = KEY_SOURCES[key as keyof typeof KEY_SOURCES];
    const line = formatIssues("stack config", [issue], input);
    return source ? `${line} [set with ${source}]` : line;
  });
  throw new RunstackError("PULUMI_CONFIG", `the run's stack config would be invalid:\n${lines.join("\n")}`, {
    hint: "fix the values named above; nothing was written",
  });
}

export interface RenderStackFileOptions {
  config: StackConfig;
  /** ISO time of the launch, for the header. */
  generatedAt: string;
  secretsProvider: string;
}

export function renderStackFile({ config, generatedAt, secretsProvider }: RenderStackFileOptions): string {
  const values: Record<string, unknown> = {};
  for (const key of STACK_KEYS) {
    const v = config[key];
    // Pulumi.yaml declares fractional numbers as `type: string` (its `integer` would reject 0.5),
    // and the CLI type-checks stack values against those declarations: write them as strings.
    if (v !== undefined) values[`${CONFIG_NAMESPACE}:${key}`] = KEY_KINDS[key] === "number" ? String(v) : v;
  }
  const doc = new Document({ config: values });
  const steps = launchSteps({ runId: config.runId, secretsProvider });
  const s = stackNameOf(config.runId);
  doc.commentBefore = [
    ` Stack config for run ${config.runId}, written by \`launch\` (infra/launch) at ${generatedAt}`,
    ` from ${config.experimentConfig} (sha256 ${config.configSha256.slice(0, 12)}…) at commit ${config.commit.slice(0, 12)}.`,
    " The VM runs exactly that commit; review this file, then:",
    ...[...steps.setup, steps.preview, steps.up].map((st) => `   ${showStep(st)}`),
    ` (${secretsProviderNote(secretsProvider)})`,
    ` Status: npx tsx infra/launch/cli.ts status. Teardown once results are in git:`,
    `   npx tsx infra/launch/cli.ts reap --run ${config.runId}   (= ${showStep(destroyStep(config.runId))})`,
    ` Never re-run \`pulumi up -s ${s}\` after the run finished: it would create the VM and run again.`,
  ].join("\n");
  return doc.toString({ lineWidth: 0 });
}

/**
 * Reads a stack file back. Pulumi adds `encryptionsalt`/`secretsprovider` and the encrypted
 * deploy key; those, and keys of other namespaces, are not part of StackConfig and are skipped.
 */
export function parseStackFile(text: string, file: string): StackConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RunstackError("PULUMI_CONFIG", `${file}: not valid YAML: ${doc.errors[0]!.message}`);
  }
  const root = doc.toJS() as unknown;
  const config = (root as { config?: unknown } | null)?.config;
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new RunstackError("PULUMI_CONFIG", `${file}: expected a top-level 'config:' mapping`);
  }
  const prefix = `${CONFIG_NAMESPACE}:`;
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (!k.startsWith(prefix)) continue;
    const key = k.slice(prefix.length);
    if (key === DEPLOY_KEY_CONFIG) continue;
    values[key] =
      key in KEY_KINDS && KEY_KINDS[key as keyof typeof KEY_KINDS] === "number" && typeof v === "string"
        ? Number(v)
        : v;
  }
  const parsed = StackConfig.safeParse(values);
  if (!parsed.success) {
    throw new RunstackError(
      "PULUMI_CONFIG",
      `${file}: invalid stack config\n${formatIssues(file, parsed.error.issues, values)}`,
      {
        hint: "the stack file was edited by hand or written by another version; see configs/stack.ts",
      },
    );
  }
  return parsed.data;
}
