import { describe, expect, it } from "vitest";
import { isRunstackError, type RunstackError } from "../configs/errors.js";
import { type ConfigSource, checkDeployKeyText, parseStackConfig } from "./stack-config-parse.js";
import {
  asPulumiConfig,
  fakeDeployKey,
  REFERENCE_INPUT,
  REFERENCE_STACK,
  referenceConfig,
} from "./testing/fixtures.js";

function source(config: Record<string, string>): ConfigSource {
  return { get: (key) => config[`runstack:${key}`], keys: () => Object.keys(config) };
}
const parse = (config: Record<string, string>) =>
  parseStackConfig({ source: source(config), stack: REFERENCE_STACK });

function failure(fn: () => unknown): RunstackError {
  try {
    fn();
  } catch (e) {
    if (isRunstackError(e)) return e;
    throw e;
  }
  throw new Error("expected a RunstackError, nothing was thrown");
}

describe("parseStackConfig", () => {
  it("refuses a deadline under GCE's 30 s minimum, naming runstack:maxRunHours", () => {
    const e = failure(() => parse(asPulumiConfig({ ...REFERENCE_INPUT, maxRunHours: 0.005 })));
    expect(e.code).toBe("PULUMI_CONFIG");
    expect(e.message).toContain("runstack:maxRunHours");
    expect(e.message).toContain("at least 30 seconds");
  });

  it("reads the text Pulumi passes (numbers, booleans, JSON lists) into the validated config", () => {
    const config = parse({
      ...asPulumiConfig(REFERENCE_INPUT),
      "runstack:gpuCount": "1",
      "runstack:gpuType": "nvidia-tesla-t4",
      "runstack:spot": "true",
      "runstack:maxRunHours": "0.5",
      "runstack:experimentArgs": '["--fraction","0.1"]',
      "gcp:project": "other-namespaces-are-ignored",
    });
    expect(config).toEqual(
      referenceConfig({
        gpuCount: 1,
        gpuType: "nvidia-tesla-t4",
        spot: true,
        maxRunHours: 0.5,
        experimentArgs: ["--fraction", "0.1"],
      }),
    );
  });

  it("reads Pulumi.yaml's unset markers for optional keys as unset", () => {
    const config = parse({
      ...asPulumiConfig(REFERENCE_INPUT),
      "runstack:gpuType": "",
      "runstack:dataDiskGb": "0",
    });
    expect(config.gpuType).toBeUndefined();
    expect(config.dataDiskGb).toBeUndefined();
  });

  it("names the key, what was expected, what was found and the command that fixes it", () => {
    const e = failure(() => parse({ ...asPulumiConfig(REFERENCE_INPUT), "runstack:gpuCount": "two" }));
    expect(e.code).toBe("PULUMI_CONFIG");
    expect(e.message).toContain('runstack:gpuCount: expected an integer (found: "two")');
    expect(e.hint).toContain(`pulumi config set runstack:gpuCount <value> -s ${REFERENCE_STACK}`);
  });

  it("reports every problem at once: missing, malformed and schema-invalid keys", () => {
    const { commit: _c, ...withoutCommit } = REFERENCE_INPUT;
    const e = failure(() =>
      parse({ ...asPulumiConfig(withoutCommit), "runstack:spot": "yes", "runstack:zone": "moon-base" }),
    );
    expect(e.message).toContain("runstack:commit: required (not set)");
    expect(e.message).toContain('runstack:spot: expected true or false (found: "yes")');
    expect(e.message).toMatch(/runstack:zone: expected a GCE zone.* \(found: "moon-base"\)/);
    for (const key of ["commit", "spot", "zone"]) expect(e.hint).toContain(`runstack:${key} <value>`);
  });

  it("rejects unknown runstack keys and suggests the closest known one", () => {
    const e = failure(() =>
      parse({ ...asPulumiConfig(REFERENCE_INPUT), "runstack:machinetype": "e2-small" }),
    );
    expect(e.message).toContain(
      "runstack:machinetype: not a runstack key (did you mean runstack:machineType?)",
    );
    expect(e.hint).toContain(`pulumi config rm runstack:machinetype -s ${REFERENCE_STACK}`);
  });

  it("applies the cross-key rule: a GPU count needs a GPU type", () => {
    const e = failure(() => parse({ ...asPulumiConfig(REFERENCE_INPUT), "runstack:gpuCount": "2" }));
    expect(e.message).toContain("runstack:gpuCount: set gpuType and gpuCount together");
  });
});

describe("checkDeployKeyText", () => {
  it("accepts a private key's content", () => {
    expect(() => checkDeployKeyText(fakeDeployKey(), REFERENCE_STACK)).not.toThrow();
  });

  it("a missing key names the `pulumi config set --secret` fix", () => {
    const e = failure(() => checkDeployKeyText(undefined, REFERENCE_STACK));
    expect(e.message).toContain("runstack:deployKey is not set");
    expect(e.hint).toContain(
      `pulumi config set --secret runstack:deployKey -s ${REFERENCE_STACK} < deploy-key-file`,
    );
  });

  it("a path instead of the key's content is refused without echoing the value", () => {
    const value = "/home/ada/.ssh/runstack_deploy";
    const e = failure(() => checkDeployKeyText(value, REFERENCE_STACK));
    expect(e.message).toContain("is not a private key");
    expect(`${e.message}\n${e.hint}`).not.toContain(value);
  });
});
