import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "./backend.js";
import { directoryLoadHandler, MODEL_JSON, saveModel, WEIGHTS_BIN } from "./save.js";
import { blobSplit, mlp, quadrantImages, trainConfig } from "./test-fixtures.js";
import { createLearner } from "./trainer.js";

let dir: string;
beforeAll(async () => {
  await selectBackend("cpu");
  dir = await mkdtemp(join(tmpdir(), "runstack-model-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe("saveModel", () => {
  it("writes a tfjs layers model that loads back and predicts what the learner predicts", async () => {
    const { pool } = blobSplit({ pool: 60, test: 0, features: 6, classes: 3 });
    const l = await createLearner({
      model: mlp([10], 0.3),
      train: trainConfig(),
      pool,
      test: pool,
      weightSeed: 3,
    });
    await l.fit(all(60), 1);
    const out = join(dir, "mlp");
    const saved = await saveModel(l, out);
    expect((await readdir(out)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN].sort());
    const json = JSON.parse(await readFile(join(out, MODEL_JSON), "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.weightsManifest[0].paths).toEqual([`./${WEIGHTS_BIN}`]);
    expect((await readFile(join(out, WEIGHTS_BIN))).byteLength).toBe(saved.weightBytes);
    // 6*10 + 10 + 10*3 + 3 float32 weights.
    expect(saved.weightBytes).toBe((60 + 10 + 30 + 3) * 4);

    const loaded = await tf.loadLayersModel(directoryLoadHandler(out));
    const x = tf.tensor2d(pool.x.subarray(0, 20 * 6), [20, 6]);
    const y = loaded.predict(x) as tf.Tensor;
    const reloaded = Array.from(y.dataSync());
    tf.dispose([x, y]);
    loaded.dispose();
    const expected = Array.from(await l.predictProba(all(20)));
    expect(reloaded.length).toBe(expected.length);
    reloaded.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i]!, 6);
    });
    l.dispose();
  });

  it("round-trips a CNN too", async () => {
    const imgs = quadrantImages({ n: 8, size: 8, seed: 1 });
    const l = await createLearner({
      model: {
        kind: "cnn",
        conv: [{ filters: 2, kernel: 3, stride: 1 }],
        pool: 2,
        convDropout: 0.25,
        dense: [4],
        dropout: 0.5,
      },
      train: trainConfig({ epochs: 1 }),
      pool: imgs,
      test: imgs,
      weightSeed: 5,
    });
    const out = join(dir, "cnn");
    await saveModel(l, out);
    const loaded = await tf.loadLayersModel(directoryLoadHandler(out));
    const x = tf.tensor4d(imgs.x, [8, 8, 8, 1]);
    const y = loaded.predict(x) as tf.Tensor;
    const got = Array.from(y.dataSync());
    tf.dispose([x, y]);
    loaded.dispose();
    const want = Array.from(await l.predictProba(all(8)));
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 6);
    });
    l.dispose();
  });
});
