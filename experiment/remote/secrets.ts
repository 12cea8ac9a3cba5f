import { chmodSync, writeFileSync } from "node:fs";
import { RunstackError } from "../../configs/errors.js";

/**
 * Secret Manager access over REST with the VM's own token. The payload is returned as bytes and
 * only ever written to a 0600 file: never logged, never passed on a command line.
 */
export interface SecretAccessOptions {
  /** e.g. https://secretmanager.googleapis.com/v1 (VM_DEFAULTS.secretsUrl). */
  baseUrl: string;
  /** projects/<p>/secrets/<s> (the value of VM_ATTR.secret). */
  secret: string;
  token: () => Promise<string>;
  fetch?: typeof fetch;
}

const SECRET_NAME_RE = /^projects\/[^/]+\/secrets\/[^/]+$/;

export async function accessSecret(opts: SecretAccessOptions): Promise<Buffer> {
  if (!SECRET_NAME_RE.test(opts.secret)) {
    throw new RunstackError(
      "METADATA",
      `secret name '${opts.secret}' is not projects/<project>/secrets/<name>`,
      {
        hint: "the stack sets runstack-secret to the secret's resource name (without /versions/...)",
      },
    );
  }
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/${opts.secret}/versions/latest:access`;
  const res = await (opts.fetch ?? fetch)(url, {
    headers: { Authorization: `Bearer ${await opts.token()}` },
  });
  if (!res.ok) {
    throw new RunstackError("METADATA", `Secret Manager ${opts.secret}: HTTP ${res.status}`, {
      hint: "the run's service account needs roles/secretmanager.secretAccessor on this secret",
    });
  }
  const body = (await res.json()) as { payload?: { data?: unknown } };
  const data = body.payload?.data;
  if (typeof data !== "string" || data === "") {
    throw new RunstackError("METADATA", `Secret Manager ${opts.secret}: response has no payload.data`);
  }
  return Buffer.from(data, "base64");
}

/**
 * Write secret bytes to a root-only file: created 0600 so there is no window where it is readable.
 * A missing final newline is restored: `pulumi config set --secret < key` strips it, and OpenSSH
 * refuses an ed25519 private key without it.
 */
export function writeSecretFile(path: string, bytes: Buffer): void {
  const text =
    bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? Buffer.concat([bytes, Buffer.from("\n")]) : bytes;
  writeFileSync(path, text, { mode: 0o600, flag: "w" });
  chmodSync(path, 0o600);
}
