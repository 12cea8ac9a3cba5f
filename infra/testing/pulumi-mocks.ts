import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";

/**
 * Runs infra/index.ts under Pulumi mocks and returns every resource it declared (type, name,
 * inputs) and the resolved stack outputs. Mocks fill provider-computed fields (emails, self links,
 * creation time) the way GCP would.
 */

export const MOCK_CREATION_TIMESTAMP = "2026-12-03T02:20:00.000-08:00";

export interface DeclaredResource {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped JSON from the mock monitor
  inputs: Record<string, any>;
}

export interface ProgramRun {
  resources: DeclaredResource[];
  outputs: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: mock state mirrors untyped provider state
function computed(type: string, name: string, inputs: Record<string, any>): { id: string; state: object } {
  const { project = "mock-project", zone = "mock-zone" } = inputs;
  switch (type) {
    case "gcp:serviceaccount/account:Account": {
      const email = `${inputs.accountId}@${project}.iam.gserviceaccount.com`;
      return { id: `projects/${project}/serviceAccounts/${email}`, state: { email, uniqueId: "1234567890" } };
    }
    case "gcp:secretmanager/secret:Secret": {
      const id = `projects/${project}/secrets/${inputs.secretId}`;
      return { id, state: { name: "projects/123456789/secrets/" + inputs.secretId } };
    }
    case "gcp:compute/disk:Disk":
      return {
        id: `projects/${project}/zones/${zone}/disks/${inputs.name}`,
        state: {
          selfLink: `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/disks/${inputs.name}`,
        },
      };
    case "gcp:compute/instance:Instance":
      return {
        id: `projects/${project}/zones/${zone}/instances/${inputs.name}`,
        state: {
          creationTimestamp: MOCK_CREATION_TIMESTAMP,
          instanceId: "987654321",
          currentStatus: "RUNNING",
        },
      };
    case "gcp:projects/iAMCustomRole:IAMCustomRole":
      return {
        id: `projects/${project}/roles/${inputs.roleId}`,
        state: { name: `projects/${project}/roles/${inputs.roleId}` },
      };
    default:
      return { id: `${name}-id`, state: {} };
  }
}

async function settle(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return settle(await new Promise((resolve) => (value as pulumi.Output<unknown>).apply(resolve)));
  }
  if (Array.isArray(value)) return Promise.all(value.map(settle));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await settle(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

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
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const declared = { type: args.type, name: args.name, inputs: args.inputs };
        resources.push(declared);
        opts.onResource?.(declared);
        const { id, state } = computed(args.type, args.name, args.inputs);
        return { id, state: { ...args.inputs, ...state } };
      },
      call: () => ({}),
    },
    "runstack",
    opts.stack,
    false,
  );
  pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
  // A fresh module graph per run, so the program executes again with this config.
  vi.resetModules();
  const program: Record<string, unknown> = await import("../index.js");
  const outputs = (await settle({ ...program })) as Record<string, unknown>;
  // Registrations that depend on outputs (e.g. the grant on the VM) land a few turns later.
  let seen = -1;
  for (let stable = 0; stable < 5; ) {
    await new Promise((r) => setImmediate(r));
    stable = resources.length === seen ? stable + 1 : 0;
    seen = resources.length;
  }
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
