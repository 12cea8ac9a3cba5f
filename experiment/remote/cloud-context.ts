import { RunstackError } from "../../configs/errors.js";
import { VM_ATTR } from "../../configs/vm.js";
import { CloudContext } from "../record/cloud.js";
import type { InstanceIdentity, MetadataClient } from "./metadata.js";

/** The instance attributes a cloud context is built from (raw strings, as the metadata server has them). */
export interface CloudAttributes {
  stack: string;
  gpu: string;
  spot: string;
  deadline: string;
  bootImage: string;
  dataImage: string;
}

/**
 * runstack-gpu as infra/plan.ts writes it: JSON `{"type":…,"count":…}` or `null` (an empty or
 * missing attribute also means none). Anything else is an error rather than a guess, so a record
 * never claims a GPU wrongly.
 */
export function parseGpu(raw: string): CloudContext["gpu"] {
  if (raw.trim() === "") return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  const gpu = CloudContext.shape.gpu.safeParse(v);
  if (v === undefined || !gpu.success) {
    throw new RunstackError(
      "METADATA",
      `metadata ${VM_ATTR.gpu}='${raw}': expected JSON null or {"type": "<accelerator>", "count": <n>}`,
    );
  }
  return gpu.data;
}

function parseBool(key: string, raw: string): boolean {
  const s = raw.trim().toLowerCase();
  if (s === "true") return true;
  if (s === "false" || s === "") return false;
  throw new RunstackError("METADATA", `metadata ${key}='${raw}': expected true or false`);
}

/** Pure: identity + attributes + preemption flag → a validated CloudContext. */
export function cloudContextFrom(src: {
  identity: InstanceIdentity;
  attrs: CloudAttributes;
  preempted: boolean;
}): CloudContext {
  const { identity, attrs } = src;
  if (Number.isNaN(Date.parse(attrs.deadline))) {
    throw new RunstackError(
      "METADATA",
      `metadata ${VM_ATTR.deadline}='${attrs.deadline}': expected an RFC 3339 time`,
    );
  }
  return CloudContext.parse({
    provider: "gce",
    project: identity.project,
    zone: identity.zone,
    instanceName: identity.name,
    instanceId: identity.id,
    machineType: identity.machineType,
    gpu: parseGpu(attrs.gpu),
    bootImage: attrs.bootImage,
    dataImage: attrs.dataImage,
    spot: parseBool(VM_ATTR.spot, attrs.spot),
    deadline: attrs.deadline,
    preempted: src.preempted,
    stack: attrs.stack,
  });
}

export async function fetchCloudContext(md: MetadataClient): Promise<CloudContext> {
  const opt = async (k: string) => (await md.attribute(k)) ?? "";
  const [identity, stack, gpu, spot, deadline, bootImage, dataImage, preempted] = await Promise.all([
    md.identity(),
    md.requireAttribute(VM_ATTR.stack),
    opt(VM_ATTR.gpu),
    opt(VM_ATTR.spot),
    md.requireAttribute(VM_ATTR.deadline),
    opt(VM_ATTR.bootImage),
    opt(VM_ATTR.dataImage),
    md.preempted(),
  ]);
  return cloudContextFrom({
    identity,
    attrs: { stack, gpu, spot, deadline, bootImage, dataImage },
    preempted,
  });
}
