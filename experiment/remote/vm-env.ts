import { z } from "zod";
import { RunstackError } from "../../configs/errors.js";
import { VM_DEFAULTS, VM_ENV } from "../../configs/vm.js";

/**
 * What the startup script hands to vm-run through the environment (never argv), plus timing
 * knobs. Defaults are the real VM's; the harness shortens the timings.
 */
export const VM_RUN_ENV = {
  ...VM_ENV,
  stateDir: "RUNSTACK_STATE_DIR",
  repoDir: "RUNSTACK_REPO_DIR",
  keyFile: "RUNSTACK_KEY_FILE",
  knownHostsFile: "RUNSTACK_KNOWN_HOSTS_FILE",
  serialDevice: "RUNSTACK_SERIAL_DEVICE",
  /** Park results this many seconds before the deadline (GCE deletes VM + boot disk at it). */
  parkMarginSec: "RUNSTACK_PARK_MARGIN_SECONDS",
  /** Pause between publish rounds while in phase push-failed. */
  pushRetryIntervalSec: "RUNSTACK_PUSH_RETRY_INTERVAL_SECONDS",
  /** JSON {attempts, baseMs, maxMs}: backoff within one publish round. */
  pushRetry: "RUNSTACK_PUSH_RETRY",
  /** After SIGTERM, the experiment gets this long to write its record before SIGKILL. */
  stopGraceSec: "RUNSTACK_STOP_GRACE_SECONDS",
} as const;

const secs = z.coerce.number().min(0);
const RetryLimits = z.strictObject({
  attempts: z.int().min(1),
  baseMs: z.number().min(0),
  maxMs: z.number().min(0),
});

export const VmEnv = z.strictObject({
  metadataUrl: z.string().url().default(VM_DEFAULTS.metadataUrl),
  computeUrl: z.string().url().default(VM_DEFAULTS.computeUrl),
  secretsUrl: z.string().url().default(VM_DEFAULTS.secretsUrl),
  workDir: z.string().default(VM_DEFAULTS.workDir),
  dataMount: z.string().default(VM_DEFAULTS.dataMount),
  stateDir: z.string().min(1),
  repoDir: z.string().min(1),
  keyFile: z.string().min(1),
  knownHostsFile: z.string().min(1),
  serialDevice: z.string().optional(),
  parkMarginSec: secs.default(600),
  pushRetryIntervalSec: secs.default(120),
  pushRetry: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "not JSON" });
        return z.NEVER;
      }
    })
    .pipe(RetryLimits)
    .optional(),
  stopGraceSec: secs.default(20),
});
export type VmEnv = z.infer<typeof VmEnv>;

export function readVmEnv(env: Record<string, string | undefined>): VmEnv {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(VM_RUN_ENV)) {
    const v = env[name];
    if (v !== undefined && v !== "") raw[key] = v;
  }
  const r = VmEnv.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const key = String(i.path[0] ?? "");
      const name = VM_RUN_ENV[key as keyof typeof VM_RUN_ENV] ?? key;
      return `${name}: ${i.message} (found: ${JSON.stringify(raw[key] ?? null)})`;
    });
    throw new RunstackError("USAGE", `vm-run environment is incomplete or invalid\n${lines.join("\n")}`, {
      hint: "vm-run is started by the startup script (infra/startup-script.ts), which sets these variables",
    });
  }
  return r.data;
}
