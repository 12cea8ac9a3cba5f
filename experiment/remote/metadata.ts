import { RunstackError } from "../../configs/errors.js";
import { GUEST_NAMESPACE } from "../../configs/vm.js";

/**
 * Client for the GCE metadata server (the VM's only source of its own identity and settings).
 * Every request carries `Metadata-Flavor: Google`: the real server refuses requests without it,
 * which is what keeps a proxied/SSRF'd request from reading the token.
 */
export interface MetadataClientOptions {
  /** e.g. http://metadata.google.internal/computeMetadata/v1 (VM_DEFAULTS.metadataUrl). */
  baseUrl: string;
  fetch?: typeof fetch;
}

export interface InstanceIdentity {
  name: string;
  id: string;
  /** Short zone name (the server answers projects/<number>/zones/<zone>). */
  zone: string;
  /** Short machine type (the server answers projects/<number>/machineTypes/<type>). */
  machineType: string;
  project: string;
}

export interface MetadataClient {
  /** An instance attribute, or undefined when it is not set (404). */
  attribute(key: string): Promise<string | undefined>;
  /** An instance attribute that must be set. */
  requireAttribute(key: string): Promise<string>;
  identity(): Promise<InstanceIdentity>;
  /** OAuth access token of the VM's service account. */
  token(): Promise<string>;
  putGuestAttribute(key: string, value: string): Promise<void>;
  preempted(): Promise<boolean>;
  /** Resolves when `instance/preempted` turns TRUE; never rejects (a broken watch must not end the run). */
  watchPreemption(signal: AbortSignal): Promise<boolean>;
  /** deviceName of the boot disk (disks/0), needed to flip its auto-delete. */
  bootDiskDeviceName(): Promise<string>;
}

const lastSegment = (s: string): string => s.slice(s.lastIndexOf("/") + 1);

export function createMetadataClient(opts: MetadataClientOptions): MetadataClient {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.baseUrl.replace(/\/+$/, "");

  async function get(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await doFetch(`${base}/${path}`, {
        ...init,
        headers: { "Metadata-Flavor": "Google", ...(init.headers ?? {}) },
      });
    } catch (e) {
      throw new RunstackError("METADATA", `metadata server ${base} unreachable for ${path}: ${String(e)}`, {
        hint: "on a VM the server is always there; off a VM set RUNSTACK_METADATA_URL to an emulator",
        cause: e,
      });
    }
  }

  async function text(path: string): Promise<string> {
    const res = await get(path);
    if (!res.ok) {
      throw new RunstackError("METADATA", `metadata ${path}: HTTP ${res.status} from ${base}`, {
        hint: "check that the instance has this metadata and that the request came from the VM itself",
      });
    }
    return (await res.text()).trim();
  }

  async function attribute(key: string): Promise<string | undefined> {
    const res = await get(`instance/attributes/${encodeURIComponent(key)}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new RunstackError("METADATA", `metadata attribute ${key}: HTTP ${res.status}`);
    return await res.text();
  }

  return {
    attribute,
    async requireAttribute(key) {
      const v = await attribute(key);
      if (v === undefined || v === "") {
        throw new RunstackError("METADATA", `instance metadata attribute '${key}' is missing or empty`, {
          hint: "the stack (infra/run.ts) must set every key of VM_ATTR in configs/vm.ts",
        });
      }
      return v;
    },
    async identity() {
      const [name, id, zone, machineType, project] = await Promise.all([
        text("instance/name"),
        text("instance/id"),
        text("instance/zone"),
        text("instance/machine-type"),
        text("project/project-id"),
      ]);
      return { name, id, zone: lastSegment(zone), machineType: lastSegment(machineType), project };
    },
    async token() {
      const raw = await text("instance/service-accounts/default/token");
      const tok = (JSON.parse(raw) as { access_token?: unknown }).access_token;
      if (typeof tok !== "string" || tok === "") {
        throw new RunstackError("METADATA", "metadata token response has no access_token", {
          hint: "the VM needs a service account with the cloud-platform scope",
        });
      }
      return tok;
    },
    async putGuestAttribute(key, value) {
      const path = `instance/guest-attributes/${GUEST_NAMESPACE}/${key}`;
      const res = await get(path, { method: "PUT", body: value });
      if (!res.ok) {
        throw new RunstackError("METADATA", `guest attribute ${path}: HTTP ${res.status}`, {
          hint: "the instance needs metadata enable-guest-attributes=TRUE",
        });
      }
    },
    async preempted() {
      return (await text("instance/preempted")) === "TRUE";
    },
    async watchPreemption(signal) {
      let etag = "";
      while (!signal.aborted) {
        try {
          const q = `instance/preempted?wait_for_change=true${etag ? `&last_etag=${etag}` : ""}`;
          const res = await get(q, { signal });
          const value = (await res.text()).trim();
          if (res.ok && value === "TRUE") return true;
          etag = res.headers.get("etag") ?? "";
          // A non-OK answer or no etag would spin: pause so a broken server is not hammered.
          if (!res.ok || etag === "") await pause(1000, signal);
        } catch {
          if (signal.aborted) break;
          await pause(1000, signal);
        }
      }
      return false;
    },
    async bootDiskDeviceName() {
      return await text("instance/disks/0/device-name");
    },
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
