import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REFERENCE_INPUT } from "../testing/fixtures.js";
import { stackFileOf } from "./synth.js";

/** The CLI entry as a user runs it: npx tsx infra/terraform/synth.ts <stack file> [--out file]. */

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "runstack-synth-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");

function cli(args: string[]) {
  return run(process.execPath, [tsx, "infra/terraform/synth.ts", ...args], { cwd: root }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

describe("infra/terraform/synth.ts", () => {
  it("writes the run's Terraform JSON to --out", async () => {
    const lines = Object.entries(REFERENCE_INPUT).map(([k, v]) => `  runstack:${k}: ${JSON.stringify(v)}`);
    const stackFile = join(dir, `Pulumi.run-${REFERENCE_INPUT.runId}.yaml`);
    writeFileSync(
      stackFile,
      ["config:", ...lines, "  runstack:deployKey:", "    secure: v1:AAAA"].join("\n"),
    );
    const out = join(dir, "run.tf.json");
    const r = await cli([stackFile, "--out", out]);
    expect(r).toMatchObject({ code: 0, stderr: expect.stringContaining(`wrote ${out}`) });
    const tf = JSON.parse(readFileSync(out, "utf8"));
    expect(tf.resource.google_compute_instance.vm.name).toBe(`runstack-${REFERENCE_INPUT.runId}`);
    expect(tf.variable.deploy_key.sensitive).toBe(true);
  }, 120_000);

  it("exits 2 with the problem and its fix for an invalid stack file, a bad --out or bad usage", async () => {
    const stackFile = join(dir, "Pulumi.run-bad.yaml");
    writeFileSync(stackFile, "config:\n  runstack:runId: Bad_Id\n");
    const bad = await cli([stackFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("error [PULUMI_CONFIG]");
    expect(bad.stderr).toContain("runstack:runId");
    expect(bad.stderr).toContain("pulumi config set runstack:runId <value> -s run-bad");
    expect((await cli([])).code).toBe(2);
    const good = join(dir, `Pulumi.run-${REFERENCE_INPUT.runId}.yaml`);
    const unwritable = await cli([good, "--out", join(dir, "no-such-dir", "x.tf.json")]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain("cannot write");
    expect(unwritable.stderr).not.toContain("internal error");
  }, 120_000);

  it("accepts a stack name or run id for the stack file in the current directory", () => {
    expect(stackFileOf("run-abc")).toBe("Pulumi.run-abc.yaml");
    expect(stackFileOf("abc")).toBe("Pulumi.run-abc.yaml");
    expect(stackFileOf("dir/Pulumi.run-abc.yaml")).toBe("dir/Pulumi.run-abc.yaml");
  });
});
