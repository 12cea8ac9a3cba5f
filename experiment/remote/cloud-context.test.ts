import { describe, expect, it } from "vitest";
import { cloudContextFrom, parseGpu } from "./cloud-context.js";

const identity = {
  name: "runstack-a1",
  id: "42",
  zone: "us-central1-a",
  machineType: "n1-standard-8",
  project: "p-12345",
};
const attrs = {
  stack: "run-a1",
  gpu: '{"type":"nvidia-tesla-t4","count":1}',
  spot: "true",
  deadline: "2026-12-03T20:00:00.000Z",
  bootImage: "debian-12",
  dataImage: "data-v1",
};

describe("cloud context from metadata", () => {
  it("builds a validated context with the GPU JSON the plan writes", () => {
    const c = cloudContextFrom({ identity, attrs, preempted: false });
    expect(c).toMatchObject({
      provider: "gce",
      instanceName: "runstack-a1",
      spot: true,
      gpu: { type: "nvidia-tesla-t4", count: 1 },
    });
  });

  it("reads null or an empty attribute as no GPU, and rejects anything else", () => {
    expect(parseGpu("null")).toBeNull();
    expect(parseGpu("")).toBeNull();
    expect(() => parseGpu("t4:1")).toThrow(/runstack-gpu='t4:1'.*expected JSON/);
    expect(() => parseGpu('{"type":"t4","count":0}')).toThrow(/runstack-gpu/);
  });

  it("names the key when spot or deadline are malformed", () => {
    expect(() => cloudContextFrom({ identity, attrs: { ...attrs, spot: "yes" }, preempted: false })).toThrow(
      /runstack-spot='yes'/,
    );
    expect(() =>
      cloudContextFrom({ identity, attrs: { ...attrs, deadline: "soon" }, preempted: false }),
    ).toThrow(/runstack-deadline='soon'/);
  });
});
