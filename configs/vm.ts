/**
 * The contract between the stack (infra/, which writes instance metadata) and the VM
 * (the startup script + experiment/remote, which read it). Values are never secrets: the deploy
 * key lives in Secret Manager and only its resource name travels here.
 */

/** Instance metadata attribute keys the stack sets and the VM reads. */
export const VM_ATTR = {
  runId: "runstack-run-id",
  stack: "runstack-stack",
  repoUrl: "runstack-repo-url",
  commit: "runstack-commit",
  configPath: "runstack-config-path",
  configSha256: "runstack-config-sha256",
  resultsBranch: "runstack-results-branch",
  /** projects/<p>/secrets/<s>: the deploy key's secret (the VM reads versions/latest). */
  secret: "runstack-secret",
  /** deviceName of the data disk: it appears as /dev/disk/by-id/google-<deviceName>. */
  dataDevice: "runstack-data-device",
  dataImage: "runstack-data-image",
  bootImage: "runstack-boot-image",
  gpu: "runstack-gpu",
  spot: "runstack-spot",
  /** RFC 3339 time when GCE deletes the VM (maxRunDuration). */
  deadline: "runstack-deadline",
  nodeVersion: "runstack-node-version",
  /** JSON array of extra args for `experiment run`. */
  experimentArgs: "runstack-experiment-args",
} as const;

/** Guest attributes: namespace and keys the VM writes for status from outside. */
export const GUEST_NAMESPACE = "runstack";
export const GUEST_KEYS = { phase: "phase", detail: "detail", resultCommit: "result-commit" } as const;

export const PHASES = [
  "booting",
  "cloning",
  "installing",
  "running",
  "publishing",
  "done",
  "failed",
  "push-failed",
  "preempted",
] as const;
export type Phase = (typeof PHASES)[number];

/** Serial-log marker prefix: one line per phase change, grep-able from `gcloud ... get-serial-port-output`. */
export const SERIAL_MARKER = "RUNSTACK";

/** Where things live on the VM. All overridable by env var for the local end-to-end harness. */
export const VM_DEFAULTS = {
  metadataUrl: "http://metadata.google.internal/computeMetadata/v1",
  computeUrl: "https://compute.googleapis.com/compute/v1",
  secretsUrl: "https://secretmanager.googleapis.com/v1",
  workDir: "/var/lib/runstack",
  dataMount: "/mnt/data",
} as const;

/** Env vars that override VM_DEFAULTS (documented in the README; used by the local harness). */
export const VM_ENV = {
  metadataUrl: "RUNSTACK_METADATA_URL",
  computeUrl: "RUNSTACK_COMPUTE_URL",
  secretsUrl: "RUNSTACK_SECRETS_URL",
  workDir: "RUNSTACK_WORKDIR",
  dataMount: "RUNSTACK_DATA_MOUNT",
} as const;
