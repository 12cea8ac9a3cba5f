import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// Deep paths on purpose: the package root loads every GCP resource class (~2.5 s, ~460 MB).
import { ComputeDisk } from "@cdktf/provider-google/lib/compute-disk/index.js";
import { ComputeInstance } from "@cdktf/provider-google/lib/compute-instance/index.js";
import { ComputeInstanceIamMember } from "@cdktf/provider-google/lib/compute-instance-iam-member/index.js";
import { ProjectIamCustomRole } from "@cdktf/provider-google/lib/project-iam-custom-role/index.js";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider/index.js";
import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret/index.js";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member/index.js";
import { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version/index.js";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account/index.js";
import { App, Fn, TerraformOutput, TerraformStack, TerraformVariable, Testing } from "cdktf";
import type { RunPlan } from "../plan.js";

/**
 * The same run as infra/run.ts, as Terraform JSON (secondary path: CDKTF was archived upstream on
 * 2025-12-10). Rendered from the same RunPlan, resource for resource. The deploy key is NOT in the
 * JSON: it is the sensitive variable `deploy_key` (`TF_VAR_deploy_key="$(cat key)" terraform apply`).
 */

export const DEPLOY_KEY_VARIABLE = "deploy_key";

/** Terraform JSON for one run (synthesized offline; nothing is written outside a temp dir). */
export function synthRun(plan: RunPlan): Record<string, unknown> {
  const outdir = mkdtempSync(join(tmpdir(), "runstack-cdktf-"));
  try {
    const app = new App({ outdir, stackTraces: false });
    const stack = new TerraformStack(app, plan.stack);
    declareRun(stack, plan);
    // Testing.synth is CDKTF's offline synth: resolved tokens, sorted keys, no "//" metadata.
    return JSON.parse(Testing.synth(stack)) as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function declareRun(stack: TerraformStack, plan: RunPlan): void {
  const { project, zone, labels } = plan;
  new GoogleProvider(stack, "google", { project, zone });

  const deployKey = new TerraformVariable(stack, DEPLOY_KEY_VARIABLE, {
    type: "string",
    sensitive: true,
    nullable: false,
    description: "The repository's deploy key (private key file content); stored only in Secret Manager.",
  });

  const account = new ServiceAccount(stack, "sa", {
    project,
    accountId: plan.serviceAccount.accountId,
    displayName: plan.serviceAccount.displayName,
    description: `Identity of runstack run ${plan.runId} (stack ${plan.stack}); deleted with the stack.`,
  });
  const member = `serviceAccount:${account.email}`;

  const secret = new SecretManagerSecret(stack, "deploy_key_secret", {
    project,
    secretId: plan.secret.secretId,
    replication: { auto: {} },
    labels,
  });
  const version = new SecretManagerSecretVersion(stack, "deploy_key_version", {
    secret: secret.id,
    secretData: deployKey.stringValue,
  });
  const reader = new SecretManagerSecretIamMember(stack, "deploy_key_reader", {
    project,
    secretId: secret.secretId,
    role: plan.secret.accessorRole,
    member,
  });

  const dataDisk = new ComputeDisk(stack, "data", {
    project,
    zone,
    name: plan.names.dataDisk,
    image: plan.dataDisk.image,
    size: plan.dataDisk.sizeGb ?? undefined,
    type: plan.dataDisk.type,
    labels,
  });

  const s = plan.scheduling;
  const vm = new ComputeInstance(stack, "vm", {
    project,
    zone,
    name: plan.names.instance,
    machineType: plan.machineType,
    bootDisk: {
      autoDelete: plan.bootDisk.autoDelete,
      initializeParams: {
        image: plan.bootDisk.image,
        size: plan.bootDisk.sizeGb,
        type: plan.bootDisk.type,
        labels,
      },
    },
    attachedDisk: [
      { source: dataDisk.selfLink, deviceName: plan.dataDisk.deviceName, mode: plan.dataDisk.mode },
    ],
    networkInterface: [{ network: "default", accessConfig: [{}] }],
    serviceAccount: { email: account.email, scopes: plan.serviceAccount.scopes },
    scheduling: {
      maxRunDuration: { seconds: s.maxRunDurationSeconds },
      instanceTerminationAction: s.instanceTerminationAction,
      provisioningModel: s.provisioningModel,
      preemptible: s.preemptible,
      automaticRestart: s.automaticRestart,
      onHostMaintenance: s.onHostMaintenance,
    },
    guestAccelerator: plan.gpu ? [{ type: plan.gpu.type, count: plan.gpu.count }] : [],
    metadata: plan.metadata,
    labels,
    dependsOn: [version, reader],
  });

  const role = new ProjectIamCustomRole(stack, "self_delete_role", {
    project,
    roleId: plan.selfDelete.roleId,
    title: plan.selfDelete.title,
    description: `Lets run ${plan.runId}'s VM delete itself; bound on that instance only.`,
    permissions: plan.selfDelete.permissions,
    stage: "GA",
  });
  new ComputeInstanceIamMember(stack, "self_delete", {
    project,
    zone,
    instanceName: vm.name,
    role: role.name,
    member,
  });

  const out = (id: string, value: unknown, description: string) =>
    new TerraformOutput(stack, id, { value, description });
  out("instance_name", vm.name, "The run's VM.");
  out("zone", zone, "Its zone.");
  out(
    "deadline",
    Fn.timeadd(vm.creationTimestamp, `${s.maxRunDurationSeconds}s`),
    "creation + maxRunHours: GCE deletes the VM then at the latest.",
  );
  out("serial_log_command", plan.outputs.serialLogCommand, "The VM's serial log.");
  out("results", plan.outputs.results, "Where the VM pushes results.");
  out("teardown_command", "terraform destroy -refresh=true", "Removes everything the run left.");
  out(
    "data_disk_note",
    `data disk ${plan.names.dataDisk} is attached read-only, and GCE never auto-deletes a read-only attachment: ` +
      "it outlives the VM and bills until `terraform destroy`",
    "Why the data disk bills after the VM is gone.",
  );
}
