import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { StackConfigInput } from "../../configs/stack.js";
import { planRun } from "../plan.js";
import {
  asPulumiConfig,
  fakeDeployKey,
  REFERENCE_INPUT,
  REFERENCE_NOW,
  REFERENCE_STACK,
  referenceConfig,
} from "../testing/fixtures.js";
import { one, type ProgramRun, runProgram } from "../testing/pulumi-mocks.js";
import { DEPLOY_KEY_VARIABLE, synthRun } from "./synth-run.js";

/**
 * The Terraform export must declare the same run as the Pulumi program: both are rendered from
 * one RunPlan, and this test holds them to it on every field that matters, for a GPU + Spot run
 * (the variant with the most settings).
 */

const VARIANT: Partial<StackConfigInput> = {
  gpuType: "nvidia-tesla-t4",
  gpuCount: 1,
  spot: true,
  maxRunHours: 2.5,
  dataDiskGb: 120,
  experimentArgs: ["--fraction", "0.1"],
};

// biome-ignore lint/suspicious/noExplicitAny: both sides are untyped JSON
type Json = Record<string, any>;
let pulumiRun: ProgramRun;
let tf: Json;

beforeAll(async () => {
  // index.ts stamps the metadata deadline with `new Date()`: pin it so both sides see one time.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(REFERENCE_NOW);
  pulumiRun = await runProgram({
    config: { ...asPulumiConfig({ ...REFERENCE_INPUT, ...VARIANT }), "runstack:deployKey": fakeDeployKey() },
    secretKeys: ["runstack:deployKey"],
    stack: REFERENCE_STACK,
  });
  tf = synthRun(planRun({ config: referenceConfig(VARIANT), stack: REFERENCE_STACK, now: REFERENCE_NOW }));
});
afterAll(() => {
  vi.useRealTimers();
});

/** A Terraform interpolation, `${expr}`, spelled so it is not mistaken for a JS template. */
const tfRef = (expr: string) => "$" + "{" + expr + "}";
const pulumiInputs = (type: string) => one(pulumiRun, type).inputs as Json;
const tfResource = (type: string): Json => {
  const all = Object.values(tf.resource[type] ?? {}) as Json[];
  expect(all, type).toHaveLength(1);
  return all[0]!;
};

describe("Terraform JSON vs the Pulumi declaration", () => {
  it("the VM: machine, zone, name, labels, metadata (startup script included), scopes", () => {
    const p = pulumiInputs("compute/instance:Instance");
    const t = tfResource("google_compute_instance");
    expect(t.machine_type).toBe(p.machineType);
    expect([t.zone, t.project, t.name]).toEqual([p.zone, p.project, p.name]);
    expect(t.labels).toEqual(p.labels);
    expect(t.metadata).toEqual(p.metadata);
    expect(t.metadata["startup-script"]).toMatch(/^#!/);
    expect(t.service_account.scopes).toEqual(p.serviceAccount.scopes);
    expect(t.service_account.email).toBe(tfRef("google_service_account.sa.email"));
    expect(t.network_interface).toEqual([{ network: p.networkInterfaces[0].network, access_config: [{}] }]);
  });

  it("scheduling: maxRunDuration, termination action, Spot, restart, host maintenance", () => {
    const p = pulumiInputs("compute/instance:Instance").scheduling;
    const t = tfResource("google_compute_instance").scheduling;
    expect(t).toEqual({
      max_run_duration: { seconds: p.maxRunDuration.seconds },
      instance_termination_action: p.instanceTerminationAction,
      provisioning_model: p.provisioningModel,
      preemptible: p.preemptible,
      automatic_restart: p.automaticRestart,
      on_host_maintenance: p.onHostMaintenance,
    });
    expect(t).toMatchObject({ max_run_duration: { seconds: 9000 }, provisioning_model: "SPOT" });
  });

  it("accelerators, boot disk and data disk: images, sizes, types, modes, labels", () => {
    const p = pulumiInputs("compute/instance:Instance");
    const t = tfResource("google_compute_instance");
    expect(t.guest_accelerator).toEqual(p.guestAccelerators);
    expect(t.boot_disk).toEqual({
      auto_delete: p.bootDisk.autoDelete,
      initialize_params: p.bootDisk.initializeParams,
    });
    const [attached] = t.attached_disk;
    expect(attached).toEqual({
      source: tfRef("google_compute_disk.data.self_link"),
      device_name: p.attachedDisks[0].deviceName,
      mode: p.attachedDisks[0].mode,
    });
    const pd = pulumiInputs("compute/disk:Disk");
    const td = tfResource("google_compute_disk");
    expect(td).toEqual({
      name: pd.name,
      zone: pd.zone,
      project: pd.project,
      image: pd.image,
      size: pd.size,
      type: pd.type,
      labels: pd.labels,
    });
    expect(td.size).toBe(120);
  });

  it("identity and grants: account, secret + accessor, self-delete role on the instance", () => {
    const sa = pulumiInputs("serviceaccount/account:Account");
    expect(tfResource("google_service_account")).toMatchObject({
      account_id: sa.accountId,
      project: sa.project,
    });
    const secret = pulumiInputs("secretmanager/secret:Secret");
    expect(tfResource("google_secret_manager_secret")).toMatchObject({
      secret_id: secret.secretId,
      labels: secret.labels,
      replication: { auto: {} },
    });
    const reader = pulumiInputs("secretmanager/secretIamMember:SecretIamMember");
    expect(tfResource("google_secret_manager_secret_iam_member")).toMatchObject({
      role: reader.role,
      member: `serviceAccount:${tfRef("google_service_account.sa.email")}`,
    });
    const role = pulumiInputs("projects/iAMCustomRole:IAMCustomRole");
    expect(tfResource("google_project_iam_custom_role")).toMatchObject({
      role_id: role.roleId,
      permissions: role.permissions,
      stage: role.stage,
    });
    expect(tfResource("google_compute_instance_iam_member")).toMatchObject({
      instance_name: tfRef("google_compute_instance.vm.name"),
      role: tfRef("google_project_iam_custom_role.self_delete_role.name"),
      zone: pulumiInputs("compute/instanceIAMMember:InstanceIAMMember").zone,
    });
    // Same resource kinds on both sides (the Pulumi side adds only its provider and component).
    const pulumiKinds = pulumiRun.resources.filter((r) => r.type.startsWith("gcp:")).length;
    const tfKinds = Object.values(tf.resource as Json).reduce(
      (n, byName) => n + Object.keys(byName).length,
      0,
    );
    expect(tfKinds).toBe(pulumiKinds);
  });

  it("the deploy key is a sensitive variable (TF_VAR_deploy_key), never a value in the JSON", () => {
    expect(tf.variable[DEPLOY_KEY_VARIABLE]).toMatchObject({ type: "string", sensitive: true });
    expect(tfResource("google_secret_manager_secret_version").secret_data).toBe(
      tfRef(`var.${DEPLOY_KEY_VARIABLE}`),
    );
  });

  it("outputs the same places to look, with a deadline computed from the VM's creation time", () => {
    expect(tf.output.instance_name.value).toBe(tfRef("google_compute_instance.vm.name"));
    expect(tf.output.deadline.value).toBe(
      tfRef('timeadd(google_compute_instance.vm.creation_timestamp, "9000s")'),
    );
    expect(tf.output.serial_log_command.value).toBe(pulumiRun.outputs.serialLogCommand);
    expect(tf.output.results.value).toEqual(pulumiRun.outputs.results);
  });
});
