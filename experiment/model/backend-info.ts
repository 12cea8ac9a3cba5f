import { z } from "zod";
import { BACKENDS } from "../../configs/experiment.js";

/**
 * What the run record says about the backend that actually ran. Kept free of tfjs imports so the
 * record layer can validate it without loading TensorFlow.js.
 */
export const BACKEND_NAMES = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;

export const BackendInfo = z.strictObject({
  name: z.enum(BACKEND_NAMES),
  requested: z.enum(BACKENDS),
  /** Why this one, including why better ones were skipped under `auto`. */
  reason: z.string(),
  tfjsVersion: z.string(),
  simd: z.boolean().optional(),
  threads: z.int().positive().optional(),
});
export type BackendInfo = z.infer<typeof BackendInfo>;
