import { execFile } from "node:child_process";
import * as tf from "@tensorflow/tfjs";
import { RunstackError } from "../../configs/errors.js";
import type { Backend } from "../../configs/experiment.js";
import { BACKEND_NAMES, type BackendInfo } from "./backend-info.js";
import { installWasmKernels } from "./wasm-kernels.js";

/**
 * Backend choice. `@tensorflow/tfjs-node(-gpu)` are optionalDependencies that cannot install on
 * machines without internet (their install script downloads libtensorflow), so they are imported
 * dynamically and "not installed" is an ordinary outcome, not an error, for `auto`.
 */

type BackendName = BackendInfo["name"];

const NODE_PACKAGE = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
} as const;

type Attempt =
  | { ok: true; info: Omit<BackendInfo, "requested" | "reason">; note: string }
  | { ok: false; why: string };

/** Select and initialise a tfjs backend; every later tensor op in this process runs on it. */
export async function selectBackend(requested: Backend): Promise<BackendInfo> {
  silenceNodeBanner();
  if (requested !== "auto") {
    const attempt = await tryBackend(requested);
    if (!attempt.ok) {
      throw new RunstackError(
        "BACKEND_UNAVAILABLE",
        `backend '${requested}' is not available: ${attempt.why}`,
        {
          hint: hintFor(requested),
        },
      );
    }
    return { ...attempt.info, requested, reason: `requested '${requested}'; ${attempt.note}` };
  }
  const skipped: string[] = [];
  for (const name of BACKEND_NAMES) {
    const attempt = await tryBackend(name);
    if (attempt.ok) {
      return { ...attempt.info, requested, reason: `auto: ${[...skipped, attempt.note].join("; ")}` };
    }
    skipped.push(attempt.why);
  }
  throw new RunstackError(
    "BACKEND_UNAVAILABLE",
    `no tfjs backend could be initialised: ${skipped.join("; ")}`,
    {
      hint: "reinstall dependencies with `npm ci` (the wasm and cpu backends ship with @tensorflow/tfjs)",
    },
  );
}

function hintFor(name: BackendName): string {
  switch (name) {
    case "tensorflow-gpu":
      return "needs an NVIDIA GPU with CUDA 11.2 + cuDNN 8.1 and `npm ci` with internet access (installs @tensorflow/tfjs-node-gpu); or set backend: auto";
    case "tensorflow":
      return "needs `npm ci` with internet access (installs @tensorflow/tfjs-node); or set backend: auto / wasm";
    default:
      return "reinstall dependencies with `npm ci`; or set backend: auto";
  }
}

async function tryBackend(name: BackendName): Promise<Attempt> {
  switch (name) {
    case "tensorflow-gpu": {
      const gpu = await detectNvidiaGpu();
      if (!gpu.present) return { ok: false, why: `no GPU (${gpu.detail})` };
      const loaded = await loadNodeBackend("tensorflow-gpu");
      if (!loaded.ok) return loaded;
      return {
        ok: true,
        info: baseInfo("tensorflow-gpu"),
        note: `GPU: ${gpu.detail}; using ${NODE_PACKAGE[name]}`,
      };
    }
    case "tensorflow": {
      const loaded = await loadNodeBackend("tensorflow");
      if (!loaded.ok) return loaded;
      return { ok: true, info: baseInfo("tensorflow"), note: `using ${NODE_PACKAGE[name]}` };
    }
    case "wasm":
      return tryWasm();
    case "cpu":
      if (!(await tf.setBackend("cpu")))
        return { ok: false, why: "the pure-JS cpu backend failed to initialise" };
      return { ok: true, info: baseInfo("cpu"), note: "using the pure-JS cpu backend" };
  }
}

function baseInfo(name: BackendName): Omit<BackendInfo, "requested" | "reason"> {
  return { name, tfjsVersion: tf.version.tfjs };
}

