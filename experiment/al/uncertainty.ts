/**
 * Uncertainty measures over a row-major probability matrix (n rows × c classes). Measures only
 * compute a number per row; choosing rows is select.ts's job (modAL's split), so a measure can be
 * reused, logged or tested on its own. Results are float64 so sums over float32 inputs do not lose
 * the small differences that decide a ranking.
 */

function rowCount(length: number, numClasses: number, what: string): number {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new RangeError(`${what}: numClasses must be an integer >= 2, got ${numClasses}`);
  }
  if (length % numClasses !== 0) {
    throw new RangeError(`${what}: length ${length} is not a multiple of numClasses ${numClasses}`);
  }
  return length / numClasses;
}

/** 1 − max_j p_j per row: 0 when the model is sure, up to 1 − 1/c. Higher = more uncertain. */
export function leastConfidence(probs: Float32Array, numClasses: number): Float64Array {
  const n = rowCount(probs.length, numClasses, "leastConfidence");
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let max = Number.NEGATIVE_INFINITY;
    const base = i * numClasses;
    for (let j = 0; j < numClasses; j++) max = Math.max(max, probs[base + j]!);
    out[i] = 1 - max;
  }
  return out;
}

/**
 * p_top1 − p_top2 per row, in [0, 1]. Note the direction: a *smaller* margin means a more
 * uncertain row (the margin strategy selects the smallest).
 */
export function margin(probs: Float32Array, numClasses: number): Float64Array {
  const n = rowCount(probs.length, numClasses, "margin");
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let first = Number.NEGATIVE_INFINITY;
    let second = Number.NEGATIVE_INFINITY;
    const base = i * numClasses;
    for (let j = 0; j < numClasses; j++) {
      const p = probs[base + j]!;
      if (p > first) {
        second = first;
        first = p;
      } else if (p > second) {
        second = p;
      }
    }
    out[i] = first - second;
  }
  return out;
}

/** Shannon entropy −Σ p log p per row, in nats (0·log 0 = 0). Higher = more uncertain. */
export function entropy(probs: Float32Array, numClasses: number): Float64Array {
  const n = rowCount(probs.length, numClasses, "entropy");
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rowEntropy(probs, i * numClasses, numClasses);
  return out;
}

function rowEntropy(p: ArrayLike<number>, base: number, numClasses: number): number {
  let h = 0;
  for (let j = 0; j < numClasses; j++) {
    const v = p[base + j]!;
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

/**
 * BALD (Houlsby et al. 2011; Gal et al. 2017): the mutual information between the prediction and
 * the weights, estimated from T stochastic (MC-dropout) passes as
 *   H(mean_t p_t) − mean_t H(p_t)
 * in nats. High when the passes disagree with each other while each is confident; 0 when every
 * pass gives the same distribution (which is what a dropout layer with a fixed mask produces).
 * `mc` is passes × n × c, row-major.
 */
export function baldMutualInformation(mc: Float32Array, passes: number, numClasses: number): Float64Array {
  if (!Number.isInteger(passes) || passes < 1) {
    throw new RangeError(`baldMutualInformation: passes must be a positive integer, got ${passes}`);
  }
  const total = rowCount(mc.length, numClasses, "baldMutualInformation");
  if (total % passes !== 0) {
    throw new RangeError(`baldMutualInformation: length ${mc.length} is not passes × n × ${numClasses}`);
  }
  const n = total / passes;
  const out = new Float64Array(n);
  const mean = new Float64Array(numClasses);
  const stride = n * numClasses;
  for (let i = 0; i < n; i++) {
    mean.fill(0);
    let meanOfEntropies = 0;
    for (let t = 0; t < passes; t++) {
      const base = t * stride + i * numClasses;
      for (let j = 0; j < numClasses; j++) mean[j]! += mc[base + j]!;
      meanOfEntropies += rowEntropy(mc, base, numClasses);
    }
    for (let j = 0; j < numClasses; j++) mean[j]! /= passes;
    out[i] = rowEntropy(mean, 0, numClasses) - meanOfEntropies / passes;
  }
  return out;
}
