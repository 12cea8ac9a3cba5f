import { RunstackError } from "../../configs/errors.js";

/**
 * The Compute Engine calls the VM makes about itself, with its own service account (never a user's
 * credentials). Deleting the VM lives in the startup script's trap, because it must happen even
 * when Node never starts; what Node needs is flipping the boot disk's auto-delete to park results.
 */
export interface ComputeClientOptions {
  /** e.g. https://compute.googleapis.com/compute/v1 (VM_DEFAULTS.computeUrl). */
  baseUrl: string;
  token: () => Promise<string>;
  fetch?: typeof fetch;
  /** Pause when an operation cannot be waited on (default 5000 ms). */
  settleMs?: number;
}

export interface InstanceRef {
  project: string;
  zone: string;
  instance: string;
}

export interface ComputeClient {
  /** Sets a disk's auto-delete flag and waits (best effort) until the operation is DONE. */
  setDiskAutoDelete(ref: InstanceRef & { deviceName: string; autoDelete: boolean }): Promise<void>;
}

interface Operation {
  name?: string;
  status?: string;
  error?: { errors?: { message?: string }[] };
}

export function createComputeClient(opts: ComputeClientOptions): ComputeClient {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.baseUrl.replace(/\/+$/, "");

  async function call(method: string, path: string): Promise<Operation> {
    const res = await doFetch(`${base}/${path}`, {
      method,
      headers: { Authorization: `Bearer ${await opts.token()}` },
    });
    if (!res.ok) {
      throw new RunstackError("METADATA", `compute ${method} ${path.split("?")[0]}: HTTP ${res.status}`, {
        hint: "the run's service account needs compute.instances.setDiskAutoDelete on this instance",
      });
    }
    return (await res.json()) as Operation;
  }

  return {
    async setDiskAutoDelete(ref) {
      const zonal = `projects/${ref.project}/zones/${ref.zone}`;
      const q = `autoDelete=${ref.autoDelete}&deviceName=${encodeURIComponent(ref.deviceName)}`;
      let op = await call("POST", `${zonal}/instances/${ref.instance}/setDiskAutoDelete?${q}`);
      // operations/<op>/wait needs compute.zoneOperations.get, a project-level permission the run's
      // per-instance role may lack: waiting is best effort (GCE queues operations on one instance,
      // so a delete issued next still applies after this one).
      for (let i = 0; op.status !== "DONE" && op.name && i < 5; i++) {
        const next = await call("POST", `${zonal}/operations/${op.name}/wait`).catch(() => null);
        if (next === null) {
          await new Promise((r) => setTimeout(r, opts.settleMs ?? 5000));
          return;
        }
        op = next;
      }
      const err = op.error?.errors?.[0]?.message;
      if (err) throw new RunstackError("METADATA", `setDiskAutoDelete failed: ${err}`);
    },
  };
}
