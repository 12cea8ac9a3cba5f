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
  /**
   * Every seed used to produce this split (and the source), by name, for the run record.
   * Always filled by splitForSeed; optional only so hand-built fakes stay valid.
   */
  seeds?: Record<string, number>;
}

/**
 * What loadSource reads once per run; splitForSeed derives each seed's split from it without I/O.
 * Its arrays are shared (with the embedded cache, and with full-size splits of every seed), so
 * nobody may write into a Dataset's x or y.
 */
export interface LoadedSource {
  source: DatasetIdentity["source"];
  name: string;
  location: string;
  manifestSha256: string;
  /** The rows the pool is drawn from (and the test set too when `test` is null). */
  train: Dataset;
  /** A predefined test split (IDX t10k); null when the test set is drawn from `train` per seed. */
  test: Dataset | null;
  /** Seeds used while loading (e.g. the synthetic generator's), recorded with the run. */
  seeds: Record<string, number>;
}
