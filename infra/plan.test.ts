import { describe, expect, it } from "vitest";
import { isRunstackError } from "../configs/errors.js";
import { LABEL_VALUE_RE } from "../configs/stack.js";
import { VM_ATTR } from "../configs/vm.js";
import { planRun, serviceAccountId } from "./plan.js";
import { renderStartupScript } from "./startup-script.js";
import { REFERENCE_NOW, REFERENCE_STACK, referenceConfig } from "./testing/fixtures.js";

const plan = (overrides: Parameters<typeof referenceConfig>[0] = {}) =>
  planRun({ config: referenceConfig(overrides), stack: REFERENCE_STACK, now: REFERENCE_NOW });

describe("planRun", () => {
  it("resolves the reference run to the same plan (snapshot; the startup script is checked apart)", () => {
    const { metadata, ...rest } = plan();
    const { "startup-script": script, ...otherMetadata } = metadata;
    // The renderer belongs to the VM runtime and changes on its own schedule: compare it by call.
    expect(script).toBe(renderStartupScript({ runId: rest.runId }));
    expect({ ...rest, metadata: otherMetadata }).toMatchSnapshot();
  });

  it("the VM is deleted by GCE after maxRunHours, whatever it is doing", () => {
    const p = plan({ maxRunHours: 2.5 });
    expect(p.scheduling.maxRunDurationSeconds).toBe(9000);
    expect(p.scheduling.instanceTerminationAction).toBe("DELETE");
    // The metadata deadline is the earliest deletion time: program time + duration.
    expect(p.metadata[VM_ATTR.deadline]).toBe("2026-12-03T12:45:00.000Z");
  });

  it("omits the metadata deadline when the program time is not given", () => {
    const p = planRun({ config: referenceConfig(), stack: REFERENCE_STACK });
    expect(p.metadata[VM_ATTR.deadline]).toBeUndefined();
  });

  it("a deadline GCE would reject (< 30 s) is a config error naming runstack:maxRunHours", () => {
    // configs/stack.ts already refuses it; planRun keeps its own guard for callers that skip the schema.
    try {
      planRun({
        config: { ...referenceConfig(), maxRunHours: 0.005 },
        stack: REFERENCE_STACK,
        now: REFERENCE_NOW,
      });
      expect.unreachable("planRun accepted an 18 s deadline");
    } catch (e) {
      expect(isRunstackError(e) && e.code).toBe("PULUMI_CONFIG");
      expect((e as Error).message).toContain("runstack:maxRunHours");
    }
  });

  it("a Spot run is SPOT + preemptible, never auto-restarts and terminates on host maintenance", () => {
    const s = plan({ spot: true }).scheduling;
    expect(s).toMatchObject({
      provisioningModel: "SPOT",
      preemptible: true,
      automaticRestart: false,
      onHostMaintenance: "TERMINATE",
    });
    expect(plan().scheduling).toMatchObject({ provisioningModel: "STANDARD", preemptible: false });
  });

  it("a GPU run gets the accelerator and terminates on host maintenance; a CPU run migrates", () => {
    const g = plan({ gpuType: "nvidia-tesla-t4", gpuCount: 2 });
    expect(g.gpu).toEqual({ type: "nvidia-tesla-t4", count: 2 });
    expect(g.scheduling.onHostMaintenance).toBe("TERMINATE");
    expect(g.metadata[VM_ATTR.gpu]).toBe('{"type":"nvidia-tesla-t4","count":2}');
    const cpu = plan();
    expect(cpu.gpu).toBeNull();
    expect(cpu.scheduling.onHostMaintenance).toBe("MIGRATE");
    expect(cpu.metadata[VM_ATTR.gpu]).toBe("null");
  });

  it("metadata carries every VM_ATTR key the VM reads, and the secret's name instead of the key", () => {
    const p = plan();
    for (const key of Object.values(VM_ATTR)) expect(p.metadata, key).toHaveProperty(key);
    expect(p.metadata["enable-guest-attributes"]).toBe("TRUE");
    expect(p.metadata[VM_ATTR.secret]).toBe(`projects/example-lab-ml/secrets/${p.names.secretId}`);
    expect(JSON.parse(p.metadata[VM_ATTR.experimentArgs]!)).toEqual([]);
  });

  it("labels are GCE-valid even for the longest run id, and the config hash is shortened to fit", () => {
    const longId = `a${"b".repeat(38)}c`;
    const p = plan({ runId: longId });
    for (const value of Object.values(p.labels)) expect(value).toMatch(LABEL_VALUE_RE);
    expect(p.labels["config-hash"]).toHaveLength(16);
    expect(p.labels.commit).toBe(referenceConfig().commit);
    expect(p.names.instance.length).toBeLessThanOrEqual(63);
  });

  it("service-account ids stay within 6-30 chars and distinct for long ids that share a head", () => {
    expect(serviceAccountId("ab")).toBe("runstack-ab");
    const a = serviceAccountId("mnist-full-20261203-1015-ab12");
    const b = serviceAccountId("mnist-full-20261203-1015-cd34");
    for (const id of [a, b]) expect(id).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
    expect(a).not.toBe(b);
  });

  it("the data disk keeps the image's size unless dataDiskGb is set", () => {
    expect(plan().dataDisk.sizeGb).toBeNull();
    expect(plan({ dataDiskGb: 200 }).dataDisk).toMatchObject({ sizeGb: 200, mode: "READ_ONLY" });
  });
});
