import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import { type DeclaredResource, installMocks, type ProgramRun, quiesce, settle } from "./gcp-mocks.js";

export { type DeclaredResource, MOCK_CREATION_TIMESTAMP, type ProgramRun } from "./gcp-mocks.js";

/**
 * Runs infra/index.ts under Pulumi mocks (gcp-mocks.ts) and returns every resource it declared
 * (type, name, inputs) and the resolved stack outputs.
 */

/**
 * `config`: fully-qualified keys → text; `secretKeys`: which of them are secrets.
 * Throws whatever the program throws (e.g. a RunstackError for bad config).
 */
export async function runProgram(opts: {
  config: Record<string, string>;
  secretKeys?: string[];
  stack: string;
  /** Sees each declaration as it happens, even when the program later throws. */
  onResource?: (r: DeclaredResource) => void;
}): Promise<ProgramRun> {
  const resources: DeclaredResource[] = [];
  await installMocks({
    stack: opts.stack,
    onResource: (declared) => {
      resources.push(declared);
      opts.onResource?.(declared);
    },
  });
  pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
  // A fresh module graph per run, so the program executes again with this config.
  vi.resetModules();
  const program: Record<string, unknown> = await import("../index.js");
  const outputs = (await settle({ ...program })) as Record<string, unknown>;
  await quiesce(() => resources.length);
  return { resources, outputs };
}

export function ofType(run: ProgramRun, typeSuffix: string): DeclaredResource[] {
  return run.resources.filter((r) => r.type.endsWith(typeSuffix));
}

export function one(run: ProgramRun, typeSuffix: string): DeclaredResource {
  const found = ofType(run, typeSuffix);
  if (found.length !== 1) throw new Error(`expected one ${typeSuffix}, found ${found.length}`);
  return found[0]!;
}
