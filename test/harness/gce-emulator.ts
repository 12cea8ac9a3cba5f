import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A GCE stand-in on 127.0.0.1 for exactly the endpoints a runstack VM uses: the metadata server
 * (attributes, identity, token, guest attributes, instance/preempted with wait_for_change, boot
 * disk device name), Secret Manager `versions/latest:access`, and Compute instances.delete /
 * setDiskAutoDelete / operations.wait. Like the real ones, metadata needs `Metadata-Flavor: Google`
 * and the APIs need the bearer token the metadata server hands out. Every call is recorded.
 */
export interface GceEmulatorOptions {
  project?: string;
  zone?: string;
  instanceName?: string;
  instanceId?: string;
  machineType?: string;
  /** Instance attributes (instance/attributes/<key>). */
  attributes?: Record<string, string>;
  /** Secret payloads by resource name projects/<p>/secrets/<s>. */
  secrets?: Record<string, string | Buffer>;
  bootDiskDeviceName?: string;
}

export interface EmulatorCall {
  /** Date.now() when the request arrived. */
  t: number;
  method: string;
  /** Path + query, e.g. /computeMetadata/v1/instance/preempted?wait_for_change=true */
  path: string;
  status: number;
  /** Request body for PUT/POST (guest attribute values). */
  body: string;
}

export interface FailRule {
  method?: string;
  /** Matches when the request path (with query) contains this string or matches this RegExp. */
  path: string | RegExp;
  status?: number;
  /** How many matching calls fail (default: every one until removed). */
  times?: number;
}

export interface GceEmulator {
  url: string;
  metadataUrl: string;
  computeUrl: string;
  secretsUrl: string;
  /** The access token the metadata server hands out. */
  token: string;
  calls: EmulatorCall[];
  /** Guest attributes as last written, by "<namespace>/<key>". */
  guestAttributes: Map<string, string>;
  /** Every guest-attribute write in order. */
  guestWrites: { t: number; key: string; value: string }[];
  /** Auto-delete flag per attached disk device name (boot disk starts true). */
  diskAutoDelete: Map<string, boolean>;
  deleted: boolean;
  setAttribute(key: string, value: string): void;
  /** Turn instance/preempted TRUE and wake every waiter. */
  preempt(): void;
  /** Make matching calls fail with `status` (default 503); returns a remover. */
  fail(rule: FailRule): () => void;
  /** Resolves once instances.delete has been called. */
  whenDeleted(): Promise<void>;
  stop(): Promise<void>;
}

const etagOf = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 16);

