import * as tf from "@tensorflow/tfjs";
import { RunstackError } from "../../configs/errors.js";
import type { ModelConfig } from "../../configs/experiment.js";
import { deriveSeed } from "../rng.js";

/**
 * Model builders. One functional graph, three views sharing its layers:
 *   probs  (input → softmax)        what is saved and used for scoring,
 *   logits (input → pre-softmax)    what is trained (fused softmax cross-entropy is stabler),
 *   embed  (input → last hidden)    the penultimate representation for core-set.
 */
export interface BuiltModel {
  probs: tf.LayersModel;
  logits: tf.LayersModel;
  embed: tf.LayersModel;
  embeddingDim: number;
  /** True when some Dropout layer has rate > 0 (MC dropout needs one). */
  hasDropout: boolean;
  /**
   * The graph is a plain chain: these layers applied in order to the input give `probs`.
   * MC dropout runs the deterministic prefix (up to the first Dropout) once per batch and only
   * the rest per pass; in the Gal CNN the prefix holds ~95% of the work.
   */
  chain: tf.layers.Layer[];
  /** Index in `chain` of the first Dropout layer (chain.length when there is none). */
  firstDropout: number;
}

export interface BuildOptions {
  model: ModelConfig;
  /** One sample's shape: [h, w, c] for images, [features] otherwise. */
  inputShape: number[];
  numClasses: number;
  /** Initial weights are a pure function of this seed (each layer gets its own derived seed). */
  weightSeed: number;
}

export function buildModel(opts: BuildOptions): BuiltModel {
  const { model, inputShape, numClasses } = opts;
  let layerNo = 0;
  // deriveSeed can return 0, and tfjs treats a 0 seed as "no seed" (Math.random): avoid it.
  const init = () =>
    tf.initializers.glorotUniform({ seed: deriveSeed(opts.weightSeed, "layer", layerNo++) || 1 });
  const input = tf.input({ shape: inputShape });
  const chain: tf.layers.Layer[] = [];
  const add = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => {
    chain.push(layer);
    return layer.apply(x) as tf.SymbolicTensor;
  };
  let h: tf.SymbolicTensor = input;
  let firstDropout = -1;
  const dropout = (x: tf.SymbolicTensor, rate: number) => {
    if (rate <= 0) return x;
    if (firstDropout === -1) firstDropout = chain.length;
    return add(tf.layers.dropout({ rate }), x);
  };
  const dense = (x: tf.SymbolicTensor, units: number) =>
    add(tf.layers.dense({ units, activation: "relu", kernelInitializer: init() }), x);

  let embedding: tf.SymbolicTensor;
  let headDropout: number;
  if (model.kind === "mlp") {
    if (inputShape.length > 1) h = add(tf.layers.flatten(), h);
    embedding = h;
    model.hidden.forEach((units, i) => {
      embedding = dense(i === 0 ? h : dropout(embedding, model.dropout), units);
    });
    headDropout = model.dropout;
  } else {
    checkCnnShape(model, inputShape);
    for (const c of model.conv) {
      const conv = tf.layers.conv2d({
        filters: c.filters,
        kernelSize: c.kernel,
        strides: c.stride,
        padding: "valid",
        activation: "relu",
        kernelInitializer: init(),
      });
      h = add(conv, h);
    }
    if (model.pool > 1) h = add(tf.layers.maxPooling2d({ poolSize: model.pool }), h);
    h = dropout(h, model.convDropout);
    embedding = add(tf.layers.flatten(), h);
    model.dense.forEach((units, i) => {
      embedding = dense(i === 0 ? embedding : dropout(embedding, model.dropout), units);
    });
    headDropout = model.dense.length > 0 ? model.dropout : 0;
  }
  const logits = add(
    tf.layers.dense({ units: numClasses, kernelInitializer: init() }),
    dropout(embedding, headDropout),
  );
  const probs = add(tf.layers.activation({ activation: "softmax" }), logits);
  const embeddingDim = embedding.shape[embedding.shape.length - 1];
  if (typeof embeddingDim !== "number") throw new Error("embedding width is not static");
  return {
    probs: tf.model({ inputs: input, outputs: probs }),
    logits: tf.model({ inputs: input, outputs: logits }),
    embed: tf.model({ inputs: input, outputs: embedding }),
    embeddingDim,
    hasDropout: firstDropout !== -1,
    chain,
    firstDropout: firstDropout === -1 ? chain.length : firstDropout,
  };
}

/** Fail with the config key at fault instead of tfjs's "negative dimension" deep in a layer. */
function checkCnnShape(model: Extract<ModelConfig, { kind: "cnn" }>, inputShape: number[]): void {
  if (inputShape.length !== 3) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `model.kind 'cnn' needs image data of shape [height, width, channels], the dataset has shape [${inputShape}]`,
      { hint: "use model.kind: mlp for feature vectors" },
    );
  }
  let [hgt, wid] = inputShape as [number, number, number];
  model.conv.forEach((c, i) => {
    hgt = Math.floor((hgt - c.kernel) / c.stride) + 1;
    wid = Math.floor((wid - c.kernel) / c.stride) + 1;
    if (hgt < 1 || wid < 1) {
      throw new RunstackError(
        "CONFIG_INVALID",
        `model.conv[${i}] (kernel ${c.kernel}, stride ${c.stride}) leaves no output: the input to it is too small ` +
          `for the dataset shape [${inputShape}] (convolutions use 'valid' padding)`,
        { hint: "use smaller kernels/strides or fewer conv layers" },
      );
    }
  });
  if (Math.floor(hgt / model.pool) < 1 || Math.floor(wid / model.pool) < 1) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `model.pool ${model.pool} is larger than the conv output ${hgt}x${wid} for dataset shape [${inputShape}]`,
      { hint: "lower model.pool (1 = no pooling)" },
    );
  }
}
