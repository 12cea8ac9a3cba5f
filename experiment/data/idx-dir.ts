import { join } from "node:path";
import { RunstackError } from "../../configs/errors.js";
import { checkPair, decodeImages, decodeLabels, maybeGunzip } from "./idx.js";
import {
  canonicalManifestSha256,
  findIdxFiles,
  type IdxRole,
  MANIFEST_FILE,
  readManifest,
  readVerified,
  resolveDatasetDir,
} from "./manifest.js";
import type { Dataset, LoadedSource } from "./types.js";

/** Both MNIST and Fashion-MNIST have ten classes. */
const NUM_CLASSES = 10;

/**
 * Loads a data directory (or its `<name>/` subfolder): reads the manifest, reads each IDX file
 * once, checks its hash on those same bytes, then decodes it. Nothing unlisted is ever read.
 */
export async function loadIdxDir(opts: { dir: string; name: string }): Promise<LoadedSource> {
  const dir = resolveDatasetDir(opts.dir, opts.name);
  const manifest = await readManifest(dir);
  const manifestPath = join(dir, MANIFEST_FILE);
  if (manifest.name !== opts.name) {
    throw new RunstackError(
      "DATA_INVALID",
      `${manifestPath}: dataset name: expected "${opts.name}", found "${manifest.name}"`,
      {
        hint: `point dataset.dir / --data-dir at the ${opts.name} files, or at a directory holding ${opts.name}/`,
      },
    );
  }
  const roles = findIdxFiles(
    manifest.files.map((f) => f.path),
    `${manifestPath} (files listed)`,
  );
  const bytes = async (role: IdxRole): Promise<{ file: string; data: Uint8Array }> => {
    const entry = manifest.files.find((f) => f.path === roles[role])!;
    const file = join(dir, entry.path);
    return { file, data: await maybeGunzip(await readVerified(dir, entry), file) };
  };
  // Reading and gunzip run off the main thread, so the four files overlap.
  const [trImg, trLab, teImg, teLab] = await Promise.all(
    (["trainImages", "trainLabels", "testImages", "testLabels"] as const).map(bytes),
  );
  const train = toDataset(trImg!, trLab!);
  const test = toDataset(teImg!, teLab!);
  if (train.shape.join("x") !== test.shape.join("x")) {
    throw new RunstackError(
      "DATA_INVALID",
      `${teImg!.file}: image size: expected ${train.shape.slice(0, 2).join("×")} as in ${trImg!.file}, found ${test.shape.slice(0, 2).join("×")}`,
      { hint: "train and test files must come from the same dataset" },
    );
  }
  return {
    source: "idx",
    name: opts.name,
    location: dir,
    manifestSha256: canonicalManifestSha256(manifest),
    train,
    test,
    seeds: {},
  };
}

function toDataset(
  images: { file: string; data: Uint8Array },
  labels: { file: string; data: Uint8Array },
): Dataset {
  const img = decodeImages(images.data, images.file);
  const y = decodeLabels(labels.data, { file: labels.file, numClasses: NUM_CLASSES });
  checkPair({ images: img, labels: y, imagesFile: images.file, labelsFile: labels.file });
  return { x: img.x, y, n: img.n, shape: [img.rows, img.cols, 1], numClasses: NUM_CLASSES };
}
