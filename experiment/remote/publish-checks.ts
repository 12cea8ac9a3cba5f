import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { RunstackError } from "../../configs/errors.js";
import type { Git } from "./git.js";

/**
 * What may be published, decided before anything is committed: names usable as folder and branch,
 * a non-empty results folder without key material, and no changes outside it in the checkout.
 * Every refusal is PUBLISH_REFUSED: retrying cannot help, a human has to look.
 */

export const refuse = (message: string, hint: string) =>
  new RunstackError("PUBLISH_REFUSED", message, { hint });

export const inside = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

export function checkNames(o: { runId: string; resultsDir: string }): void {
  if (
    !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(o.runId) ||
    o.runId.includes("..") ||
    o.runId.endsWith(".lock")
  )
    throw refuse(
      `runId ${JSON.stringify(o.runId)} is not usable as a folder and branch name`,
      "use letters, digits, '.', '_', '-' (no '..', not ending in .lock)",
    );
  const d = o.resultsDir;
  if (
    path.posix.isAbsolute(d) ||
    d !== path.posix.normalize(d) ||
    d.startsWith("..") ||
    d.endsWith("/") ||
    path.posix.basename(d) !== o.runId
  )
    throw refuse(
      `resultsDir ${JSON.stringify(d)} must be a normalized relative path ending in the run id ${o.runId}`,
      `pass e.g. results/${o.runId}`,
    );
}

/** Streams the file so a large model does not have to fit in memory; carries a tail across chunks. */
async function holdsPrivateKey(file: string): Promise<boolean> {
  const marker = "PRIVATE KEY-----";
  let tail = "";
  for await (const chunk of createReadStream(file, { encoding: "latin1", highWaterMark: 1 << 20 })) {
    const text = tail + (chunk as string);
    if (text.includes(marker)) return true;
    tail = text.slice(-marker.length);
  }
  return false;
}

export async function checkResultsFolder(repoDir: string, resultsDir: string): Promise<void> {
  const abs = path.join(repoDir, resultsDir);
  const st = await stat(abs).catch(() => null);
  if (!st?.isDirectory())
    throw refuse(
      `results folder ${abs} is missing`,
      "the experiment writes its record there before publishing",
    );
  const entries = await readdir(abs, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  if (files.length === 0)
    throw refuse(`results folder ${abs} holds no files`, "nothing to publish: did the run write run.json?");
  for (const f of files)
    if (await holdsPrivateKey(f))
      throw refuse(
        `${path.relative(repoDir, f)} contains a private key block; refusing to publish it`,
        "never write key material under results/",
      );
}

/** `git status -z` entries; a rename's origin path is its own entry, also checked. */
async function changedPaths(git: Git): Promise<string[]> {
  const out = await git.run(["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  const tokens = out.split("\0").filter((t) => t !== "");
  const paths: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    paths.push(t.slice(3));
    if (t[0] === "R" || t[0] === "C") paths.push(tokens[++i] ?? "");
  }
  return paths;
}

export async function refuseStrayChanges(git: Git, resultsDir: string, where: string): Promise<void> {
  const stray = (await changedPaths(git)).filter((p) => !inside(p, resultsDir));
  if (stray.length > 0)
    throw refuse(
      `${where} has changes outside ${resultsDir}/: ${stray.slice(0, 10).join(", ")}${stray.length > 10 ? ", …" : ""}`,
      `a run writes only under ${resultsDir}/; gitignore caches and outputs, or move them there`,
    );
}
