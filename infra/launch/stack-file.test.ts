import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RunstackError } from "../../configs/errors.js";
import { STACK_KEYS, StackConfig } from "../../configs/stack.js";
import { parseStackConfig } from "../stack-config-parse.js";
import { launchSteps, showStep } from "./commands.js";
import { LaunchDefaults, ownerFromEmail, parseDefaults, parseGpu, resolveSettings } from "./settings.js";
import { buildStackConfig, parseStackFile, renderStackFile } from "./stack-file.js";

const input = {
  runId: "quick-20261203-1345-ab12",
  experimentConfig: "configs/quick.yaml",
  configSha256: "a".repeat(64),
  commit: "0123456789abcdef0123456789abcdef01234567",
  repoUrl: "git@github.com:acme/exp.git",
  project: "acme-ml-123",
  zone: "us-central1-a",
  dataImage: "projects/acme-ml-123/global/images/runstack-data-v1",
  owner: "ada",
  gpuType: "nvidia-tesla-t4",
  gpuCount: 1,
  experimentArgs: ["--fraction", "0.1"],
};

describe("stack files", () => {
  it("write every value with the YAML type Pulumi.yaml declares for its key (the CLI type-checks them)", () => {
    const declared = (
      parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as {
        config: Record<string, { type: string }>;
      }
    ).config;
    const config = StackConfig.parse({ ...input, maxRunHours: 0.5, spot: true });
    const written = (
      parse(
        renderStackFile({ config, generatedAt: "2026-12-03T00:00:00Z", secretsProvider: "passphrase" }),
      ) as {
        config: Record<string, unknown>;
      }
    ).config;
    const yamlType = (v: unknown) =>
      Array.isArray(v)
        ? "array"
        : Number.isInteger(v)
          ? "integer"
          : typeof v === "number"
            ? "number"
            : typeof v;
    for (const [k, v] of Object.entries(written)) {
      const key = k.replace(/^runstack:/, "");
      expect({ key, type: yamlType(v) }).toEqual({ key, type: declared[key]?.type });
    }
    expect(written["runstack:maxRunHours"]).toBe("0.5");
    expect(
      parseStackFile(renderStackFile({ config, generatedAt: "x", secretsProvider: "passphrase" }), "f")
        .maxRunHours,
    ).toBe(0.5);
  });

  it("render every key in STACK_KEYS order with defaults filled in (snapshot)", () => {
    const config = buildStackConfig(input);
    const text = renderStackFile({
      config,
      generatedAt: "2026-12-03T13:45:00.000Z",
      secretsProvider: "passphrase",
    });
    expect(text).toMatchInlineSnapshot(`
      "# Stack config for run quick-20261203-1345-ab12, written by \`launch\` (infra/launch) at 2026-12-03T13:45:00.000Z
      # from configs/quick.yaml (sha256 aaaaaaaaaaaa…) at commit 0123456789ab.
      # The VM runs exactly that commit; review this file, then:
      #   pulumi stack init run-quick-20261203-1345-ab12 --secrets-provider passphrase --no-select
      #   pulumi config set --secret runstack:deployKey -s run-quick-20261203-1345-ab12 < KEYFILE
      #   pulumi preview -s run-quick-20261203-1345-ab12
      #   pulumi up --yes --non-interactive -s run-quick-20261203-1345-ab12
      # (secrets provider 'passphrase': export PULUMI_CONFIG_PASSPHRASE_FILE=<file> (or PULUMI_CONFIG_PASSPHRASE) first; everyone who manages the run needs the same passphrase)
      # Status: npx tsx infra/launch/cli.ts status. Teardown once results are in git:
      #   npx tsx infra/launch/cli.ts reap --run quick-20261203-1345-ab12   (= pulumi destroy --refresh --remove --yes --non-interactive -s run-quick-20261203-1345-ab12)
      # Never re-run \`pulumi up -s run-quick-20261203-1345-ab12\` after the run finished: it would create the VM and run again.

      config:
        runstack:runId: quick-20261203-1345-ab12
        runstack:experimentConfig: configs/quick.yaml
        runstack:configSha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        runstack:commit: 0123456789abcdef0123456789abcdef01234567
        runstack:repoUrl: git@github.com:acme/exp.git
        runstack:resultsBranch: main
        runstack:project: acme-ml-123
        runstack:zone: us-central1-a
        runstack:machineType: n1-standard-8
        runstack:gpuType: nvidia-tesla-t4
        runstack:gpuCount: 1
        runstack:spot: false
        runstack:maxRunHours: "6"
        runstack:bootImage: projects/debian-cloud/global/images/family/debian-12
        runstack:bootDiskGb: 50
        runstack:dataImage: projects/acme-ml-123/global/images/runstack-data-v1
        runstack:owner: ada
        runstack:nodeVersion: 20.20.2
        runstack:experimentArgs:
          - --fraction
          - "0.1"
      "
    `);
    const keys = Object.keys((parse(text) as { config: object }).config).map((k) =>
      k.replace("runstack:", ""),
    );
    expect(keys).toEqual(STACK_KEYS.filter((k) => k !== "dataDiskGb"));
  });

  it("read back exactly what was written, ignoring pulumi's own additions", () => {
    const config = buildStackConfig(input);
    const text = renderStackFile({
      config,
      generatedAt: "2026-12-03T13:45:00.000Z",
      secretsProvider: "passphrase",
    });
    expect(parseStackFile(text, "f.yaml")).toEqual(config);
    const withPulumiAdditions = `encryptionsalt: v1:abc\n${text}  runstack:deployKey:\n    secure: v1:ciphertext\n  gcp:project: other\n`;
    expect(parseStackFile(withPulumiAdditions, "f.yaml")).toEqual(config);
  });

  it("read back identically through the Pulumi program's own reader (infra/stack-config-parse.ts)", () => {
    const config = buildStackConfig({ ...input, spot: true, dataDiskGb: 100 });
    const text = renderStackFile({
      config,
      generatedAt: "2026-12-03T13:45:00.000Z",
      secretsProvider: "passphrase",
    });
    const yamlConfig = (parse(text) as { config: Record<string, unknown> }).config;
    // Pulumi hands the program every value as text, structured values as JSON.
    const asText = (v: unknown) => (typeof v === "object" ? JSON.stringify(v) : String(v));
    const source = {
      get: (key: string) => {
        const v = yamlConfig[`runstack:${key}`];
        return v === undefined ? undefined : asText(v);
      },
      keys: () => Object.keys(yamlConfig),
    };
    expect(parseStackConfig({ source, stack: "run-x" })).toEqual(config);
  });

  it("refuse invalid values, naming the key and the flag that sets it", () => {
    let err: RunstackError | undefined;
    try {
      buildStackConfig({ ...input, zone: "central", gpuType: undefined });
    } catch (e) {
      err = e as RunstackError;
    }
    expect(err?.code).toBe("PULUMI_CONFIG");
    expect(err?.message).toContain(
      'zone: a GCE zone such as us-central1-a (found: "central") [set with --zone',
    );
    expect(err?.message).toContain("gpuCount: set gpuType and gpuCount together");
  });

  it("reject a file edited into an invalid state", () => {
    expect(() => parseStackFile("config:\n  runstack:runId: X\n", "Pulumi.run-x.yaml")).toThrow(
      /Pulumi.run-x.yaml: invalid stack config/,
    );
    expect(() => parseStackFile("nope: 1\n", "p.yaml")).toThrow(/top-level 'config:'/);
  });
});