export async function startGceEmulator(opts: GceEmulatorOptions = {}): Promise<GceEmulator> {
  const project = opts.project ?? "runstack-test";
  const projectNumber = "123456789012";
  const zone = opts.zone ?? "us-central1-a";
  const name = opts.instanceName ?? "run-test-vm";
  const id = opts.instanceId ?? "4567890123456789012";
  const machineType = opts.machineType ?? "n1-standard-8";
  const bootDevice = opts.bootDiskDeviceName ?? "persistent-disk-0";
  const attributes = new Map(Object.entries(opts.attributes ?? {}));
  const secrets = new Map(Object.entries(opts.secrets ?? {}));
  const token = `ya29.emulated-${randomBytes(12).toString("hex")}`;
  let preempted = false;
  let deleted = false;
  let opSeq = 0;
  const preemptWaiters = new Set<() => void>();
  const deleteWaiters: (() => void)[] = [];
  const rules: (FailRule & { left: number })[] = [];

  const emu: Omit<GceEmulator, "url" | "metadataUrl" | "computeUrl" | "secretsUrl" | "stop"> = {
    token,
    calls: [],
    guestAttributes: new Map(),
    guestWrites: [],
    diskAutoDelete: new Map([[bootDevice, true]]),
    get deleted() {
      return deleted;
    },
    setAttribute: (k, v) => void attributes.set(k, v),
    preempt() {
      preempted = true;
      for (const w of preemptWaiters) w();
      preemptWaiters.clear();
    },
    fail(rule) {
      const r = { ...rule, left: rule.times ?? Number.POSITIVE_INFINITY };
      rules.push(r);
      return () => void rules.splice(rules.indexOf(r), 1);
    },
    whenDeleted: () => (deleted ? Promise.resolve() : new Promise((resolve) => deleteWaiters.push(resolve))),
  };

  const failing = (method: string, path: string): number | undefined => {
    for (const r of rules) {
      if (r.left <= 0 || (r.method && r.method !== method)) continue;
      if (typeof r.path === "string" ? path.includes(r.path) : r.path.test(path)) {
        r.left--;
        return r.status ?? 503;
      }
    }
    return undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<number> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://emulator");
    const p = url.pathname;
    const send = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "Content-Type": "application/text", ...headers });
      res.end(text);
      return status;
    };
    const json = (status: number, value: unknown) =>
      // Pretty-printed like Google's REST APIs, so line-oriented parsers in bash are exercised.
      send(status, `${JSON.stringify(value, null, 2)}\n`, { "Content-Type": "application/json" });

    const forced = failing(method, req.url ?? p);
    if (forced !== undefined) return send(forced, "emulated failure\n");

    if (p.startsWith("/computeMetadata/v1/")) {
      if (req.headers["metadata-flavor"] !== "Google")
        return send(403, "Missing Metadata-Flavor:Google header.\n");
      if (req.headers["x-forwarded-for"]) return send(403, "X-Forwarded-For not allowed\n");
      const rest = p.slice("/computeMetadata/v1/".length);
      if (rest.startsWith("instance/attributes/")) {
        const v = attributes.get(decodeURIComponent(rest.slice("instance/attributes/".length)));
        return v === undefined ? send(404, "not found\n") : send(200, v);
      }
      if (rest.startsWith("instance/guest-attributes/")) {
        if (attributes.get("enable-guest-attributes")?.toUpperCase() !== "TRUE")
          return send(403, "disabled\n");
        const key = rest.slice("instance/guest-attributes/".length);
        if (method === "PUT") {
          emu.guestAttributes.set(key, body);
          emu.guestWrites.push({ t: Date.now(), key, value: body });
          return send(200, "");
        }
        const v = emu.guestAttributes.get(key);
        return v === undefined ? send(404, "not found\n") : send(200, v);
      }
      if (rest === "instance/preempted") return await preemptedAnswer(url, res, send);
      const fixed: Record<string, string> = {
        "instance/name": name,
        "instance/id": id,
        "instance/zone": `projects/${projectNumber}/zones/${zone}`,
        "instance/machine-type": `projects/${projectNumber}/machineTypes/${machineType}`,
        "instance/disks/0/device-name": bootDevice,
        "project/project-id": project,
        "project/numeric-project-id": projectNumber,
        "instance/service-accounts/default/token": JSON.stringify({
          access_token: token,
          expires_in: 3599,
          token_type: "Bearer",
        }),
      };
      const v = fixed[rest];
      return v === undefined ? send(404, "not found\n") : send(200, v);
    }

    if (req.headers.authorization !== `Bearer ${token}`) return json(401, { error: { code: 401 } });

    const sm = /^\/secretmanager\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/latest:access$/.exec(p);
    if (sm && method === "GET") {
      const payload = secrets.get(sm[1]!);
      if (payload === undefined)
        return json(404, { error: { code: 404, message: `Secret [${sm[1]}] not found` } });
      return json(200, {
        name: `${sm[1]}/versions/1`,
        payload: { data: Buffer.from(payload).toString("base64"), dataCrc32c: "0" },
      });
    }

    const inst = new RegExp(
      `^/compute/v1/projects/${project}/zones/${zone}/instances/${name}(/setDiskAutoDelete)?$`,
    );
    const ci = inst.exec(p);
    const op = (kind: string) => ({
      kind: "compute#operation",
      name: `operation-${++opSeq}-${kind}`,
      status: "RUNNING",
    });
    if (ci && deleted) return json(404, { error: { code: 404, message: `instance ${name} not found` } });
    if (ci && !ci[1] && method === "DELETE") {
      deleted = true;
      for (const w of deleteWaiters.splice(0)) w();
      return json(200, op("delete"));
    }
    if (ci?.[1] && method === "POST") {
      const device = url.searchParams.get("deviceName") ?? "";
      const flag = url.searchParams.get("autoDelete");
      if (!emu.diskAutoDelete.has(device) || (flag !== "true" && flag !== "false")) {
        return json(400, { error: { code: 400, message: "bad deviceName/autoDelete" } });
      }
      emu.diskAutoDelete.set(device, flag === "true");
      return json(200, op("setDiskAutoDelete"));
    }
    const ow = new RegExp(`^/compute/v1/projects/${project}/zones/${zone}/operations/([^/]+)/wait$`).exec(p);
    if (ow && method === "POST") return json(200, { kind: "compute#operation", name: ow[1], status: "DONE" });
    return json(404, { error: { code: 404, message: `no such endpoint ${method} ${p}` } });
  }

  async function preemptedAnswer(
    url: URL,
    res: ServerResponse,
    send: (s: number, t: string, h?: Record<string, string>) => number,
  ): Promise<number> {
    const value = () => (preempted ? "TRUE" : "FALSE");
    const answer = () => send(200, value(), { ETag: etagOf(value()) });
    if (url.searchParams.get("wait_for_change") !== "true") return answer();
    const last = url.searchParams.get("last_etag");
    if (last !== null && last !== etagOf(value())) return answer();
    if (preempted && last === null) return answer();
    const timeoutSec = Number(url.searchParams.get("timeout_sec") ?? "300");
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, timeoutSec * 1000);
      function done() {
        clearTimeout(t);
        preemptWaiters.delete(done);
        resolve();
      }
      preemptWaiters.add(done);
      res.on("close", done);
    });
    return res.writableEnded || res.destroyed ? 499 : answer();
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const t = Date.now();
      const body = Buffer.concat(chunks).toString("utf8");
      handle(req, res, body).then(
        (status) => emu.calls.push({ t, method: req.method ?? "GET", path: req.url ?? "", status, body }),
        (e) => {
          res.writeHead(500).end(String(e));
          emu.calls.push({ t, method: req.method ?? "GET", path: req.url ?? "", status: 500, body });
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return Object.assign(emu, {
    url,
    metadataUrl: `${url}/computeMetadata/v1`,
    computeUrl: `${url}/compute/v1`,
    secretsUrl: `${url}/secretmanager/v1`,
    stop: async () => {
      for (const w of preemptWaiters) w();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  }) as GceEmulator;
}
