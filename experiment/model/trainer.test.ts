import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import { isRunstackError } from "../../configs/errors.js";
import type { ModelConfig } from "../../configs/experiment.js";
import type { Dataset } from "../data/types.js";
import { selectBackend } from "./backend.js";
import { blobSplit, mlp, quadrantImages, trainConfig } from "./test-fixtures.js";
import { createLearner, type TfLearner } from "./trainer.js";

const { pool, test } = blobSplit({ pool: 240, test: 90, features: 8, classes: 3 });
const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const learners: TfLearner[] = [];

async function learner(opts: Partial<Parameters<typeof createLearner>[0]> = {}): Promise<TfLearner> {
  const l = await createLearner({
    model: mlp([16], 0.5),
    train: trainConfig(),
    pool,
    test,
    weightSeed: 7,
    ...opts,
  });
  learners.push(l);
  return l;
}

afterEach(() => {
  for (const l of learners.splice(0)) l.dispose();
});

describe.each(["cpu", "wasm"] as const)("learner on %s", (backend) => {
  it("learns a separable problem well above chance", async () => {
    await selectBackend(backend);
    // Held-out test rows (disjoint from the pool): give it enough epochs to converge.
    const l = await learner({ train: trainConfig({ epochs: 15 }) });
    const before = await l.evaluate();
    const { loss } = await l.fit(all(pool.n), 3);
    const after = await l.evaluate();
    expect(Number.isFinite(loss)).toBe(true);
    expect(after.accuracy).toBeGreaterThan(0.9);
    expect(after.loss).toBeLessThan(before.loss);
  });

  it("does not leak tensors across fit/evaluate/predict/mcProba/embed/resetWeights", async () => {
    await selectBackend(backend);
    const l = await learner();
    const idx = all(50);
    const cycle = async () => {
      await l.fit(idx, 1);
      await l.evaluate();
      await l.predictProba(idx);
      await l.mcProba(idx, 3, 2);
      await l.embed(idx);
      l.resetWeights();
    };
    await cycle();
    const tensors = tf.memory().numTensors;
    await cycle();
    await cycle();
    expect(tf.memory().numTensors).toBe(tensors);
    const created = tf.memory().numTensors;
    l.dispose();
    expect(tf.memory().numTensors).toBeLessThan(created);
  });

  it("trains a small CNN (conv stride 2, pool, dropout) above chance", async () => {
    await selectBackend(backend);
    const imgs = quadrantImages({ n: 96, size: 8, seed: 4 });
    const imgTest = quadrantImages({ n: 40, size: 8, seed: 5 });
    const l = await learner({
      model: {
        kind: "cnn",
        conv: [
          { filters: 4, kernel: 3, stride: 1 },
          { filters: 4, kernel: 2, stride: 2 },
        ],
        pool: 1,
        convDropout: 0.1,
        dense: [16],
        dropout: 0.2,
      },
      train: trainConfig({ epochs: 8 }),
      pool: imgs,
      test: imgTest,
    });
    await l.fit(all(imgs.n), 1);
    expect((await l.evaluate()).accuracy).toBeGreaterThan(0.6);
    expect((await l.embed(all(3))).dim).toBe(16);
  });
});

