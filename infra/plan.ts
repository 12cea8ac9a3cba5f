import { createHash } from "node:crypto";
import { z } from "zod";
import { RunstackError } from "../configs/errors.js";
import { LABEL_VALUE_RE, type StackConfig } from "../configs/stack.js";
import { VM_ATTR } from "../configs/vm.js";
import { renderStartupScript } from "./startup-script.js";

/**
 * Pure planning of one run: every name, label, scheduling flag, disk and metadata value the stack
 * declares. The Pulumi program (run.ts) and the Terraform export (terraform/) both render THIS
 * object, so the two paths cannot drift on anything that matters.
 */

/** deviceName of the data disk; the VM finds it at /dev/disk/by-id/google-<deviceName>. */
export const DATA_DEVICE_NAME = "runstack-data";
/**
 * What the VM's own identity may do to its own instance, and nothing more (see run.ts): delete it,
 * and flip its boot disk's auto-delete off when results must be parked on that disk because the
 * push failed for good (experiment/remote/safekeeping.ts). Not setScheduling: the VM must never be
 * able to lift its own deadline.
 */
export const SELF_DELETE_PERMISSIONS = [
  "compute.instances.delete",
  "compute.instances.setDiskAutoDelete",
] as const;
export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";
/** GCE accepts 30 s .. 120 days for scheduling.maxRunDuration. */
const MIN_RUN_SECONDS = 30;
const DISK_TYPE = "pd-balanced";

const GCE_NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SERVICE_ACCOUNT_ID_RE = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const CUSTOM_ROLE_ID_RE = /^[a-zA-Z0-9_.]{3,64}$/;
const LABEL_KEY_RE = /^[a-z][a-z0-9_-]{0,62}$/;

const LabelValue = z.string().regex(LABEL_VALUE_RE);

/** The resolved run. Validated on the way out: a name or label GCE would reject is a bug here. */
export const RunPlan = z.strictObject({
  runId: z.string(),
  stack: z.string(),
  project: z.string(),
  zone: z.string(),
  names: z.strictObject({
    instance: z.string().regex(GCE_NAME_RE),
    dataDisk: z.string().regex(GCE_NAME_RE),
    secretId: z.string().regex(/^[a-zA-Z0-9_-]{1,255}$/),
    serviceAccountId: z.string().regex(SERVICE_ACCOUNT_ID_RE),
    selfDeleteRoleId: z.string().regex(CUSTOM_ROLE_ID_RE),
  }),
  /** Applied to every labellable resource: instance, boot disk, data disk, secret. */
  labels: z.record(z.string().regex(LABEL_KEY_RE), LabelValue),
  machineType: z.string(),
  gpu: z.strictObject({ type: z.string(), count: z.int().positive() }).nullable(),
  scheduling: z.strictObject({
    maxRunDurationSeconds: z.int().min(MIN_RUN_SECONDS),
    instanceTerminationAction: z.literal("DELETE"),
    provisioningModel: z.enum(["SPOT", "STANDARD"]),
    preemptible: z.boolean(),
    automaticRestart: z.boolean(),
    onHostMaintenance: z.enum(["TERMINATE", "MIGRATE"]),
  }),
  bootDisk: z.strictObject({
    image: z.string(),
    sizeGb: z.int(),
    type: z.string(),
    autoDelete: z.literal(true),
  }),
  dataDisk: z.strictObject({
    image: z.string(),
    /** null: as large as the image. */
    sizeGb: z.int().nullable(),
    type: z.string(),
    mode: z.literal("READ_ONLY"),
    deviceName: z.string(),
  }),
  /** Instance metadata, startup-script included. Never the deploy key (only the secret's name). */
  metadata: z.record(z.string(), z.string()),
  serviceAccount: z.strictObject({
    accountId: z.string(),
    displayName: z.string(),
    scopes: z.array(z.string()),
  }),
  secret: z.strictObject({ secretId: z.string(), resourceName: z.string(), accessorRole: z.string() }),
  selfDelete: z.strictObject({
    roleId: z.string(),
    roleName: z.string(),
    title: z.string(),
    permissions: z.array(z.string()),
  }),
  outputs: z.strictObject({
    serialLogCommand: z.string(),
    teardownCommand: z.string(),
    results: z.strictObject({ repo: z.string(), branch: z.string(), path: z.string() }),
    dataDiskNote: z.string(),
  }),
});
export type RunPlan = z.infer<typeof RunPlan>;

