import { z } from "zod";

/**
 * Cloud context of a run on a GCE VM: produced by experiment/remote (from the metadata server),
 * embedded in the run record by experiment/record. Absent for local runs, never faked.
 */
export const CloudContext = z.strictObject({
  provider: z.literal("gce"),
  project: z.string(),
  zone: z.string(),
  instanceName: z.string(),
  instanceId: z.string(),
  machineType: z.string(),
  gpu: z.strictObject({ type: z.string(), count: z.int().positive() }).nullable(),
  bootImage: z.string(),
  dataImage: z.string(),
  spot: z.boolean(),
  /** RFC 3339: when GCE deletes the VM regardless (scheduling.maxRunDuration). */
  deadline: z.string(),
  preempted: z.boolean(),
  stack: z.string(),
});
export type CloudContext = z.infer<typeof CloudContext>;
