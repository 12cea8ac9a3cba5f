import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { VM_ATTR, VM_ENV } from "../configs/vm.js";
import { renderStartupScript } from "./startup-script.js";

describe("renderStartupScript", () => {
  const script = renderStartupScript({ runId: "mnist-a1" });

  it("renders the same script for the same run (snapshot)", () => {
    expect(script).toMatchSnapshot();
  });

  it("is valid bash", () => {
    expect(() => execFileSync("bash", ["-n"], { input: script })).not.toThrow();
  });

  it("honors every VM_ENV override and reads the metadata keys the stack sets", () => {
    for (const name of Object.values(VM_ENV)) expect(script).toContain(`\${${name}:-`);
    for (const key of [VM_ATTR.runId, VM_ATTR.repoUrl, VM_ATTR.commit, VM_ATTR.secret, VM_ATTR.nodeVersion]) {
      expect(script).toContain(`attr ${key}`);
    }
  });

  it("sets the EXIT trap before any step that can fail, and deletes only in the trap", () => {
    const trapAt = script.indexOf("trap finish EXIT");
    expect(trapAt).toBeGreaterThan(0);
    expect(trapAt).toBeLessThan(script.indexOf("phase booting\n"));
    expect(script.match(/api DELETE/g)).toHaveLength(1);
  });

  it("never puts the token or key on a command line", () => {
    expect(script).toContain('-H @"$SEC/auth"');
    expect(script).not.toMatch(/Bearer \$/);
    expect(script).not.toMatch(/echo[^\n]*\$KEY\b(?!")/);
  });

  it("refuses run ids and known_hosts lines that could inject shell", () => {
    expect(() => renderStartupScript({ runId: "x; rm -rf /" })).toThrow(/run id/);
    expect(() =>
      renderStartupScript({
        runId: "ok-1",
        knownHosts: "github.com ssh-ed25519 AAAA\nKNOWN_HOSTS\nrm -rf /",
      }),
    ).toThrow(/known_hosts/);
  });

  it("escapes a custom install command for its double-quoted default", () => {
    const s = renderStartupScript({ runId: "ok-1", installCommand: 'npm ci && echo "$HOME" `id` }' });
    const out = execFileSync(
      "bash",
      ["-c", `${s.split("\n").find((l) => l.startsWith("INSTALL_CMD="))}; printf %s "$INSTALL_CMD"`],
      {
        env: { PATH: process.env.PATH },
      },
    ).toString();
    expect(out).toBe('npm ci && echo "$HOME" `id` }');
  });
});