describe("launch commands", () => {
  it("pass the deploy key on stdin, never in argv, and never touch the selected stack", () => {
    const steps = launchSteps({ runId: "r-20261203-1345-aaaa", secretsProvider: "passphrase" });
    const all = [...steps.setup, steps.preview, steps.up];
    expect(all.map((s) => showStep(s, "~/.ssh/deploy key"))).toEqual([
      "pulumi stack init run-r-20261203-1345-aaaa --secrets-provider passphrase --no-select",
      "pulumi config set --secret runstack:deployKey -s run-r-20261203-1345-aaaa < '~/.ssh/deploy key'",
      "pulumi preview -s run-r-20261203-1345-aaaa",
      "pulumi up --yes --non-interactive -s run-r-20261203-1345-aaaa",
    ]);
    expect(all.filter((s) => s.stdin === "deployKey")).toHaveLength(1);
  });
});

describe("stack config values the cloud would reject are refused before any file is written", () => {
  for (const [what, patch, key] of [
    ["a deadline under GCE's 30 s minimum", { maxRunHours: 0.001 }, "maxRunHours"],
    ["a machine type with a space", { machineType: "n1 standard" }, "machineType"],
    ["an accelerator type with capitals", { gpuType: "NVIDIA T4" }, "gpuType"],
    ["a data image with spaces", { dataImage: "my image" }, "dataImage"],
  ] as const) {
    it(what, () => {
      const r = StackConfig.safeParse({ ...input, ...patch });
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join("."))).toContain(key);
    });
  }
  it("accepts the shortest deadline GCE allows", () => {
    expect(StackConfig.safeParse({ ...input, maxRunHours: 30 / 3600 }).success).toBe(true);
  });
});

