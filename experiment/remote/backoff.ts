import { RunstackError } from "../../configs/errors.js";

/**
 * Bounded exponential backoff with full jitter (delay_i uniform in [0, min(maxMs, baseMs * 2^i))).
 * Full jitter rather than "exponential + a little noise": when 16 runs finish together and all get
 * rejected by the same push, spreading them over the whole window is what lets them stop colliding.
 */
export interface BackoffOptions {
  /** Total tries including the first one (>= 1): there are attempts - 1 delays. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  rand: () => number;
}

export type RetryLimits = Pick<BackoffOptions, "attempts" | "baseMs" | "maxMs">;

function checkLimits({ attempts, baseMs, maxMs }: RetryLimits): void {
  const bad = (what: string) =>
    new RunstackError("CONFIG_INVALID", `retry options: ${what}`, {
      hint: "use attempts >= 1 (integer) and 0 <= baseMs <= maxMs, all finite",
    });
  if (!Number.isInteger(attempts) || attempts < 1)
    throw bad(`attempts must be an integer >= 1, got ${attempts}`);
  if (!Number.isFinite(baseMs) || baseMs < 0) throw bad(`baseMs must be finite and >= 0, got ${baseMs}`);
  if (!Number.isFinite(maxMs) || maxMs < baseMs)
    throw bad(`maxMs must be finite and >= baseMs, got ${maxMs}`);
}

/** The delay before retry i+1 (i from 0): pure, so the schedule itself is testable. */
export function backoffDelays(opts: BackoffOptions): number[] {
  checkLimits(opts);
  const delays: number[] = [];
  for (let i = 0; i < opts.attempts - 1; i++) {
    // Cap before multiplying out to avoid Infinity for large i.
    const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(i, 52));
    const r = opts.rand();
    const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
    delays.push(Math.floor(unit * ceiling));
  }
  return delays;
}

export interface RetryOptions extends RetryLimits {
  rand?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Errors for which trying again cannot help (bad key, conflict) are thrown at once. Default: all retryable. */
  isRetryable?: (err: unknown) => boolean;
  /** Called before each sleep: the attempt that just failed (1-based), its error and the delay. */
  onRetry?: (info: { attempt: number; error: unknown; delayMs: number }) => void;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs fn until it resolves or the attempts are used up; then rethrows the last error unchanged
 * (callers know how many attempts they saw through fn's argument).
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const delays = backoffDelays({ ...opts, rand: opts.rand ?? Math.random });
  const sleep = opts.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const delayMs = delays[attempt - 1];
      if (delayMs === undefined || (opts.isRetryable && !opts.isRetryable(error))) throw error;
      opts.onRetry?.({ attempt, error, delayMs });
      await sleep(delayMs);
    }
  }
}
