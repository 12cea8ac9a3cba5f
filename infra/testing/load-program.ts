import * as pulumi from "@pulumi/pulumi";
import { asPulumiConfig, fakeDeployKey, REFERENCE_INPUT, REFERENCE_STACK } from "./fixtures.js";
import { type DeclaredResource, installMocks, quiesce, settle } from "./gcp-mocks.js";

/**
 * Loads infra/index.ts the way `pulumi up` does — a native ES module compiled and type-checked by
 * ts-node, not by Vite — under the same mocks as the vitest tests, then prints
 * {"outputs": …, "types": […]} as one JSON line. Spawned by program-loads.slow.test.ts.
 */

const resources: DeclaredResource[] = [];
await installMocks({ stack: REFERENCE_STACK, onResource: (r) => resources.push(r) });
pulumi.runtime.setAllConfig({ ...asPulumiConfig(REFERENCE_INPUT), "runstack:deployKey": fakeDeployKey() }, [
  "runstack:deployKey",
]);
const program: Record<string, unknown> = await import("../index.js");
const outputs = await settle({ ...program });
await quiesce(() => resources.length);
process.stdout.write(`${JSON.stringify({ outputs, types: resources.map((r) => r.type).sort() })}\n`);