export interface PlanOptions {
  config: StackConfig;
  /** Pulumi stack name, e.g. run-<id>. */
  stack: string;
  /**
   * When the program runs. GCE starts the maxRunDuration clock only once the VM exists, so
   * `now + maxRunHours` is the EARLIEST moment GCE may delete the VM: the VM gets it as its
   * `runstack-deadline` metadata (a safe publish-by time). The exact deadline is exported from the
   * instance's creationTimestamp instead (index.ts). Omitted: no deadline key in metadata.
   */
  now?: Date;
}

export function planRun(opts: PlanOptions): RunPlan {
  const { config: c, stack } = opts;
  const maxRunDurationSeconds = Math.round(c.maxRunHours * 3600);
  if (maxRunDurationSeconds < MIN_RUN_SECONDS) {
    throw new RunstackError(
      "PULUMI_CONFIG",
      `runstack:maxRunHours: ${c.maxRunHours} h is ${maxRunDurationSeconds} s; GCE's maxRunDuration needs at least ${MIN_RUN_SECONDS} s`,
      { hint: `pulumi config set runstack:maxRunHours 0.5 -s ${stack}` },
    );
  }
  const prefix = `runstack-${c.runId}`;
  const names = {
    instance: prefix,
    dataDisk: `${prefix}-data`,
    secretId: `${prefix}-deploy-key`,
    serviceAccountId: serviceAccountId(c.runId),
    selfDeleteRoleId: `runstack_selfdelete_${c.runId.replaceAll("-", "_")}`,
  };
  const gpu = c.gpuType !== undefined && c.gpuCount > 0 ? { type: c.gpuType, count: c.gpuCount } : null;
  const secretResourceName = `projects/${c.project}/secrets/${names.secretId}`;

  const metadata: Record<string, string> = {
    [VM_ATTR.runId]: c.runId,
    [VM_ATTR.stack]: stack,
    [VM_ATTR.repoUrl]: c.repoUrl,
    [VM_ATTR.commit]: c.commit,
    [VM_ATTR.configPath]: c.experimentConfig,
    [VM_ATTR.configSha256]: c.configSha256,
    [VM_ATTR.resultsBranch]: c.resultsBranch,
    [VM_ATTR.secret]: secretResourceName,
    [VM_ATTR.dataDevice]: DATA_DEVICE_NAME,
    [VM_ATTR.dataImage]: c.dataImage,
    [VM_ATTR.bootImage]: c.bootImage,
    // JSON, the shape CloudContext.gpu records: {"type":…,"count":…} or null.
    [VM_ATTR.gpu]: JSON.stringify(gpu),
    [VM_ATTR.spot]: String(c.spot),
    [VM_ATTR.nodeVersion]: c.nodeVersion,
    [VM_ATTR.experimentArgs]: JSON.stringify(c.experimentArgs),
    "enable-guest-attributes": "TRUE",
    "startup-script": renderStartupScript({ runId: c.runId }),
  };
  if (opts.now !== undefined) {
    metadata[VM_ATTR.deadline] = new Date(opts.now.getTime() + maxRunDurationSeconds * 1000).toISOString();
  }

  const teardownCommand = `pulumi destroy --refresh --remove -s ${stack}`;
  const plan: RunPlan = {
    runId: c.runId,
    stack,
    project: c.project,
    zone: c.zone,
    names,
    labels: {
      "run-id": c.runId,
      // The full sha is lowercase hex and 40 <= 63 chars, so it is label-safe as is; keeping it whole
      // lets `--filter=labels.commit=$(git rev-parse HEAD)` match exactly.
      commit: c.commit,
      // sha256 is 64 hex, one over the 63-char label limit: 16 hex (64 bits) identify the config;
      // the full hash is in metadata (runstack-config-sha256) and in the run record.
      "config-hash": c.configSha256.slice(0, 16),
      owner: c.owner,
      "managed-by": "runstack",
    },
    machineType: c.machineType,
    gpu,
    scheduling: {
      maxRunDurationSeconds,
      instanceTerminationAction: "DELETE",
      provisioningModel: c.spot ? "SPOT" : "STANDARD",
      preemptible: c.spot,
      // Spot VMs must not restart; a standard VM restarts after a host event and its idempotent
      // startup script resumes the run.
      automaticRestart: !c.spot,
      // GPUs and Spot VMs cannot live-migrate.
      onHostMaintenance: gpu !== null || c.spot ? "TERMINATE" : "MIGRATE",
    },
    bootDisk: { image: c.bootImage, sizeGb: c.bootDiskGb, type: DISK_TYPE, autoDelete: true },
    dataDisk: {
      image: c.dataImage,
      sizeGb: c.dataDiskGb ?? null,
      type: DISK_TYPE,
      mode: "READ_ONLY",
      deviceName: DATA_DEVICE_NAME,
    },
    metadata,
    serviceAccount: {
      accountId: names.serviceAccountId,
      displayName: `runstack run ${c.runId}`,
      // Secret Manager and the compute API (self-delete) need the broad scope; IAM does the limiting.
      scopes: ["cloud-platform"],
    },
    secret: {
      secretId: names.secretId,
      resourceName: secretResourceName,
      accessorRole: SECRET_ACCESSOR_ROLE,
    },
    selfDelete: {
      roleId: names.selfDeleteRoleId,
      roleName: `projects/${c.project}/roles/${names.selfDeleteRoleId}`,
      title: `runstack ${c.runId}: delete own VM`,
      permissions: [...SELF_DELETE_PERMISSIONS],
    },
    outputs: {
      serialLogCommand: `gcloud compute instances get-serial-port-output ${names.instance} --zone=${c.zone} --project=${c.project}`,
      teardownCommand,
      results: { repo: c.repoUrl, branch: c.resultsBranch, path: `results/${c.runId}/` },
      dataDiskNote:
        `data disk ${names.dataDisk} is attached read-only, and GCE never auto-deletes a read-only ` +
        `attachment: it outlives the VM and bills until \`${teardownCommand}\``,
    },
  };
  return RunPlan.parse(plan);
}

/**
 * Service-account ids are 6-30 chars ([a-z][-a-z0-9]{4,28}[a-z0-9]); run ids go up to 40. Long ids
 * keep a readable head and gain a hash of the whole id, so two long ids sharing a head stay distinct.
 */
export function serviceAccountId(runId: string): string {
  const full = `runstack-${runId}`;
  if (full.length <= 30) return full;
  const hash = createHash("sha256").update(runId).digest("hex").slice(0, 6);
  return `runstack-${runId.slice(0, 14)}-${hash}`;
}

/**
 * The exact deadline: GCE starts maxRunDuration when the instance is created, so only the
 * instance's creationTimestamp (known after creation) pins it. Returned in UTC, RFC 3339.
 */
export function deadlineAfter(creationTimestamp: string, maxRunDurationSeconds: number): string {
  const created = Date.parse(creationTimestamp);
  if (Number.isNaN(created)) {
    throw new Error(
      `instance creationTimestamp ${JSON.stringify(creationTimestamp)} is not an RFC 3339 time`,
    );
  }
  return new Date(created + maxRunDurationSeconds * 1000).toISOString();
}
