import * as tf from "@tensorflow/tfjs";

/**
 * Kernel fixes for the wasm backend (see /work/shared/notes/tensorflow-js.md, pitfalls 3 and 4).
 *
 * Both are registered for backend "wasm" before it is first initialised, because the engine calls
 * each kernel's setupFunc only at backend initialisation.
 */

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type Attrs = tf.NamedAttrMap;
/** The part of BackendWasm we rely on: intermediate results are freed by dataId. */
interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

const WASM = "wasm";
/** Marks our wrappers so installing twice never wraps a wrapper. */
const PATCHED = Symbol.for("runstack.wasmKernelPatch");

function kernel(name: string): KernelFunc {
  const k = tf.getKernel(name, WASM);
  if (k === undefined) {
    throw new Error(`wasm kernel ${name} is not registered: import @tensorflow/tfjs-backend-wasm first`);
  }
  return k.kernelFunc;
}

function run(name: string, backend: object, inputs: tf.NamedTensorInfoMap, attrs: Attrs): TensorInfo {
  const out = kernel(name)({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned several outputs, expected one`);
  return out;
}

function free(backend: object, ...infos: TensorInfo[]): void {
  for (const info of infos) (backend as WasmBackendLike).disposeData(info.dataId);
}

/** Swap the last two axes of a rank >= 2 tensor. */
function transposeLast2(backend: object, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  const perm = x.shape.map((_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
  return run("Transpose", backend, { x }, { perm });
}

/**
 * wasm's BatchMatMul with transposeA/transposeB walks memory with a large stride and is 8-15x
 * slower than transposing first; backprop of every Dense layer uses exactly those calls.
 */
function explicitTransposeBatchMatMul(original: KernelFunc): KernelFunc {
  const fn: KernelFunc = ({ inputs, backend, attrs }) => {
    const transposeA = attrs?.["transposeA"] === true;
    const transposeB = attrs?.["transposeB"] === true;
    if (!transposeA && !transposeB) return original({ inputs, backend, attrs });
    const a = inputs["a"]!;
    const b = inputs["b"]!;
    const at = transposeA ? transposeLast2(backend, a) : a;
    const bt = transposeB ? transposeLast2(backend, b) : b;
    try {
      return original({
        inputs: { a: at, b: bt },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      if (transposeA) free(backend, at);
      if (transposeB) free(backend, bt);
    }
  };
  Object.defineProperty(fn, PATCHED, { value: true });
  return fn;
}

/**
 * dW[fy,fx,ci,co] = sum over (b,oy,ox) of xPadded[b, oy*s+fy, ox*s+fx, ci] * dy[b,oy,ox,co].
 * Read with ci as the batch and b as the input channel, that is a stride-1 convolution of
 * x^T [inC,H,W,B] with dy^T [outH,outW,B,outC] as the filter, dilated by the forward stride.
 * So it runs on wasm's own (XNNPACK) Conv2D instead of a hand-written loop.
 */
export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs["x"]!;
  const dy = inputs["dy"]!;
  const a = attrs ?? {};
  const dataFormat = (a["dataFormat"] as string | undefined) ?? "NHWC";
  if (dataFormat !== "NHWC") {
    throw new Error(
      `Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' (channelsLast) only, got '${dataFormat}': ` +
        "build the model with channelsLast or use the cpu backend",
    );
  }
  if (x.dtype !== "float32" || dy.dtype !== "float32") {
    throw new Error(`Conv2DBackpropFilter on wasm needs float32 inputs, got x ${x.dtype} and dy ${dy.dtype}`);
  }
  const filterShape = a["filterShape"] as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    a["strides"] as number | [number, number],
    1,
    a["pad"] as "same" | "valid" | number | tf.backend_util.ExplicitPadding,
    a["dimRoundingMode"] as "floor" | "round" | "ceil" | undefined,
  );
  const { top, bottom, left, right } = info.padInfo;
  const [fh, fw] = [info.filterHeight, info.filterWidth];
  if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) {
    throw new Error(
      `Conv2DBackpropFilter on wasm: dy spatial shape ${dy.shape.slice(1, 3)} does not match the ` +
        `forward output ${info.outHeight},${info.outWidth}`,
    );
  }
  const temps: TensorInfo[] = [];
  try {
    let xp = x;
    if (top > 0 || bottom > 0 || left > 0 || right > 0) {
      const paddings = [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ];
      xp = run("PadV2", backend, { x }, { paddings, constantValue: 0 });
      temps.push(xp);
    }
    const xT = run("Transpose", backend, { x: xp }, { perm: [3, 1, 2, 0] });
    temps.push(xT);
    const dyT = run("Transpose", backend, { x: dy }, { perm: [1, 2, 0, 3] });
    temps.push(dyT);
    let r = run(
      "Conv2D",
      backend,
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: "valid",
        dataFormat: "NHWC",
        dilations: [info.strideHeight, info.strideWidth],
      },
    );
    temps.push(r);
    // When (padded size - filter) is not a multiple of the stride the last rows/cols of x never
    // reach the output; the stride-1 convolution still produces positions for them: drop those.
    if (r.shape[1] !== fh || r.shape[2] !== fw) {
      r = run("Slice", backend, { x: r }, { begin: [0, 0, 0, 0], size: [r.shape[0]!, fh, fw, r.shape[3]!] });
      temps.push(r);
    }
    return run("Transpose", backend, { x: r }, { perm: [1, 2, 0, 3] });
  } finally {
    free(backend, ...temps);
  }
};

