import { z } from "zod";

/**
 * The per-run Pulumi stack config (Pulumi.run-<id>.yaml, namespace `runstack:`): the single
 * definition shared by the writer (infra/launch) and the reader (infra/stack-config.ts).
 * The deploy key is not here: it is a Pulumi secret (`runstack:deployKey`) read separately.
 */

export const RUN_ID_RE = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
/** GCE label values: lowercase, digits, '_' and '-', at most 63. */
export const LABEL_VALUE_RE = /^[a-z0-9_-]{0,63}$/;

export const StackConfig = z
  .strictObject({
    /** Run id: also the stack suffix (run-<id>) and the prefix of every GCE resource name. */
    runId: z.string().regex(RUN_ID_RE, "2-40 chars: lowercase letters, digits, '-'; starts with a letter"),
    /** Path of the experiment config inside the repository, e.g. configs/mnist-full.yaml. */
    experimentConfig: z
      .string()
      .regex(/^[^/].*\.ya?ml$/, "a relative path to a .yaml file in the repository"),
    /** sha256 of that config at the pinned commit (recorded in labels and checked on the VM). */
    configSha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex chars"),
    /** Full 40-hex commit the VM checks out. */
    commit: z.string().regex(/^[0-9a-f]{40}$/, "a full 40-character commit sha"),
    /** SSH URL the VM clones from and pushes results to with the deploy key. */
    repoUrl: z
      .string()
      .regex(/^(ssh:\/\/[^\s]+|[\w.-]+@[\w.-]+:[^\s]+)$/, "an SSH URL such as git@github.com:org/repo.git"),
    resultsBranch: z.string().min(1).default("main"),
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "a GCP project id"),
    zone: z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, "a GCE zone such as us-central1-a"),
    machineType: z
      .string()
      .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, "a GCE machine type such as n1-standard-8 or e2-custom-4-8192")
      .default("n1-standard-8"),
    gpuType: z
      .string()
      .regex(/^[a-z0-9-]+$/, "an accelerator type such as nvidia-tesla-t4")
      .optional(),
    gpuCount: z.int().min(0).max(8).default(0),
    spot: z.boolean().default(false),
    /** Hard deadline: the VM is deleted by GCE after this long, whatever it is doing. */
    // GCE's scheduling.maxRunDuration accepts 30 s .. 120 days; a week is runstack's own ceiling.
    maxRunHours: z
      .number()
      .min(30 / 3600, "at least 30 seconds (0.0084 h): GCE rejects a shorter maxRunDuration")
      .max(24 * 7, "at most 168 hours (a week)")
      .default(6),
    bootImage: z
      .string()
      .regex(
        /^[\w./-]+$/,
        "an image or image family path, e.g. projects/debian-cloud/global/images/family/debian-12",
      )
      .default("projects/debian-cloud/global/images/family/debian-12"),
    bootDiskGb: z.int().min(10).max(2000).default(50),
    /** Image holding the datasets (IDX files + manifest.json at its root). */
    dataImage: z
      .string()
      .regex(/^[\w./-]+$/, "an image path, e.g. projects/<p>/global/images/runstack-data-v1"),
    dataDiskGb: z.int().min(10).max(65536).optional(),
    /** Owner label (who launched the run). */
    owner: z.string().regex(LABEL_VALUE_RE, "lowercase letters, digits, '_' or '-', at most 63"),
    /** Node.js version the VM installs if its image lacks it. */
    nodeVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/)
      .default("20.20.2"),
    /** Extra arguments for `experiment run` on the VM (e.g. ["--fraction", "0.1"]). */
    experimentArgs: z.array(z.string()).default([]),
  })
  .refine((s) => s.gpuCount > 0 === (s.gpuType !== undefined), {
    message: "set gpuType and gpuCount together (gpuCount > 0 needs a gpuType, and vice versa)",
    path: ["gpuCount"],
  });
export type StackConfig = z.infer<typeof StackConfig>;
export type StackConfigInput = z.input<typeof StackConfig>;

/** Every key of the stack config, for Pulumi.yaml declarations and the reader. */
export const STACK_KEYS = [
  "runId",
  "experimentConfig",
  "configSha256",
  "commit",
  "repoUrl",
  "resultsBranch",
  "project",
  "zone",
  "machineType",
  "gpuType",
  "gpuCount",
  "spot",
  "maxRunHours",
  "bootImage",
  "bootDiskGb",
  "dataImage",
  "dataDiskGb",
  "owner",
  "nodeVersion",
  "experimentArgs",
] as const satisfies readonly (keyof StackConfigInput)[];

export const DEPLOY_KEY_CONFIG = "deployKey";
export const CONFIG_NAMESPACE = "runstack";
