import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it, vi } from "vitest";
import { isRunstackError } from "../../configs/errors.js";
import { selectBackend } from "./backend.js";
import { BackendInfo } from "./backend-info.js";

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const hasTfjsNode = installed("@tensorflow/tfjs-node");
// Taken before any test initialises wasm (module scope runs first).
const processHandlers = () => [
  process.listeners("uncaughtException"),
  process.listeners("unhandledRejection"),
];
const handlersAtStart = processHandlers();

describe("selectBackend", () => {
  it("cpu: runs ops on the pure-JS backend and records why", async () => {
    const info = await selectBackend("cpu");
    expect(BackendInfo.parse(info)).toEqual(info);
    expect(info).toMatchObject({ name: "cpu", requested: "cpu", tfjsVersion: tf.version.tfjs });
    expect(info.reason).toMatch(/requested 'cpu'/);
    expect(tf.getBackend()).toBe("cpu");
  });

  it("cpu: the 'install tfjs-node' banner is not printed", async () => {
    // The banner is one-shot per process: re-arm it so this test does not depend on test order.
    (tf.findBackend("cpu") as unknown as { firstUse: boolean }).firstUse = true;
    await selectBackend("cpu");
    const warn = vi.spyOn(console, "warn");
    try {
      tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1).dataSync());
      expect(warn.mock.calls.flat().join(" ")).not.toMatch(/tfjs-node/);
    } finally {
      warn.mockRestore();
    }
  });

  it("wasm: reports SIMD and the single Node thread, and installs the kernel fixes", async () => {
    const info = await selectBackend("wasm");
    expect(info).toMatchObject({ name: "wasm", requested: "wasm", simd: true, threads: 1 });
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeDefined();
  });

  it("wasm: leaves no process-wide error handlers behind (they bury real errors under the wasm loader)", async () => {
    await selectBackend("wasm");
    expect(processHandlers()).toEqual(handlersAtStart);
  });

  it("auto: picks the best available backend and says why the better ones were skipped", async () => {
    const info = await selectBackend("auto");
    expect(info.requested).toBe("auto");
    expect(info.reason).toMatch(/^auto: /);
    if (hasTfjsNode) {
      expect(["tensorflow", "tensorflow-gpu"]).toContain(info.name);
    } else {
      expect(info.name).toBe("wasm");
      expect(info.reason).toMatch(/@tensorflow\/tfjs-node not installed/);
      expect(info.reason).toMatch(/no GPU \(/);
    }
  });

  it.skipIf(hasTfjsNode)(
    "forcing a backend that is not installed fails with BACKEND_UNAVAILABLE and a hint",
    async () => {
      for (const name of ["tensorflow", "tensorflow-gpu"] as const) {
        const err = await selectBackend(name).then(
          () => null,
          (e: unknown) => e,
        );
        expect(isRunstackError(err)).toBe(true);
        if (!isRunstackError(err)) return;
        expect(err.code).toBe("BACKEND_UNAVAILABLE");
        expect(err.message).toContain(`'${name}'`);
        expect(err.hint).toMatch(/backend: auto/);
      }
    },
  );
});
