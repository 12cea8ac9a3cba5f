import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isRunstackError } from "../../configs/errors.js";
import { REFERENCE_INPUT, referenceConfig } from "../testing/fixtures.js";
import { readStackFile } from "./stack-file.js";

const dir = mkdtempSync(join(tmpdir(), "runstack-stackfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stack file the way launch writes it and Pulumi extends it (salt, encrypted key, other namespaces). */
function stackFile(name: string, extra: string): string {
  const lines = Object.entries(REFERENCE_INPUT).map(([k, v]) => `  runstack:${k}: ${JSON.stringify(v)}`);
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      "encryptionsalt: v1:c2FsdA==:v1:aXY=:Y3Q=",
      "config:",
      ...lines,
      "  runstack:deployKey:",
      "    secure: v1:AAAAAAAA",
      "  gcp:project: example-lab-ml",
      extra,
    ].join("\n"),
  );
  return path;
}

describe("readStackFile", () => {
  it("reads typed YAML values into the validated config and the stack name from the file name", () => {
    const path = stackFile(
      "Pulumi.run-a.yaml",
      [
        "  runstack:spot: true",
        "  runstack:maxRunHours: 0.5",
        "  runstack:experimentArgs: [--fraction, '0.1']",
      ].join("\n"),
    );
    expect(readStackFile(path)).toEqual({
      stack: "run-a",
      config: referenceConfig({ spot: true, maxRunHours: 0.5, experimentArgs: ["--fraction", "0.1"] }),
    });
  });

  it("an invalid value is reported with the file, the key and what was found", () => {
    const path = stackFile("Pulumi.run-b.yaml", "  runstack:gpuCount: lots");
    try {
      readStackFile(path);
      expect.unreachable("accepted gpuCount: lots");
    } catch (e) {
      expect(isRunstackError(e) && e.code).toBe("PULUMI_CONFIG");
      expect((e as Error).message).toContain(path);
      expect((e as Error).message).toContain('runstack:gpuCount: expected an integer (found: "lots")');
    }
  });

  it("refuses a file that is not named like a stack file", () => {
    const path = stackFile("run-c.yaml", "");
    expect(() => readStackFile(path)).toThrow(
      /not a stack file \(expected a name like Pulumi\.run-<id>\.yaml\)/,
    );
  });
});
