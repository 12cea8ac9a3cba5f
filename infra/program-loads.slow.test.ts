import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { KEY_MARKER, REFERENCE_INPUT, REFERENCE_STACK } from "./testing/fixtures.js";

/**
 * `pulumi up` does not load the program through Vite: it compiles and type-checks it with ts-node's
 * ESM loader from the project root. These tests do the same (the closest thing to `pulumi preview`
 * this machine allows): a program that only ever ran under vitest may still fail for every user.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL("../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "runstack-infra-tsc-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the Pulumi program as `pulumi up` loads it", () => {
  it("loads under `node --loader ts-node/esm` from the project root and exports the run's outputs", async () => {
    const { stdout } = await run(
      process.execPath,
      ["--loader", "ts-node/esm", "infra/testing/load-program.ts"],
      {
        cwd: root,
        env: { ...process.env, NODE_NO_WARNINGS: "1" },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const line = stdout.trim().split("\n").at(-1) ?? "";
    const { outputs, types } = JSON.parse(line) as { outputs: Record<string, unknown>; types: string[] };
    expect(outputs).toMatchObject({
      instanceName: `runstack-${REFERENCE_INPUT.runId}`,
      zone: REFERENCE_INPUT.zone,
      // gcp-mocks' creationTimestamp (02:20 -08:00) + the default 6 h.
      deadline: "2026-12-03T16:20:00.000Z",
      teardownCommand: `pulumi destroy --refresh --remove -s ${REFERENCE_STACK}`,
      results: { path: `results/${REFERENCE_INPUT.runId}/` },
    });
    expect(Object.keys(outputs).sort()).toEqual(
      [
        "dataDiskNote",
        "deadline",
        "instanceName",
        "results",
        "serialLogCommand",
        "teardownCommand",
        "zone",
      ].sort(),
    );
    expect(line).not.toContain(KEY_MARKER);
    expect(types).toContain("gcp:compute/instance:Instance");
    expect(types).toContain("gcp:compute/instanceIAMMember:InstanceIAMMember");
  }, 300_000);

  it("type-checks: `tsc --noEmit` on infra/ passes", async () => {
    // infra/ only (+ what it imports): other folders may be mid-edit by others.
    const config = join(tmp, "tsconfig.infra.json");
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(root, "tsconfig.json"),
        // Type roots resolve from the config's own folder by default: point them back at the project.
        compilerOptions: { typeRoots: [join(root, "node_modules", "@types")] },
        include: ["*.ts", "testing/**/*.ts", "terraform/**/*.ts"].map((p) => join(root, "infra", p)),
      }),
    );
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [tsc, "--noEmit", "-p", config], { cwd: root }).then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code,
        output: `${e.stdout}${e.stderr}`,
      }),
    );
    expect(result).toEqual({ code: 0, output: "" });
  }, 300_000);
});
