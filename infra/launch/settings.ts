import { readFileSync } from "node:fs";
import { z } from "zod";
import { RunstackError } from "../../configs/errors.js";
import { parseYamlAs } from "../../configs/load.js";
import type { StackConfigInput } from "../../configs/stack.js";

/**
 * Launch settings = flags over the reviewed defaults file (infra/launch/defaults.yaml) over a few
 * derived values. Resolution is pure; only loadDefaults touches the disk.
 */

export const DEFAULTS_FILE = "infra/launch/defaults.yaml";

export const LaunchDefaults = z.strictObject({
  project: z.string().min(1).optional(),
  zone: z.string().min(1).optional(),
  dataImage: z.string().min(1).optional(),
  owner: z.string().min(1).optional(),
  machineType: z.string().min(1).optional(),
  maxRunHours: z.number().positive().optional(),
  resultsBranch: z.string().min(1).optional(),
  spot: z.boolean().optional(),
  /** A GPU run needs an image with the NVIDIA driver (+ CUDA 11.2 / cuDNN 8.1 for tfjs-node-gpu 4.22). */
  bootImage: z.string().min(1).optional(),
  bootDiskGb: z.int().optional(),
  dataDiskGb: z.int().optional(),
  /** For `pulumi stack init --secrets-provider`: passphrase, gcpkms://..., ... */
  secretsProvider: z.string().min(1).default("passphrase"),
});
export type LaunchDefaults = z.infer<typeof LaunchDefaults>;

/** Launch flags as the CLI parsed them (all optional: defaults fill the rest). */
export interface LaunchFlags {
  name?: string;
  machine?: string;
  /** TYPE or TYPE:COUNT, e.g. nvidia-tesla-t4:1 */
  gpu?: string;
  spot?: boolean;
  hours?: number;
  project?: string;
  zone?: string;
  dataImage?: string;
  bootImage?: string;
  owner?: string;
  branch?: string;
  secretsProvider?: string;
}

export function parseDefaults(text: string, file: string): LaunchDefaults {
  return parseYamlAs(
    {
      schema: LaunchDefaults,
      what: "launch defaults",
      schemaFile: "infra/launch/settings.ts (LaunchDefaults)",
    },
    text,
    file,
  );
}

/** The defaults file, or the schema defaults when the repository has none. */
export function loadDefaults(path: string): LaunchDefaults {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return LaunchDefaults.parse({});
    throw new RunstackError("CONFIG_NOT_FOUND", `cannot read ${path}: ${(e as Error).message}`);
  }
  return parseDefaults(text, path);
}

export function parseGpu(spec: string): { gpuType: string; gpuCount: number } {
  const m = /^([a-z0-9-]+)(?::(\d+))?$/.exec(spec);
  const count = m?.[2] === undefined ? 1 : Number(m[2]);
  if (!m || !Number.isInteger(count) || count < 1) {
    throw new RunstackError("USAGE", `--gpu ${spec}: expected TYPE or TYPE:COUNT with COUNT >= 1`, {
      hint: "e.g. --gpu nvidia-tesla-t4 or --gpu nvidia-l4:2",
    });
  }
  return { gpuType: m[1]!, gpuCount: count };
}

/** A GCE-label-safe owner from `git config user.email` ("Ada.L@x.org" → "ada-l"). */
export function ownerFromEmail(email: string | undefined): string | undefined {
  const local = email
    ?.split("@")[0]
    ?.toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return local ? local.slice(0, 63) : undefined;
}

export interface ResolveSettingsOptions {
  flags: LaunchFlags;
  defaults: LaunchDefaults;
  gitUserEmail?: string;
}

export type LaunchSettings = Omit<
  StackConfigInput,
  "runId" | "experimentConfig" | "configSha256" | "commit" | "repoUrl"
> & { secretsProvider: string };

/** Flags win over defaults; a missing required value is one error naming every missing flag. */
export function resolveSettings({ flags, defaults, gitUserEmail }: ResolveSettingsOptions): LaunchSettings {
  const pick = <T>(flag: T | undefined, def: T | undefined) => (flag !== undefined ? flag : def);
  const project = pick(flags.project, defaults.project);
  const zone = pick(flags.zone, defaults.zone);
  const dataImage = pick(flags.dataImage, defaults.dataImage);
  const owner = pick(flags.owner, defaults.owner) ?? ownerFromEmail(gitUserEmail);
  const missing = [
    project === undefined ? "--project (or `project:` in defaults.yaml)" : undefined,
    zone === undefined ? "--zone (or `zone:` in defaults.yaml)" : undefined,
    dataImage === undefined ? "--data-image (or `dataImage:` in defaults.yaml)" : undefined,
    owner === undefined ? "--owner (or `owner:` in defaults.yaml, or git config user.email)" : undefined,
  ].filter((m): m is string => m !== undefined);
  if (
    missing.length > 0 ||
    project === undefined ||
    zone === undefined ||
    dataImage === undefined ||
    owner === undefined
  ) {
    throw new RunstackError("USAGE", `launch needs values it has no default for: ${missing.join(", ")}`, {
      hint: `pass the flags, or add the keys to ${DEFAULTS_FILE} (reviewed like any config)`,
    });
  }
  const gpu = flags.gpu === undefined ? undefined : parseGpu(flags.gpu);
  const settings: LaunchSettings = {
    project,
    zone,
    dataImage,
    owner,
    secretsProvider: pick(flags.secretsProvider, defaults.secretsProvider) ?? "passphrase",
  };
  const optional: Partial<LaunchSettings> = {
    machineType: pick(flags.machine, defaults.machineType),
    maxRunHours: pick(flags.hours, defaults.maxRunHours),
    resultsBranch: pick(flags.branch, defaults.resultsBranch),
    spot: pick(flags.spot, defaults.spot),
    bootImage: pick(flags.bootImage, defaults.bootImage),
    bootDiskGb: defaults.bootDiskGb,
    dataDiskGb: defaults.dataDiskGb,
    ...gpu,
  };
  for (const [k, v] of Object.entries(optional))
    if (v !== undefined) (settings as Record<string, unknown>)[k] = v;
  return settings;
}