describe("learner contract", () => {
  it("is deterministic on cpu: same seeds give identical loss, accuracy and probabilities", async () => {
    await selectBackend("cpu");
    const runOnce = async () => {
      const l = await learner();
      const { loss } = await l.fit(all(120), 11);
      const ev = await l.evaluate();
      const probs = await l.predictProba(all(30));
      const mc = await l.mcProba(all(10), 4, 5);
      l.dispose();
      return { loss, ev, probs: Array.from(probs), mc: Array.from(mc) };
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(b).toEqual(a);
  });

  it("a different fit seed changes the batch order and so the result", async () => {
    await selectBackend("cpu");
    const l = await learner({ train: trainConfig({ epochs: 1 }) });
    await l.fit(all(120), 1);
    const p1 = await l.predictProba(all(20));
    l.resetWeights();
    await l.fit(all(120), 2);
    const p2 = await l.predictProba(all(20));
    expect(Array.from(p2)).not.toEqual(Array.from(p1));
  });

  it("resetWeights restores the creation weights and fresh optimizer state", async () => {
    await selectBackend("cpu");
    const l = await learner();
    const initial = await l.predictProba(all(20));
    await l.fit(all(120), 1);
    const r1 = await l.fit(all(120), 2);
    expect(Array.from(await l.predictProba(all(20)))).not.toEqual(Array.from(initial));
    l.resetWeights();
    expect(Array.from(await l.predictProba(all(20)))).toEqual(Array.from(initial));
    // Same start + same seed after a reset gives the same result as an untouched learner.
    const fresh = await learner();
    const ref = await fresh.fit(all(120), 2);
    const again = await l.fit(all(120), 2);
    expect(again.loss).toBe(ref.loss);
    expect(r1.loss).not.toBe(ref.loss);
  });

  it("the weight seed decides the initial weights", async () => {
    await selectBackend("cpu");
    const a = await (await learner({ weightSeed: 1 })).predictProba(all(10));
    const b = await (await learner({ weightSeed: 1 })).predictProba(all(10));
    const c = await (await learner({ weightSeed: 2 })).predictProba(all(10));
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });

  it("mcProba: passes differ from each other and from inference, each row sums to 1, and replays from its seed", async () => {
    await selectBackend("cpu");
    const l = await learner();
    await l.fit(all(60), 1);
    const idx = Int32Array.from([5, 0, 17, 33]);
    const passes = 5;
    const C = pool.numClasses;
    const mc = await l.mcProba(idx, passes, 9);
    expect(mc.length).toBe(passes * idx.length * C);
    const pass = (p: number) => Array.from(mc.subarray(p * idx.length * C, (p + 1) * idx.length * C));
    for (let p = 1; p < passes; p++) expect(pass(p)).not.toEqual(pass(0));
    expect(pass(0)).not.toEqual(Array.from(await l.predictProba(idx)));
    for (let r = 0; r < passes * idx.length; r++) {
      expect(mc.subarray(r * C, r * C + C).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    expect(Array.from(await l.mcProba(idx, passes, 9))).toEqual(Array.from(mc));
    expect(Array.from(await l.mcProba(idx, passes, 10))).not.toEqual(Array.from(mc));
  });

  const cnnWithDropout: ModelConfig = {
    kind: "cnn",
    conv: [{ filters: 3, kernel: 3, stride: 1 }],
    pool: 2,
    convDropout: 0.25,
    dense: [8],
    dropout: 0.5,
  };
  const chainCases: [string, ModelConfig, Dataset][] = [
    ["mlp", mlp([12, 6], 0.3), pool],
    ["cnn", cnnWithDropout, quadrantImages({ n: 12, size: 8, seed: 3 })],
  ];
  it.each(chainCases)(
    "%s: the layer chain MC dropout runs in two parts is the whole model",
    async (_, model, data) => {
      await selectBackend("cpu");
      const l = await learner({ model, pool: data, test: data });
      const { chain, firstDropout } = l.built;
      expect(chain[firstDropout]?.getClassName()).toBe("Dropout");
      const x = tf.tensor(data.x.subarray(0, (5 * data.x.length) / data.n), [5, ...data.shape]);
      const y = chain.reduce((h, layer) => layer.apply(h, { training: false }) as tf.Tensor, x);
      const viaChain = Array.from(y.dataSync());
      tf.dispose([x, y]);
      expect(viaChain).toEqual(Array.from(await l.predictProba(all(5))));
    },
  );

  it("mcProba leaves Math.random as it found it", async () => {
    await selectBackend("cpu");
    const original = Math.random;
    const l = await learner();
    await l.mcProba(all(4), 2, 1);
    await l.fit(all(20), 1);
    expect(Math.random).toBe(original);
  });

  it("mcProba on a model without dropout is refused with the config key to change", async () => {
    await selectBackend("cpu");
    const l = await learner({ model: mlp([8], 0) });
    const err = await l.mcProba(all(4), 2, 1).catch((e: unknown) => e);
    expect(isRunstackError(err) && err.code).toBe("CONFIG_INVALID");
    expect(String((err as Error).message)).toMatch(/model/);
  });

  it("predictProba and embed follow the given pool rows, in order", async () => {
    await selectBackend("cpu");
    const l = await learner({ model: mlp([12, 6], 0.1) });
    await l.fit(all(60), 1);
    const idx = Int32Array.from([9, 2, 9, 40]);
    const probs = await l.predictProba(idx);
    const one = await l.predictProba(Int32Array.from([2]));
    expect(Array.from(probs.subarray(3, 6))).toEqual(Array.from(one));
    expect(Array.from(probs.subarray(0, 3))).toEqual(Array.from(probs.subarray(6, 9)));
    const emb = await l.embed(idx);
    expect(emb.dim).toBe(6);
    expect(emb.data.length).toBe(4 * 6);
    expect(Array.from(emb.data.subarray(0, 6))).toEqual(Array.from(emb.data.subarray(12, 18)));
  });

  it("inference batch size does not change results (batches are independent)", async () => {
    await selectBackend("cpu");
    const a = await learner({ inferenceBatch: 7 });
    const b = await learner({ inferenceBatch: 256 });
    const pa = await a.predictProba(all(50));
    const pb = await b.predictProba(all(50));
    for (let i = 0; i < pa.length; i++) expect(pa[i]).toBeCloseTo(pb[i]!, 6);
  });

  it("rejects inconsistent data and out-of-range rows with messages naming what is wrong", async () => {
    await selectBackend("cpu");
    const bad: Dataset = { ...pool, y: pool.y.slice(0, 10) };
    const err = await createLearner({
      model: mlp([4]),
      train: trainConfig(),
      pool: bad,
      test,
      weightSeed: 1,
    }).catch((e: unknown) => e);
    expect(isRunstackError(err) && err.code).toBe("DATA_INVALID");
    expect(String((err as Error).message)).toMatch(/pool\.y has 10 labels, expected n = 240/);
    const l = await learner();
    await expect(l.predictProba(Int32Array.from([0, 240]))).rejects.toThrow(/row 240 at position 1/);
  });

  it("a CNN on feature vectors is refused naming model.kind", async () => {
    await selectBackend("cpu");
    const err = await learner({
      model: {
        kind: "cnn",
        conv: [{ filters: 2, kernel: 3, stride: 1 }],
        pool: 2,
        convDropout: 0,
        dense: [],
        dropout: 0,
      },
    }).catch((e: unknown) => e);
    expect(isRunstackError(err) && err.code).toBe("CONFIG_INVALID");
    expect(String((err as Error).message)).toMatch(/model\.kind 'cnn'.*\[8\]/);
  });
});
