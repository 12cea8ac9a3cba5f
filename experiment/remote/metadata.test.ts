import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GceEmulator, startGceEmulator } from "../../test/harness/gce-emulator.js";
import { createComputeClient } from "./compute.js";
import { createMetadataClient } from "./metadata.js";
import { accessSecret } from "./secrets.js";

let emu: GceEmulator;
beforeAll(async () => {
  emu = await startGceEmulator({
    attributes: { "runstack-run-id": "a1", "enable-guest-attributes": "TRUE" },
    secrets: { "projects/p/secrets/k": "the-key\n" },
  });
});
afterAll(async () => emu.stop());

describe("metadata, secrets and compute adapters against the emulator", () => {
  it("reads attributes (404 = unset), identity with short zone/machine type, and a token", async () => {
    const md = createMetadataClient({ baseUrl: emu.metadataUrl });
    expect(await md.attribute("runstack-run-id")).toBe("a1");
    expect(await md.attribute("nope")).toBeUndefined();
    await expect(md.requireAttribute("nope")).rejects.toThrow(/'nope' is missing/);
    expect(await md.identity()).toEqual({
      name: "run-test-vm",
      id: "4567890123456789012",
      zone: "us-central1-a",
      machineType: "n1-standard-8",
      project: "runstack-test",
    });
    expect(await md.token()).toBe(emu.token);
  });

  it("writes guest attributes under the runstack namespace", async () => {
    const md = createMetadataClient({ baseUrl: emu.metadataUrl });
    await md.putGuestAttribute("phase", "running");
    expect(emu.guestAttributes.get("runstack/phase")).toBe("running");
  });

  it("the emulator refuses metadata requests without Metadata-Flavor, like the real server", async () => {
    const res = await fetch(`${emu.metadataUrl}/instance/name`);
    expect(res.status).toBe(403);
  });

  it("watchPreemption blocks until preempted, then resolves true", async () => {
    const md = createMetadataClient({ baseUrl: emu.metadataUrl });
    const ac = new AbortController();
    let done = false;
    const w = md.watchPreemption(ac.signal).then((v) => {
      done = true;
      return v;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    emu.preempt();
    expect(await w).toBe(true);
    expect(await md.preempted()).toBe(true);
    expect(emu.calls.some((c) => c.path.includes("preempted?wait_for_change=true"))).toBe(true);
  });

  it("reads a secret with the bearer token and flips disk auto-delete", async () => {
    const md = createMetadataClient({ baseUrl: emu.metadataUrl });
    const key = await accessSecret({
      baseUrl: emu.secretsUrl,
      secret: "projects/p/secrets/k",
      token: md.token,
    });
    expect(key.toString()).toBe("the-key\n");
    await expect(
      accessSecret({ baseUrl: emu.secretsUrl, secret: "projects/p/secrets/k", token: async () => "wrong" }),
    ).rejects.toThrow(/HTTP 401/);
    const compute = createComputeClient({ baseUrl: emu.computeUrl, token: md.token });
    const ref = { project: "runstack-test", zone: "us-central1-a", instance: "run-test-vm" };
    await compute.setDiskAutoDelete({ ...ref, deviceName: "persistent-disk-0", autoDelete: false });
    expect(emu.diskAutoDelete.get("persistent-disk-0")).toBe(false);
  });

  it("failure knob: a failing secret read surfaces as a clear error", async () => {
    const undo = emu.fail({ path: ":access", status: 503, times: 1 });
    await expect(
      accessSecret({ baseUrl: emu.secretsUrl, secret: "projects/p/secrets/k", token: async () => emu.token }),
    ).rejects.toThrow(/HTTP 503/);
    undo();
  });
});
