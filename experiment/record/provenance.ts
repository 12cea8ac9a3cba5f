import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { captureGit } from "./git.js";
import type { HostInfo, PackagesInfo, Provenance } from "./schema.js";

/**
 * The edge where provenance is gathered: git, installed package versions, host. It reads files
 * and runs git / nvidia-smi, but never reads environment variables into the result — secrets
 * live there, and a record is pushed to a repository.
 */

/** Packages whose versions change results; recorded as null when not installed. */
export const KEY_PACKAGES = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-node",
  "@tensorflow/tfjs-node-gpu",
  "@pulumi/pulumi",
  "@pulumi/gcp",
  "simple-git",
  "zod",
] as const;
/** Every installed package in these scopes is recorded too. */
const KEY_SCOPES = ["@tensorflow", "@pulumi"];

export interface CaptureOptions {
  cwd: string;
  argv: string[];
  /** Directory holding package.json / node_modules; default: nearest ancestor of cwd with a package.json. */
  projectRoot?: string;
  /** false on a VM: its checkout is pinned and clean, so a diff adds nothing. */
  includeDiff?: boolean;
}

export async function captureProvenance(opts: CaptureOptions): Promise<Provenance> {
  const root = opts.projectRoot ?? findProjectRoot(opts.cwd);
  const [git, packages, host] = await Promise.all([
    captureGit({ cwd: opts.cwd, includeDiff: opts.includeDiff }),
    capturePackages(root),
    captureHost(),
  ]);
  return {
    command: { argv: [...opts.argv], cwd: opts.cwd },
    git: git.git,
    gitMissingReason: git.reason,
    packages,
    host,
  };
}

/** Nearest directory at or above `start` with a package.json; `start` itself when there is none. */
export function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return start;
    dir = up;
  }
}

export async function capturePackages(root: string): Promise<PackagesInfo> {
  const names = new Set<string>(KEY_PACKAGES);
  for (const scope of KEY_SCOPES) {
    const entries = await readdir(join(root, "node_modules", scope)).catch(() => [] as string[]);
    for (const e of entries) if (!e.startsWith(".")) names.add(`${scope}/${e}`);
  }
  const sorted = [...names].sort();
  const found = await Promise.all(sorted.map((n) => installedVersion(root, n)));
  const versions: Record<string, string | null> = {};
  sorted.forEach((n, i) => {
    versions[n] = found[i] ?? null;
  });
  const lock = await readFile(join(root, "package-lock.json")).catch(() => null);
  return {
    node: process.version,
    versions,
    lockfileSha256: lock === null ? null : createHash("sha256").update(lock).digest("hex"),
  };
}

// Read package.json directly: many packages (simple-git, zod) do not export it, so require fails.
async function installedVersion(root: string, name: string): Promise<string | null> {
  try {
    const pkg = JSON.parse(await readFile(join(root, "node_modules", name, "package.json"), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : null;
  } catch {
    return null;
  }
}

export async function captureHost(): Promise<HostInfo> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryBytes: os.totalmem(),
    gpu: await gpuNames(),
  };
}

/** GPU names from nvidia-smi; [] when it is absent or fails (no driver, no GPU). */
export function gpuNames(command = "nvidia-smi"): Promise<string[]> {
  return new Promise((resolve) => {
    execFile(
      command,
      ["--query-gpu=name", "--format=csv,noheader"],
      { timeout: 10_000, windowsHide: true },
      (err, stdout) => {
        if (err) return resolve([]);
        resolve(
          stdout
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l.length > 0),
        );
      },
    );
  });
}