async function tryWasm(): Promise<Attempt> {
  let wasm: { getThreadsCount(): number };
  try {
    wasm = await import("@tensorflow/tfjs-backend-wasm");
  } catch (e) {
    return { ok: false, why: `@tensorflow/tfjs-backend-wasm failed to load (${firstLine(e)})` };
  }
  if (tf.findBackendFactory("wasm") === null) {
    return {
      ok: false,
      why: "@tensorflow/tfjs-backend-wasm registered into another @tensorflow/tfjs-core copy",
    };
  }
  installWasmKernels();
  const ok = await withoutNewProcessHandlers(() => tf.setBackend("wasm"));
  if (!ok) return { ok: false, why: "the wasm backend failed to initialise" };
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  const threads = wasm.getThreadsCount();
  return {
    ok: true,
    info: { ...baseInfo("wasm"), simd, threads },
    // tfjs disables wasm multithreading under Node, so one thread is expected here.
    note: `using wasm (simd ${simd ? "on" : "off"}, ${threads} thread${threads === 1 ? "" : "s"})`,
  };
}

/**
 * Emscripten's glue adds process-wide uncaughtException/unhandledRejection handlers that rethrow,
 * which makes Node print the throw site: a 30 kB minified line of the wasm loader, burying the
 * real error. Node's defaults already crash on both, so the added handlers are removed.
 */
async function withoutNewProcessHandlers<T>(fn: () => Promise<T>): Promise<T> {
  type Listener = (...args: unknown[]) => void;
  const events = ["uncaughtException", "unhandledRejection"] as const;
  // Widened once: the overloads of process.listeners do not accept a union of event names.
  const listeners = (ev: string) => process.listeners(ev as "uncaughtException") as Listener[];
  const before = events.map((ev) => new Set(listeners(ev)));
  try {
    return await fn();
  } finally {
    events.forEach((ev, i) => {
      for (const l of listeners(ev)) if (!before[i]!.has(l)) process.removeListener(ev, l);
    });
  }
}

async function loadNodeBackend(
  name: "tensorflow-gpu" | "tensorflow",
): Promise<{ ok: true } | { ok: false; why: string }> {
  const pkg = NODE_PACKAGE[name];
  // libtensorflow's C++ logging is chatty on stderr; keep warnings and errors only.
  process.env["TF_CPP_MIN_LOG_LEVEL"] ??= "2";
  try {
    // A variable specifier keeps TypeScript from resolving a package that may be absent.
    const specifier: string = pkg;
    await import(specifier);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      return { ok: false, why: `${pkg} not installed` };
    }
    return { ok: false, why: `${pkg} failed to load (${firstLine(e)})` };
  }
  // tfjs-node registers "tensorflow" in the tfjs-core it resolves; if that were a second copy our
  // models would silently keep running on another backend.
  if (tf.findBackendFactory("tensorflow") === null) {
    return {
      ok: false,
      why: `${pkg} registered its backend into another @tensorflow/tfjs-core copy (run npm dedupe)`,
    };
  }
  if (!(await tf.setBackend("tensorflow"))) return { ok: false, why: `${pkg} backend failed to initialise` };
  return { ok: true };
}

async function detectNvidiaGpu(): Promise<{ present: boolean; detail: string }> {
  return new Promise((resolve) => {
    execFile("nvidia-smi", ["-L"], { timeout: 10_000 }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        resolve({
          present: false,
          detail: code === "ENOENT" ? "nvidia-smi not found" : `nvidia-smi failed: ${firstLine(err)}`,
        });
        return;
      }
      const gpus = stdout.split("\n").filter((l) => l.startsWith("GPU "));
      resolve(
        gpus.length > 0
          ? { present: true, detail: gpus.map((g) => g.replace(/\s*\(UUID:.*\)$/, "")).join(", ") }
          : { present: false, detail: "nvidia-smi lists no GPU" },
      );
    });
  });
}

/**
 * The cpu backend prints an "install tfjs-node" banner on its first tensor. We already record why
 * tfjs-node is not used, so the banner is noise. `PROD` would also silence it but changes other
 * behaviour, so only the banner's one-shot flag is cleared.
 */
function silenceNodeBanner(): void {
  const cpu = tf.findBackend("cpu") as { firstUse?: boolean } | null;
  if (cpu !== null && "firstUse" in cpu) cpu.firstUse = false;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0] ?? msg;
}
