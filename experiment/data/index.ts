import { RunstackError } from "../../configs/errors.js";
import type { DatasetConfig } from "../../configs/experiment.js";
import { loadEmbedded } from "./embedded.js";
import { loadIdxDir } from "./idx-dir.js";
import { generateBlobs } from "./synthetic.js";
import type { LoadedSource } from "./types.js";

/**
 * The dataset entry point: `loadSource` does the I/O once per run, `splitForSeed` (pure) derives
 * each seed's pool and test set from it, so a run with several seeds reads its files once.
 */

export { type Manifest, verifyManifest, writeManifest } from "./manifest.js";
export { splitForSeed } from "./split.js";
export type { Dataset, DatasetIdentity, LoadedSource, SplitData } from "./types.js";

export async function loadSource(cfg: DatasetConfig, opts: { dataDir?: string } = {}): Promise<LoadedSource> {
  switch (cfg.source) {
    case "embedded": {
      const e = await loadEmbedded();
      return {
        source: "embedded",
        name: cfg.name,
        location: e.location,
        manifestSha256: e.manifestSha256,
        train: e.dataset,
        test: null,
        seeds: {},
      };
    }
    case "synthetic": {
      const s = generateBlobs({ samples: cfg.samples, features: cfg.features, classes: cfg.classes });
      return {
        source: "synthetic",
        name: cfg.name,
        location: s.location,
        manifestSha256: s.manifestSha256,
        train: s.dataset,
        test: null,
        seeds: { "data.generator": s.seed },
      };
    }
    case "idx": {
      const dir = opts.dataDir ?? cfg.dir;
      if (dir === undefined) {
        throw new RunstackError(
          "DATA_NOT_FOUND",
          `dataset.source is "idx" (${cfg.name}) but no data directory was given`,
          {
            hint: "pass --data-dir <dir> or set dataset.dir in the config (a directory with the IDX files and manifest.json, or with a subfolder per dataset)",
          },
        );
      }
      return loadIdxDir({ dir, name: cfg.name });
    }
  }
}
