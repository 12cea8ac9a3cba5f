import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "./backend.js";

/**
 * The wasm kernel replacements must compute what the reference (pure-JS cpu) kernels compute.
 * Inputs are generated with seeded randomUniform, which is backend-independent JS.
 */

type Compute = () => tf.Tensor[];

async function on(backend: "cpu" | "wasm", f: Compute): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const data = outs.map((t) => t.dataSync() as Float32Array).map((d) => Float32Array.from(d));
  tf.dispose(outs);
  return data;
}

/** Max |a-b| relative to the largest |reference| value (sums of many products). */
function relErr(ref: Float32Array, got: Float32Array): number {
  expect(got.length).toBe(ref.length);
  let scale = 1e-6;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!));
    err = Math.max(err, Math.abs(ref[i]! - got[i]!));
  }
  return err / scale;
}

async function compare(f: Compute): Promise<void> {
  const ref = await on("cpu", f);
  const got = await on("wasm", f);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => {
    expect(relErr(r, got[i]!)).toBeLessThan(2e-5);
  });
}

const rnd = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, "float32", seed);

beforeAll(async () => {
  const info = await selectBackend("wasm");
  expect(info.name).toBe("wasm");
});

describe("wasm BatchMatMul with transposes", () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ["A^T B", [64, 30], [64, 20], true, false],
    ["A B^T", [30, 64], [20, 64], false, true],
    ["A^T B^T", [64, 30], [20, 64], true, true],
    ["batched A^T B", [3, 17, 9], [3, 17, 5], true, false],
    ["batched A B^T, broadcast batch", [3, 9, 17], [1, 5, 17], false, true],
    ["plain A B", [7, 11], [11, 13], false, false],
  ];
  for (const [name, as, bs, ta, tb] of cases) {
    it(`matches cpu for ${name}`, async () => {
      await compare(() => [tf.matMul(rnd(as, 1), rnd(bs, 2), ta, tb)]);
    });
  }

  it("gives the same Dense-layer gradients as cpu (the backprop path it speeds up)", async () => {
    await compare(() => {
      const x = rnd([32, 50], 3);
      const w = rnd([50, 10], 4);
      const b = rnd([10], 5);
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.square(tf.relu(tf.add(tf.matMul(xx, ww), bb)))),
      );
      return g([x, w, b]);
    });
  });

  it("frees its intermediate transposes (no wasm buffers left behind per call)", async () => {
    await tf.setBackend("wasm");
    const a = rnd([64, 64], 6);
    const b = rnd([64, 64], 7);
    const warm = tf.matMul(a, b, true, true);
    warm.dispose();
    // Buffers the kernel allocates behind the engine's back show up only in the backend's data map.
    const liveBuffers = () => tf.backend().numDataIds();
    const before = liveBuffers();
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) tf.matMul(a, b, true, true).dispose();
    expect(liveBuffers()).toBe(before);
    tf.dispose([a, b]);
  });
});

describe("wasm conv2d gradients (filter and input)", () => {
  const cases: [number[], number[], number, "same" | "valid"][] = [
    [[2, 7, 7, 3], [3, 3, 3, 4], 1, "valid"],
    [[2, 7, 7, 3], [3, 3, 3, 4], 1, "same"],
    [[2, 7, 7, 3], [3, 3, 3, 4], 2, "valid"],
    [[2, 8, 8, 3], [4, 4, 3, 4], 2, "same"],
    [[2, 9, 8, 3], [3, 2, 3, 5], 2, "same"],
    [[2, 10, 9, 2], [5, 4, 2, 3], 3, "valid"],
    [[2, 12, 12, 1], [4, 4, 1, 6], 1, "valid"],
  ];
  for (const [xs, fs, stride, pad] of cases) {
    it(`match cpu for x [${xs}] filter [${fs}] stride ${stride} '${pad}'`, async () => {
      await compare(() => {
        const x = rnd(xs, 11) as tf.Tensor4D;
        const f = rnd(fs, 12) as tf.Tensor4D;
        const yShape = tf.conv2d(x, f, stride, pad).shape;
        const dy = rnd(yShape, 13);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), dy)),
        );
        return g([x, f]);
      });
    });
  }

  it("matches cpu through a conv → maxPool → dense stack (MaxPoolGrad, ReLU grad, reshape)", async () => {
    await compare(() => {
      const x = rnd([4, 10, 10, 1], 21) as tf.Tensor4D;
      const f1 = rnd([3, 3, 1, 4], 22) as tf.Tensor4D;
      const f2 = rnd([3, 3, 4, 4], 23) as tf.Tensor4D;
      const w = rnd([36, 3], 24);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const h1 = tf.relu(tf.conv2d(x, a as tf.Tensor4D, 1, "valid"));
        const h2 = tf.relu(tf.conv2d(h1, b as tf.Tensor4D, 1, "valid"));
        const p = tf.maxPool(h2, 2, 2, "valid");
        return tf.sum(tf.square(tf.matMul(tf.reshape(p, [4, 36]), c)));
      });
      return g([f1, f2, w]);
    });
  });

  it("refuses channelsFirst filters with a message saying what to do", async () => {
    await tf.setBackend("wasm");
    const x = rnd([1, 2, 5, 5], 31);
    const dy = rnd([1, 2, 3, 3], 32);
    expect(() =>
      tf.engine().runKernel(
        "Conv2DBackpropFilter",
        { x, dy },
        {
          strides: 1,
          pad: "valid",
          dataFormat: "NCHW",
          filterShape: [3, 3, 2, 2],
        },
      ),
    ).toThrow(/NHWC.*channelsLast/);
    tf.dispose([x, dy]);
  });
});