describe("launch settings", () => {
  const defaults = LaunchDefaults.parse({ zone: "europe-west4-a", machineType: "n1-standard-4" });

  it("let flags win over the defaults file", () => {
    const s = resolveSettings({
      flags: {
        project: "acme-ml-123",
        dataImage: "img",
        owner: "bob",
        zone: "us-east1-b",
        gpu: "nvidia-l4:2",
        spot: true,
        hours: 2,
      },
      defaults,
    });
    expect(s).toMatchObject({
      zone: "us-east1-b",
      machineType: "n1-standard-4",
      gpuType: "nvidia-l4",
      gpuCount: 2,
      spot: true,
      maxRunHours: 2,
    });
    expect(s.secretsProvider).toBe("passphrase");
    expect(s.bootImage).toBeUndefined();
  });

  it("take the boot image from --boot-image, else defaults.yaml (a GPU run needs a driver image)", () => {
    const withDefault = LaunchDefaults.parse({
      bootImage: "projects/deeplearning-platform-release/global/images/family/x",
    });
    const flags = { project: "acme-ml-123", dataImage: "img", owner: "bob", zone: "us-east1-b" };
    expect(resolveSettings({ flags, defaults: withDefault }).bootImage).toBe(withDefault.bootImage);
    expect(
      resolveSettings({ flags: { ...flags, bootImage: "img-gpu" }, defaults: withDefault }).bootImage,
    ).toBe("img-gpu");
  });

  it("name every missing required flag in one error", () => {
    expect(() => resolveSettings({ flags: {}, defaults: LaunchDefaults.parse({}) })).toThrow(
      /--project .*--zone .*--data-image .*--owner/,
    );
  });

  it("derive the owner label from git user.email", () => {
    expect(ownerFromEmail("Ada.Lovelace+ml@example.org")).toBe("ada-lovelace-ml");
    expect(ownerFromEmail(undefined)).toBeUndefined();
    const s = resolveSettings({ flags: { project: "p", dataImage: "i" }, defaults, gitUserEmail: "x.y@z" });
    expect(s.owner).toBe("x-y");
  });

  it("parse --gpu and reject bad counts", () => {
    expect(parseGpu("nvidia-tesla-t4")).toEqual({ gpuType: "nvidia-tesla-t4", gpuCount: 1 });
    expect(() => parseGpu("t4:0")).toThrow(/COUNT >= 1/);
    expect(() => parseGpu("T4")).toThrow(/TYPE/);
  });

  it("validate the defaults file strictly and ship a valid one", async () => {
    expect(() => parseDefaults("zone: a\nprojct: x\n", "defaults.yaml")).toThrow(/defaults.yaml/);
    const { readFileSync } = await import("node:fs");
    const shipped = parseDefaults(
      readFileSync(new URL("./defaults.yaml", import.meta.url), "utf8"),
      "defaults.yaml",
    );
    expect(StackConfig.shape.zone.safeParse(shipped.zone).success).toBe(true);
  });
});
