import * as pulumi from "@pulumi/pulumi";

/**
 * Pulumi mocks for the GCP resources the program declares, free of vitest so the ts-node loader
 * check (load-program.ts) uses the very same mocks. They fill the provider-computed fields
 * (emails, self links, creation time) the way GCP would.
 */

export const MOCK_CREATION_TIMESTAMP = "2026-12-03T02:20:00.000-08:00";

export interface DeclaredResource {
  type: string;
  name: string;
  inputs: Inputs;
  /** Provider reference (`<urn>::<id>`) the resource is created through; undefined for components. */
  provider?: string;
}

export interface ProgramRun {
  resources: DeclaredResource[];
  outputs: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped JSON from the mock monitor
type Inputs = Record<string, any>;

export function computed(type: string, name: string, inputs: Inputs): { id: string; state: object } {
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

/** Resolves Outputs (nested in arrays/objects) to plain values. */
export async function settle(value: unknown): Promise<unknown> {
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

/** Installs the mocks; every declaration is passed to `onResource`. */
export async function installMocks(opts: {
  stack: string;
  onResource: (r: DeclaredResource) => void;
}): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        opts.onResource({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        const { id, state } = computed(args.type, args.name, args.inputs);
        return { id, state: { ...args.inputs, ...state } };
      },
      call: () => ({}),
    },
    "runstack",
    opts.stack,
    false,
  );
}

/** Lets registrations that wait on other resources' outputs (e.g. the grant on the VM) land. */
export async function quiesce(count: () => number): Promise<void> {
  let seen = -1;
  for (let stable = 0; stable < 5; ) {
    await new Promise((r) => setImmediate(r));
    stable = count() === seen ? stable + 1 : 0;
    seen = count();
  }
}
