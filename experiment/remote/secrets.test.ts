import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeSecretFile } from "./secrets.js";

describe("writeSecretFile", () => {
  it("restores the final newline pulumi strips, so OpenSSH can load an ed25519 key again", () => {
    const dir = mkdtempSync(join(tmpdir(), "runstack-secret-"));
    const original = join(dir, "orig");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", original]);
    const stripped = readFileSync(original).subarray(0, -1); // what `pulumi config set --secret < key` stores
    const path = join(dir, "key");
    writeSecretFile(path, stripped);
    expect(readFileSync(path)).toEqual(readFileSync(original));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(() => execFileSync("ssh-keygen", ["-y", "-f", path], { stdio: "pipe" })).not.toThrow();
  });

  it("leaves a key that already ends in a newline byte for byte", () => {
    const path = join(mkdtempSync(join(tmpdir(), "runstack-secret-")), "key");
    writeSecretFile(path, Buffer.from("a\nb\n"));
    expect(readFileSync(path, "utf8")).toBe("a\nb\n");
  });
});
