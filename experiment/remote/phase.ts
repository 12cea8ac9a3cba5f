import { appendFileSync } from "node:fs";
import { GUEST_KEYS, type Phase, SERIAL_MARKER } from "../../configs/vm.js";
import type { MetadataClient } from "./metadata.js";

/**
 * Makes the VM's progress visible from outside without any extra service: guest attributes
 * (`gcloud compute instances get-guest-attributes`) and one marker line per phase on stdout and
 * the serial device (`gcloud compute instances get-serial-port-output`). Reporting never throws:
 * a broken status channel must not fail a run.
 */
export interface PhaseReporter {
  phase(phase: Phase, detail?: string): Promise<void>;
  /** Updates only the detail (e.g. retry progress) without a new phase. */
  detail(detail: string): Promise<void>;
  resultCommit(commit: string): Promise<void>;
}

export function markerLine(runId: string, phase: Phase, detail?: string): string {
  const oneLine = detail?.replace(/\s+/g, " ").trim();
  return `${SERIAL_MARKER} phase=${phase} run=${runId}${oneLine ? ` detail=${oneLine}` : ""}`;
}

export function createPhaseReporter(o: {
  md: MetadataClient;
  runId: string;
  /** Serial device or file; skipped when absent or not writable. */
  serialDevice?: string;
  log: (line: string) => void;
}): PhaseReporter {
  const put = async (key: string, value: string) => {
    try {
      await o.md.putGuestAttribute(key, value);
    } catch (e) {
      o.log(`status: guest attribute ${key} not written: ${(e as Error).message}`);
    }
  };
  return {
    async phase(phase, detail) {
      const line = markerLine(o.runId, phase, detail);
      o.log(line);
      if (o.serialDevice) {
        try {
          appendFileSync(o.serialDevice, `${line}\n`);
        } catch {
          // No serial device (or not writable): stdout still reaches the serial log via the agent.
        }
      }
      await put(GUEST_KEYS.phase, phase);
      await put(GUEST_KEYS.detail, detail ?? "");
    },
    detail: (detail) => put(GUEST_KEYS.detail, detail),
    resultCommit: (commit) => put(GUEST_KEYS.resultCommit, commit),
  };
}
