import { describe, expect, it } from "vitest";
import { readVmEnv } from "./vm-env.js";

const base = {
  RUNSTACK_STATE_DIR: "/var/lib/runstack/state",
  RUNSTACK_REPO_DIR: "/var/lib/runstack/repo",
  RUNSTACK_KEY_FILE: "/dev/shm/runstack.x/deploy_key",
  RUNSTACK_KNOWN_HOSTS_FILE: "/dev/shm/runstack.x/known_hosts",
};

describe("readVmEnv", () => {
  it("applies the real VM's defaults", () => {
    const env = readVmEnv(base);
    expect(env.metadataUrl).toBe("http://metadata.google.internal/computeMetadata/v1");
    expect(env.parkMarginSec).toBe(600);
    expect(env.pushRetry).toBeUndefined();
  });

  it("reads the harness's timing overrides", () => {
    const env = readVmEnv({
      ...base,
      RUNSTACK_PARK_MARGIN_SECONDS: "30",
      RUNSTACK_PUSH_RETRY: '{"attempts":2,"baseMs":10,"maxMs":20}',
    });
    expect(env.parkMarginSec).toBe(30);
    expect(env.pushRetry).toEqual({ attempts: 2, baseMs: 10, maxMs: 20 });
  });

  it("names the variable that is missing or malformed", () => {
    expect(() => readVmEnv({ ...base, RUNSTACK_REPO_DIR: undefined })).toThrow(/RUNSTACK_REPO_DIR/);
    expect(() => readVmEnv({ ...base, RUNSTACK_PUSH_RETRY: "{attempts:2}" })).toThrow(
      /RUNSTACK_PUSH_RETRY.*not JSON/,
    );
  });
});
