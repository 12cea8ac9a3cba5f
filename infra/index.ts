import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { planRun } from "./plan.js";
import { ExperimentRun } from "./run.js";
import { readDeployKey, readStackConfig } from "./stack-config.js";

// One run per stack (Pulumi.run-<id>.yaml). Config is read and checked before any resource exists.
const stack = pulumi.getStack();
const config = readStackConfig(stack);
const deployKey = readDeployKey(stack);
const plan = planRun({ config, stack, now: new Date() });

const provider = new gcp.Provider("gcp", { project: plan.project, zone: plan.zone });
const run = new ExperimentRun(plan.runId, { plan, deployKey }, { providers: [provider] });

export const instanceName = run.instanceName;
export const zone = plan.zone;
/** creationTimestamp + maxRunHours: GCE deletes the VM then at the latest. */
export const deadline = run.deadline;
export const serialLogCommand = plan.outputs.serialLogCommand;
export const results = plan.outputs.results;
export const teardownCommand = plan.outputs.teardownCommand;
export const dataDiskNote = plan.outputs.dataDiskNote;
