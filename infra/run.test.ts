import { beforeAll, describe, expect, it } from "vitest";
import type { StackConfigInput } from "../configs/stack.js";
import { VM_ATTR } from "../configs/vm.js";
import {
  asPulumiConfig,
  fakeDeployKey,
  KEY_MARKER,
  REFERENCE_INPUT,
  REFERENCE_STACK,
} from "./testing/fixtures.js";
import { MOCK_CREATION_TIMESTAMP, one, type ProgramRun, runProgram } from "./testing/pulumi-mocks.js";

/** The Pulumi program under mocks, with policies a reviewer would otherwise have to check by eye. */

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"; // how the runtime marks a secret value on the wire

function run(overrides: Partial<StackConfigInput> = {}, deployKey: string | undefined = fakeDeployKey()) {
  const config = asPulumiConfig({ ...REFERENCE_INPUT, ...overrides });
  if (deployKey !== undefined) config["runstack:deployKey"] = deployKey;
  return runProgram({ config, secretKeys: ["runstack:deployKey"], stack: REFERENCE_STACK });
}

let ref: ProgramRun;
beforeAll(async () => {
  ref = await run();
});

describe("ExperimentRun (reference config)", () => {
  it("the VM must delete itself at its deadline", () => {
    const vm = one(ref, "compute/instance:Instance").inputs;
    expect(vm.scheduling).toMatchObject({
      maxRunDuration: { seconds: 6 * 3600 },
      instanceTerminationAction: "DELETE",
    });
    // The exported deadline is pinned to the instance's creation, not to when the program ran.
    expect(ref.outputs.deadline).toBe(
      new Date(Date.parse(MOCK_CREATION_TIMESTAMP) + 6 * 3600_000).toISOString(),
    );
    // …and before that, the VM may delete itself: one permission, granted on this instance alone.
    const role = one(ref, "projects/iAMCustomRole:IAMCustomRole").inputs;
    // Parking results on the boot disk needs setDiskAutoDelete; never setScheduling (lifting the deadline).
    expect(role.permissions).toEqual(["compute.instances.delete", "compute.instances.setDiskAutoDelete"]);
    expect(role.permissions).not.toContain("compute.instances.setScheduling");
    const grant = one(ref, "compute/instanceIAMMember:InstanceIAMMember").inputs;
    const account = one(ref, "serviceaccount/account:Account").inputs;
    expect(grant).toMatchObject({
      instanceName: vm.name,
      zone: vm.zone,
      role: `projects/${role.project}/roles/${role.roleId}`,
      member: `serviceAccount:${account.accountId}@${account.project}.iam.gserviceaccount.com`,
    });
    expect(vm.serviceAccount).toEqual({
      email: `${account.accountId}@${account.project}.iam.gserviceaccount.com`,
      scopes: ["cloud-platform"],
    });
  });

  it("the deploy key must not appear in plaintext in metadata, the startup script or outputs", () => {
    const version = one(ref, "secretmanager/secretVersion:SecretVersion");
    // It is stored in exactly one place, and as a secret (encrypted in state).
    expect(version.inputs.secretData).toMatchObject({ [SECRET_SIG_KEY]: expect.any(String) });
    expect(JSON.stringify(version.inputs.secretData)).toContain(KEY_MARKER);
    const elsewhere = ref.resources.filter((r) => r !== version);
    expect(JSON.stringify(elsewhere)).not.toContain(KEY_MARKER);
    expect(JSON.stringify(elsewhere)).not.toContain("PRIVATE KEY");
    expect(JSON.stringify(ref.outputs)).not.toContain(KEY_MARKER);
    const metadata = one(ref, "compute/instance:Instance").inputs.metadata as Record<string, string>;
    expect(metadata["startup-script"]).toMatch(/^#!/);
    expect(metadata[VM_ATTR.secret]).toMatch(/^projects\/example-lab-ml\/secrets\/runstack-/);
  });

  it("the run's account must hold no project-level role: every grant names one resource", () => {
    const projectGrants = ref.resources.filter((r) =>
      /^gcp:(projects|organizations|folder)\/iAM(Member|Binding|Policy)/.test(r.type),
    );
    expect(projectGrants).toEqual([]);
    // IAMCustomRole defines a role; it grants nothing by itself.
    const grants = ref.resources.filter((r) => /I[Aa][Mm](Member|Binding|Policy):/.test(r.type));
    expect(grants.map((g) => g.type).sort()).toEqual([
      "gcp:compute/instanceIAMMember:InstanceIAMMember",
      "gcp:secretmanager/secretIamMember:SecretIamMember",
    ]);
    const secret = one(ref, "secretmanager/secret:Secret").inputs;
    expect(one(ref, "secretmanager/secretIamMember:SecretIamMember").inputs).toMatchObject({
      secretId: secret.secretId,
      role: "roles/secretmanager.secretAccessor",
    });
  });

  it("every GCP resource goes through the stack's explicit provider, never ambient gcloud settings", () => {
    const gcpResources = ref.resources.filter((r) => r.type.startsWith("gcp:"));
    expect(gcpResources.length).toBeGreaterThanOrEqual(8);
    for (const r of gcpResources) expect(r.provider, r.type).toMatch(/::pulumi:providers:gcp::gcp::/);
    expect(one(ref, "pulumi:providers:gcp").inputs).toMatchObject({
      project: "example-lab-ml",
      zone: "us-central1-a",
    });
  });

  it("every labellable resource carries the run-id label (VM, boot disk, data disk, secret)", () => {
    const labellable = ref.resources.filter((r) =>
      ["compute/instance:Instance", "compute/disk:Disk", "secretmanager/secret:Secret"].some((t) =>
        r.type.endsWith(t),
      ),
    );
    expect(labellable).toHaveLength(3);
    for (const r of labellable) expect(r.inputs.labels?.["run-id"], r.type).toBe(REFERENCE_INPUT.runId);
    const boot = one(ref, "compute/instance:Instance").inputs.bootDisk;
    expect(boot.initializeParams.labels["run-id"]).toBe(REFERENCE_INPUT.runId);
    expect(boot.autoDelete).toBe(true);
  });

  it("the data disk is attached read-only, made from the data image", () => {
    const disk = one(ref, "compute/disk:Disk").inputs;
    expect(disk.image).toBe(REFERENCE_INPUT.dataImage);
    const [attached, ...more] = one(ref, "compute/instance:Instance").inputs.attachedDisks;
    expect(more).toEqual([]);
    expect(attached).toEqual({
      source: `https://www.googleapis.com/compute/v1/projects/${disk.project}/zones/${disk.zone}/disks/${disk.name}`,
      deviceName: "runstack-data",
      mode: "READ_ONLY",
    });
  });

  it("a CPU run on a standard VM has no accelerator and may live-migrate", () => {
    const vm = one(ref, "compute/instance:Instance").inputs;
    expect(vm.guestAccelerators).toEqual([]);
    expect(vm.scheduling).toMatchObject({ provisioningModel: "STANDARD", onHostMaintenance: "MIGRATE" });
  });

  it("exports where to look and how to tear down, for this stack", () => {
    expect(ref.outputs).toEqual({
      instanceName: `runstack-${REFERENCE_INPUT.runId}`,
      zone: REFERENCE_INPUT.zone,
      deadline: expect.any(String),
      serialLogCommand: `gcloud compute instances get-serial-port-output runstack-${REFERENCE_INPUT.runId} --zone=us-central1-a --project=example-lab-ml`,
      results: { repo: REFERENCE_INPUT.repoUrl, branch: "main", path: `results/${REFERENCE_INPUT.runId}/` },
      teardownCommand: `pulumi destroy --refresh --remove -s ${REFERENCE_STACK}`,
      dataDiskNote: expect.stringContaining("outlives the VM"),
    });
  });
});

describe("ExperimentRun (variants)", () => {
  it("a GPU run must terminate on host maintenance", async () => {
    const gpu = await run({ gpuType: "nvidia-tesla-t4", gpuCount: 1 });
    const vm = one(gpu, "compute/instance:Instance").inputs;
    expect(vm.guestAccelerators).toEqual([{ type: "nvidia-tesla-t4", count: 1 }]);
    expect(vm.scheduling.onHostMaintenance).toBe("TERMINATE");
  });

  it("a Spot run must not auto-restart", async () => {
    const spot = await run({ spot: true });
    expect(one(spot, "compute/instance:Instance").inputs.scheduling).toMatchObject({
      provisioningModel: "SPOT",
      preemptible: true,
      automaticRestart: false,
      instanceTerminationAction: "DELETE",
    });
  });

  it("invalid stack config must create nothing, and names the key", async () => {
    const resources = [] as ProgramRun["resources"];
    await expect(
      runProgram({
        config: {
          ...asPulumiConfig(REFERENCE_INPUT),
          "runstack:bootDiskGb": "5",
          "runstack:deployKey": fakeDeployKey(),
        },
        stack: REFERENCE_STACK,
        onResource: (r) => resources.push(r),
      }),
    ).rejects.toThrow(/runstack:bootDiskGb: .*>=10.* \(found: "5"\)/);
    expect(resources).toEqual([]);
  });

  it("a missing deploy key must create nothing, and names the `--secret` fix", async () => {
    const resources = [] as ProgramRun["resources"];
    const err = await runProgram({
      config: asPulumiConfig(REFERENCE_INPUT),
      stack: REFERENCE_STACK,
      onResource: (r) => resources.push(r),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "PULUMI_CONFIG",
      hint: expect.stringContaining("pulumi config set --secret runstack:deployKey"),
    });
    expect(resources).toEqual([]);
  });
});
