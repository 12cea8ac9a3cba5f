import { isRunstackError } from "../../configs/errors.js";
import type { PhaseReporter } from "./phase.js";

/**
 * Results must end up pushed or parked before the VM may go. Pushing is retried in rounds (each
 * round is publishResults' own bounded backoff) while the VM waits in phase push-failed, until the
 * park time (a margin before the hard deadline, when GCE deletes VM and boot disk together); then
 * the boot disk's auto-delete is turned off so the results outlive the VM.
 */
export type Safekept =
  | { kind: "pushed"; commit: string; attempts: number }
  | { kind: "parked"; reason: string };

export interface SafekeepOptions {
  publish: () => Promise<{ commit: string; attempts: number }>;
  /** Turns off the boot disk's auto-delete; throws when it could not. */
  park: () => Promise<void>;
  reporter: PhaseReporter;
  /** Epoch ms after which no new round starts. */
  parkAt: number;
  retryIntervalMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
  /** True once the VM is shutting down: no more rounds, park now. */
  shuttingDown?: () => boolean;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 300);

export async function publishOrPark(o: SafekeepOptions): Promise<Safekept> {
  let last = "";
  for (let round = 1; ; round++) {
    try {
      return { kind: "pushed", ...(await o.publish()) };
    } catch (e) {
      // Refused = pushing can never work (e.g. key material under results/): keep it for a human.
      if (isRunstackError(e) && e.code === "PUBLISH_REFUSED") {
        await o.park();
        return { kind: "parked", reason: `publish refused: ${firstLine(e)}` };
      }
      // Anything else (PUSH_FAILED, or an unexpected error) is treated as retryable: losing
      // results to a bug in the publish path would be worse than a few more tries.
      last = `round ${round}: ${firstLine(e)}`;
      o.log(`safekeeping: push ${last}`);
    }
    if (o.now() + o.retryIntervalMs >= o.parkAt || o.shuttingDown?.()) break;
    await o.reporter.phase(
      "push-failed",
      `push failed (${last}); retrying every ${Math.round(o.retryIntervalMs / 1000)} s until ${new Date(o.parkAt).toISOString()}, then parking the boot disk`,
    );
    await o.sleep(o.retryIntervalMs);
  }
  await o.park();
  return { kind: "parked", reason: `push failed until the park time (${last})` };
}
