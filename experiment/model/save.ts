import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { TfLearner } from "./trainer.js";

/**
 * Save/load in the tfjs "layers-model" format (model.json + one weights file), the format
 * `tf.loadLayersModel` and the Python converter read. `file://` handlers exist only in
 * tfjs-node, which is not installed locally, so these are plain IOHandlers over node:fs.
 */

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";

export interface SavedModel {
  dir: string;
  files: string[];
  weightBytes: number;
}

/** Write the learner's current weights and topology (softmax output) to `dir`. */
export async function saveModel(learner: TfLearner, dir: string): Promise<SavedModel> {
  let weightBytes = 0;
  const handler = tf.io.withSaveHandler(async (artifacts) => {
    if (!artifacts.weightSpecs || artifacts.weightData === undefined || !artifacts.modelTopology) {
      throw new Error("tfjs produced model artifacts without topology or weights");
    }
    const weights = tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
    weightBytes = weights.byteLength;
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? "layers-model",
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
    };
    await mkdir(dir, { recursive: true });
    // Weights first, then model.json via rename: a reader never sees a model.json without weights.
    await writeFile(join(dir, WEIGHTS_BIN), new Uint8Array(weights));
    const tmp = join(dir, `.${MODEL_JSON}.tmp`);
    await writeFile(tmp, `${JSON.stringify(modelJson)}\n`);
    await rename(tmp, join(dir, MODEL_JSON));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
  await learner.built.probs.save(handler);
  return { dir, files: [MODEL_JSON, WEIGHTS_BIN], weightBytes };
}

/** A LoadHandler for a directory written by saveModel (or any single-dir layers model). */
export function directoryLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(join(dir, MODEL_JSON), "utf8")) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const bytes = await readFile(join(dir, p));
            buffers.push(
              bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
            );
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/** Load a saved model (for inspection and tests; the learner itself never reloads). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(directoryLoadHandler(dir));
}