/**
 * wasm's own Conv2DBackpropInput is a naive loop (~13x slower than the forward Conv2D on our CNN).
 * dx is the "full" convolution of dy, with stride-many zeros inserted between its rows/cols, by the
 * filter rotated 180 degrees with in/out channels swapped; that too runs on wasm's Conv2D.
 */
function conv2DBackpropInputWasm(original: KernelFunc): KernelFunc {
  const fn: KernelFunc = ({ inputs, backend, attrs }) => {
    const dy = inputs["dy"]!;
    const filter = inputs["filter"]!;
    const a = attrs ?? {};
    const dataFormat = (a["dataFormat"] as string | undefined) ?? "NHWC";
    if (dataFormat !== "NHWC" || dy.dtype !== "float32" || filter.dtype !== "float32") {
      return original({ inputs, backend, attrs });
    }
    const inputShape = a["inputShape"] as [number, number, number, number];
    const filterShape = filter.shape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filterShape,
      a["strides"] as number | [number, number],
      1,
      a["pad"] as "same" | "valid" | number | tf.backend_util.ExplicitPadding,
      a["dimRoundingMode"] as "floor" | "round" | "ceil" | undefined,
    );
    const [fh, fw] = [info.filterHeight, info.filterWidth];
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const { top, left } = info.padInfo;
    // Explicit paddings larger than the filter would need a crop of dy first; our configs never do.
    if (top > fh - 1 || left > fw - 1) return original({ inputs, backend, attrs });
    const [batch, oh, ow, outC] = dy.shape as [number, number, number, number];
    const temps: TensorInfo[] = [];
    try {
      let d = dy;
      if (sh > 1 || sw > 1) {
        const r6 = run("Reshape", backend, { x: dy }, { shape: [batch, oh, 1, ow, 1, outC] });
        temps.push(r6);
        const paddings = [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ];
        const p6 = run("PadV2", backend, { x: r6 }, { paddings, constantValue: 0 });
        temps.push(p6);
        d = run("Reshape", backend, { x: p6 }, { shape: [batch, oh * sh, ow * sw, outC] });
        temps.push(d);
      }
      // Rows/cols needed: inH + fh - 1, starting fh-1-top before dy's first row.
      const [inH, inW] = [info.inHeight, info.inWidth];
      const padT = fh - 1 - top;
      const padL = fw - 1 - left;
      const padB = Math.max(0, inH + fh - 1 - padT - d.shape[1]!);
      const padR = Math.max(0, inW + fw - 1 - padL - d.shape[2]!);
      const dp = run(
        "PadV2",
        backend,
        { x: d },
        {
          paddings: [
            [0, 0],
            [padT, padB],
            [padL, padR],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      temps.push(dp);
      const rev = run("Reverse", backend, { x: filter }, { dims: [0, 1] });
      temps.push(rev);
      const w = run("Transpose", backend, { x: rev }, { perm: [0, 1, 3, 2] });
      temps.push(w);
      const full = run(
        "Conv2D",
        backend,
        { x: dp, filter: w },
        { strides: [1, 1], pad: "valid", dataFormat: "NHWC", dilations: [1, 1] },
      );
      if (full.shape[1] === inH && full.shape[2] === inW) return full;
      temps.push(full);
      return run(
        "Slice",
        backend,
        { x: full },
        { begin: [0, 0, 0, 0], size: [batch, inH, inW, info.inChannels] },
      );
    } finally {
      free(backend, ...temps);
    }
  };
  Object.defineProperty(fn, PATCHED, { value: true });
  return fn;
}

/**
 * Install the fixes for backend "wasm". Must run after `@tensorflow/tfjs-backend-wasm` is imported
 * and before `tf.setBackend("wasm")` first initialises it. Idempotent.
 */
export function installWasmKernels(): void {
  const bmm = tf.getKernel("BatchMatMul", WASM);
  if (bmm === undefined) {
    throw new Error("wasm BatchMatMul kernel not registered: import @tensorflow/tfjs-backend-wasm first");
  }
  if (!(PATCHED in bmm.kernelFunc)) {
    tf.unregisterKernel("BatchMatMul", WASM);
    tf.registerKernel({ ...bmm, kernelFunc: explicitTransposeBatchMatMul(bmm.kernelFunc) });
  }
  const bpi = tf.getKernel("Conv2DBackpropInput", WASM);
  if (bpi !== undefined && !(PATCHED in bpi.kernelFunc)) {
    tf.unregisterKernel("Conv2DBackpropInput", WASM);
    tf.registerKernel({ ...bpi, kernelFunc: conv2DBackpropInputWasm(bpi.kernelFunc) });
  }
  if (tf.getKernel("Conv2DBackpropFilter", WASM) === undefined) {
    tf.registerKernel({
      kernelName: "Conv2DBackpropFilter",
      backendName: WASM,
      kernelFunc: conv2DBackpropFilterWasm,
    });
  }
}
