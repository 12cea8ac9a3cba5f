/**
 * A labelled dataset held in flat typed arrays (row-major), so the model can feed batches from
 * subarrays without copying (see notes: wasm's Slice kernel copies the whole tensor per batch).
 */
export interface Dataset {
  /** n × featureSize floats in [0, 1]. */
  x: Float32Array;
  /** n class ids in [0, numClasses). */
  y: Int32Array;
  n: number;
  /** [height, width, channels] for images, [features] otherwise. */
  shape: number[];
  numClasses: number;
}

/** What a run record says about where the data came from. */
export interface DatasetIdentity {
  source: "embedded" | "idx" | "synthetic";
  name: string;
  /** sha256 over the manifest (file names + their sha256), or over the generator params. */
  manifestSha256: string;
  /** Where it was read from (directory or package@version). */
  location: string;
  fraction: number;
  sizes: { available: number; train: number; test: number };
}

/** The split one seed works on: a pool (train) and a fixed test set used for nothing else. */
export interface SplitData {
  train: Dataset;
  test: Dataset;
  identity: DatasetIdentity;
}
