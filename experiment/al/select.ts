/**
 * Turning per-candidate scores into k distinct positions, best first. Pools are up to 60k rows and
 * k is ~10, so top-k uses a size-k heap (O(n log k)) rather than sorting everything.
 *
 * Ties are broken by a random key per candidate drawn from the selection's `rand`, so equal scores
 * (e.g. saturated probabilities) neither favour low pool indices nor depend on iteration order.
 * Exactly n keys are drawn whatever the scores, so the stream consumed is predictable.
 */

/** One uniform key per position: the tie-breaker among equal scores (higher key wins). */
export function tieBreakKeys(n: number, rand: () => number): Float64Array {
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = rand();
  return keys;
}

/**
 * Positions of the k highest scores, highest first (k > n returns all n). Scores must not be NaN:
 * NaN has no place in an order, and silently ranking it would hide a diverged model.
 */
export function topK(scores: ArrayLike<number>, k: number, rand: () => number): Int32Array {
  const n = scores.length;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`topK: score at position ${i} is NaN`);
  }
  const keys = tieBreakKeys(n, rand);
  const size = Math.max(0, Math.min(Math.floor(k), n));
  if (size === 0) return new Int32Array(0);

  // a ranks above b
  const better = (a: number, b: number): boolean => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    if (sa !== sb) return sa > sb;
    const ka = keys[a]!;
    const kb = keys[b]!;
    // rand() has 2^32 values, so equal keys do happen in a 60k pool: the position settles them.
    return ka !== kb ? ka > kb : a < b;
  };

  // Min-heap of the best `size` seen so far: the root is the weakest kept position.
  const heap = new Int32Array(size);
  let len = 0;
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < len && better(heap[worst]!, heap[l]!)) worst = l;
      if (r < len && better(heap[worst]!, heap[r]!)) worst = r;
      if (worst === i) return;
      const tmp = heap[i]!;
      heap[i] = heap[worst]!;
      heap[worst] = tmp;
      i = worst;
    }
  };
  for (let i = 0; i < n; i++) {
    if (len < size) {
      let c = len++;
      heap[c] = i;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!better(heap[parent]!, heap[c]!)) break;
        const tmp = heap[parent]!;
        heap[parent] = heap[c]!;
        heap[c] = tmp;
        c = parent;
      }
    } else if (better(i, heap[0]!)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return Int32Array.from(Array.from(heap).sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0)));
}

/** k distinct uniformly random positions in [0, n), in draw order (partial Fisher–Yates: k draws). */
export function randomK(n: number, k: number, rand: () => number): Int32Array {
  const size = Math.max(0, Math.min(Math.floor(k), n));
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) positions[i] = i;
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const tmp = positions[i]!;
    positions[i] = positions[j]!;
    positions[j] = tmp;
  }
  return positions.slice(0, size);
}

/**
 * k-center greedy (Sener & Savarese 2018, the "core-set" approach) on embeddings: repeatedly take
 * the candidate farthest from everything labelled or already picked. Squared Euclidean distances
 * (same argmax as Euclidean). Minimum distances are initialised against the labelled rows once
 * (O(m·n·d)) and then updated only against each new pick (O(n·d) per pick), so selection costs
 * O((m + k)·n·d) rather than recomputing all distances every step. With no labelled rows the first
 * pick is random (all distances are infinite and the tie-break decides).
 */
export function kCenterGreedy(opts: {
  candidates: Float32Array;
  labelled: Float32Array;
  dim: number;
  k: number;
  rand: () => number;
}): Int32Array {
  const { candidates, labelled, dim } = opts;
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`kCenterGreedy: dim must be >= 1, got ${dim}`);
  if (candidates.length % dim !== 0 || labelled.length % dim !== 0) {
    throw new RangeError(`kCenterGreedy: embedding lengths must be multiples of dim ${dim}`);
  }
  const n = candidates.length / dim;
  const m = labelled.length / dim;
  const keys = tieBreakKeys(n, opts.rand);
  const size = Math.max(0, Math.min(Math.floor(opts.k), n));

  const minDist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    const ci = i * dim;
    let best = Number.POSITIVE_INFINITY;
    for (let l = 0; l < m; l++) {
      const d = squaredDistance(candidates, ci, labelled, l * dim, dim);
      if (d < best) best = d;
    }
    minDist[i] = best;
  }

  const picked = new Uint8Array(n);
  const out = new Int32Array(size);
  let next = argmaxUnpicked(minDist, keys, picked);
  for (let t = 0; t < size; t++) {
    const c = next;
    out[t] = c;
    picked[c] = 1;
    // Update distances against the new centre and find the next farthest in the same pass.
    next = -1;
    const cc = c * dim;
    for (let i = 0; i < n; i++) {
      if (picked[i]) continue;
      const d = squaredDistance(candidates, i * dim, candidates, cc, dim);
      if (d < minDist[i]!) minDist[i] = d;
      if (next < 0 || farther(minDist, keys, i, next)) next = i;
    }
  }
  return out;
}

function argmaxUnpicked(values: Float64Array, keys: Float64Array, picked: Uint8Array): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    if (picked[i]) continue;
    if (best < 0 || farther(values, keys, i, best)) best = i;
  }
  return best;
}

/** a ranks before b: larger distance, then larger tie-break key, then lower position. */
function farther(dist: Float64Array, keys: Float64Array, a: number, b: number): boolean {
  const da = dist[a]!;
  const db = dist[b]!;
  if (da !== db) return da > db;
  const ka = keys[a]!;
  const kb = keys[b]!;
  return ka !== kb ? ka > kb : a < b;
}

function squaredDistance(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = a[ai + j]! - b[bi + j]!;
    s += d * d;
  }
  return s;
}
