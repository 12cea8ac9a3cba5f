import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { RunstackError } from "../../configs/errors.js";
import { RUN_ID_RE } from "../../configs/stack.js";
import { writeFileAtomic } from "./atomic.js";
import { parseRecord, type RunRecord } from "./schema.js";

export const RECORD_FILE = "run.json";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const MAX_RUN_ID = 40;

/**
 * A run id such as `quick-20261203-134501-k3f9`: the config name made safe, the UTC start time
 * (so ids sort by time and read the same in every time zone) and 4 random characters (so two
 * runs started in the same second differ). Valid as a Pulumi stack suffix and a GCE name prefix
 * (RUN_ID_RE); the name part is shortened to keep the id within 40 characters.
 */
export function newRunId(name: string, now: Date, rand: () => number): string {
  const t = now.getTime();
  if (!Number.isFinite(t) || now.getUTCFullYear() < 0 || now.getUTCFullYear() > 9999) {
    throw new RunstackError(
      "USAGE",
      `newRunId: a date between years 0 and 9999 is needed, found ${String(now)}`,
    );
  }
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const stamp =
    `${p(now.getUTCFullYear(), 4)}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-` +
    `${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  let suffix = "";
  for (let i = 0; i < 4; i++) {
    const r = rand();
    const k = Number.isFinite(r) ? Math.floor(r * ALPHABET.length) : 0;
    suffix += ALPHABET[Math.min(ALPHABET.length - 1, Math.max(0, k))];
  }
  const tail = `${stamp}-${suffix}`;
  const safe = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, MAX_RUN_ID - tail.length - 1)
    .replace(/-+$/, "");
  return `${safe || "run"}-${tail}`;
}

/**
 * Create `<outDir>/<runId>` and return its path. The leaf is created exclusively: an existing run
 * directory means an id clash or a rerun, and its results must never be overwritten.
 */
export async function createRunDir(outDir: string, runId: string): Promise<string> {
  if (!RUN_ID_RE.test(runId)) {
    throw new RunstackError("RECORD_INVALID", `run id "${runId}" is not valid: expected ${RUN_ID_RE}`, {
      hint: "use 2-40 lowercase letters, digits and '-', starting with a letter (or omit it to get a fresh one)",
    });
  }
  const unwritable = (e: unknown) =>
    new RunstackError(
      "OUTPUT_UNWRITABLE",
      `cannot create the run folder under ${outDir}: ${(e as Error).message}`,
      {
        hint: "pass --out a directory you can write to (it is created if missing)",
        cause: e,
      },
    );
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw unwritable(e);
  }
  const dir = join(outDir, runId);
  try {
    await mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new RunstackError(
        "RECORD_EXISTS",
        `run directory ${dir} already exists; refusing to overwrite it`,
        {
          hint: "each run needs a fresh id: omit --run-id, or pick one that is not used under the results folder",
        },
      );
    }
    throw unwritable(e);
  }
  return dir;
}

/**
 * Validate `record` and write `<dir>/run.json` atomically (readers never see half a file). A run
 * may rewrite its own record as it progresses; a run.json of another run (or one that cannot be
 * identified) is never replaced. Returns the file's path.
 */
export async function writeRecord(dir: string, record: RunRecord): Promise<string> {
  const path = join(dir, RECORD_FILE);
  const valid = parseRecord(record, path);
  const existing = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (existing !== null) {
    const owner = ownerOf(existing);
    if (owner !== valid.runId) {
      throw new RunstackError(
        "RECORD_EXISTS",
        `${path} belongs to ${owner === null ? "an unidentifiable record" : `run ${owner}`}, not to run ${valid.runId}; refusing to overwrite it`,
        { hint: "write each run into its own directory (createRunDir)" },
      );
    }
  }
  await writeFileAtomic(path, serializeRecord(valid));
  return path;
}

/** Stable text of a record: key order from the schema, 2-space indent, trailing newline. */
export function serializeRecord(record: RunRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

function ownerOf(text: string): string | null {
  try {
    const runId = (JSON.parse(text) as { runId?: unknown }).runId;
    return typeof runId === "string" ? runId : null;
  } catch {
    return null;
  }
}

/** Read and validate a run record (e.g. to mark it `preempted`, or for `status`). */
export async function readRecord(path: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new RunstackError("RECORD_NOT_FOUND", `cannot read run record ${path}: ${(e as Error).message}`, {
      hint: "a run writes results/<run-id>/run.json when it starts; check the run id and the results folder",
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RunstackError("RECORD_INVALID", `${path}: not valid JSON: ${(e as Error).message}`, {
      hint: "run records are written atomically; a broken one was edited by hand or truncated in transit",
    });
  }
  return parseRecord(raw, path);
}
