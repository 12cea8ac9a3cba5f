import { RunstackError } from "../../configs/errors.js";
import { RUN_ID_RE } from "../../configs/stack.js";

/**
 * Run ids: `<name>-<yyyymmdd>-<hhmm>-<4 random>` in UTC. The id is also the stack suffix
 * (run-<id>) and the prefix of every GCE resource name, so it must match RUN_ID_RE (<= 40 chars).
 */

const SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** "-yyyymmdd-hhmm-xxxx" */
const STAMP_LENGTH = 19;
/** The longest name part that still fits RUN_ID_RE's 40 characters. */
export const MAX_RUN_NAME = 40 - STAMP_LENGTH;
const NAME_RE = /^[a-z][a-z0-9-]*$/;

export interface RunIdInputs {
  /** The experiment config's name (or --name). Truncated to MAX_RUN_NAME. */
  name: string;
  now: Date;
  /** 4 chars of [a-z0-9]: the collision guard between launches in the same minute. */
  suffix: string;
}

export function makeRunId({ name, now, suffix }: RunIdInputs): string {
  if (!NAME_RE.test(name)) {
    throw new RunstackError("USAGE", `run name "${name}" is not usable in a run id`, {
      hint: "use lowercase letters, digits and '-', starting with a letter (--name or the config's name)",
    });
  }
  if (!/^[a-z0-9]{4}$/.test(suffix)) {
    throw new RunstackError("USAGE", `run id suffix "${suffix}" must be 4 chars of [a-z0-9]`);
  }
  const part = name.slice(0, MAX_RUN_NAME).replace(/-+$/, "");
  const id = `${part}-${utcStamp(now)}-${suffix}`;
  if (!RUN_ID_RE.test(id)) {
    // Only reachable if RUN_ID_RE changes; fail loudly rather than write an unusable stack.
    throw new RunstackError("USAGE", `computed run id "${id}" does not match ${RUN_ID_RE}`);
  }
  return id;
}

/** yyyymmdd-hhmm in UTC, so ids sort by launch time whatever the launcher's time zone. */
export function utcStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

/** When the id says the run was launched (UTC minute), or undefined for ids not made here. */
export function launchTimeOf(runId: string): Date | undefined {
  const m = /-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})-[a-z0-9]{4}$/.exec(runId);
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Turns any source of uniform [0,1) numbers into the 4-char suffix. */
export function randomSuffix(random: () => number): string {
  let s = "";
  const n = SUFFIX_ALPHABET.length;
  for (let i = 0; i < 4; i++) s += SUFFIX_ALPHABET.charAt(Math.min(n - 1, Math.floor(random() * n)));
  return s;
}

export function stackNameOf(runId: string): string {
  return `run-${runId}`;
}

export function stackFileNameOf(runId: string): string {
  return `Pulumi.${stackNameOf(runId)}.yaml`;
}
