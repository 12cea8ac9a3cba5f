import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { deadlineAfter, type RunPlan } from "./plan.js";

export interface ExperimentRunArgs {
  /** The resolved run (planRun): every name, label, disk, scheduling flag and metadata value. */
  plan: RunPlan;
  /**
   * The repository's deploy key (private key file content), as a secret Output. It is written only
   * to this run's Secret Manager version; the VM reads it from there with its own identity.
   */
  deployKey: pulumi.Input<string>;
}

/**
 * One experiment run on GCE: a service account for this run only, a Secret Manager secret with the
 * deploy key readable by that account alone, a disk made from the data image (attached read-only),
 * the VM with a hard deadline, and the right to delete exactly this VM.
 *
 * Self-delete design: the account gets a per-run custom role holding only
 * `compute.instances.delete` and `compute.instances.setDiskAutoDelete` (to park results on the boot
 * disk when a push fails for good), bound on the instance alone (InstanceIAMMember). The predefined role
 * that contains it (roles/compute.instanceAdmin.v1) would also let the VM call setScheduling on
 * itself, i.e. lift its own deadline. The alternative of marking the data disk auto-delete before
 * deleting is impossible: GCE refuses auto-delete on READ_ONLY attachments. So the data disk outlives
 * the VM until `pulumi destroy --refresh --remove` (exported as dataDiskNote). Cost of the choice:
 * a deleted custom role counts toward the project's 300-role quota for 7 days.
 */
export class ExperimentRun extends pulumi.ComponentResource {
  public readonly instanceName: pulumi.Output<string>;
  /** RFC 3339: creationTimestamp + maxRunDuration, when GCE deletes the VM at the latest. */
  public readonly deadline: pulumi.Output<string>;
  public readonly serviceAccountEmail: pulumi.Output<string>;
  public readonly secretName: pulumi.Output<string>;
  public readonly dataDiskName: pulumi.Output<string>;

  constructor(name: string, args: ExperimentRunArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runstack:index:ExperimentRun", name, {}, opts);
    const { plan } = args;
    const { project, zone, labels } = plan;
    const child = { parent: this };

    // No project-level role anywhere: every grant below names one resource.
    const account = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        project,
        accountId: plan.serviceAccount.accountId,
        displayName: plan.serviceAccount.displayName,
        description: `Identity of runstack run ${plan.runId} (stack ${plan.stack}); deleted with the stack.`,
      },
      child,
    );
    const member = pulumi.interpolate`serviceAccount:${account.email}`;

    const secret = new gcp.secretmanager.Secret(
      `${name}-deploy-key`,
      { project, secretId: plan.secret.secretId, replication: { auto: {} }, labels },
      child,
    );
    const version = new gcp.secretmanager.SecretVersion(
      `${name}-deploy-key-version`,
      // pulumi.secret keeps it encrypted in state even if a caller passed plain text.
      { secret: secret.id, secretData: pulumi.secret(args.deployKey) },
      child,
    );
    const reader = new gcp.secretmanager.SecretIamMember(
      `${name}-deploy-key-reader`,
      { project, secretId: secret.secretId, role: plan.secret.accessorRole, member },
      child,
    );

    const dataDisk = new gcp.compute.Disk(
      `${name}-data`,
      {
        project,
        zone,
        name: plan.names.dataDisk,
        image: plan.dataDisk.image,
        size: plan.dataDisk.sizeGb ?? undefined,
        type: plan.dataDisk.type,
        labels,
      },
      child,
    );

    const { scheduling: s } = plan;
    const vm = new gcp.compute.Instance(
      `${name}-vm`,
      {
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
        attachedDisks: [
          { source: dataDisk.selfLink, deviceName: plan.dataDisk.deviceName, mode: plan.dataDisk.mode },
        ],
        // Ephemeral external IP: the VM clones from and pushes to GitHub and installs from npm.
        networkInterfaces: [{ network: "default", accessConfigs: [{}] }],
        serviceAccount: { email: account.email, scopes: plan.serviceAccount.scopes },
        scheduling: {
          maxRunDuration: { seconds: s.maxRunDurationSeconds },
          instanceTerminationAction: s.instanceTerminationAction,
          provisioningModel: s.provisioningModel,
          preemptible: s.preemptible,
          automaticRestart: s.automaticRestart,
          onHostMaintenance: s.onHostMaintenance,
        },
        guestAccelerators: plan.gpu ? [{ type: plan.gpu.type, count: plan.gpu.count }] : [],
        metadata: plan.metadata,
        labels,
      },
      // The startup script fetches the key first thing: do not boot before it is stored and readable.
      { parent: this, dependsOn: [version, reader] },
    );

    const selfDeleteRole = new gcp.projects.IAMCustomRole(
      `${name}-self-delete-role`,
      {
        project,
        roleId: plan.selfDelete.roleId,
        title: plan.selfDelete.title,
        description: `Lets run ${plan.runId}'s VM delete itself; bound on that instance only.`,
        permissions: plan.selfDelete.permissions,
        stage: "GA",
      },
      child,
    );
    // Granted after the VM exists (it needs the instance): the VM's delete call must retry on 403,
    // which IAM propagation requires anyway.
    new gcp.compute.InstanceIAMMember(
      `${name}-self-delete`,
      { project, zone, instanceName: vm.name, role: selfDeleteRole.name, member },
      child,
    );

    this.instanceName = vm.name;
    this.deadline = vm.creationTimestamp.apply((created) => deadlineAfter(created, s.maxRunDurationSeconds));
    this.serviceAccountEmail = account.email;
    this.secretName = secret.name;
    this.dataDiskName = dataDisk.name;
    this.registerOutputs({
      instanceName: this.instanceName,
      deadline: this.deadline,
      serviceAccountEmail: this.serviceAccountEmail,
      secretName: this.secretName,
      dataDiskName: this.dataDiskName,
    });
  }
}
