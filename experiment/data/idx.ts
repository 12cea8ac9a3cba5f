import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { RunstackError } from "../../configs/errors.js";

/**
 * IDX reader (the MNIST / Fashion-MNIST file format): a 4-byte magic `00 00 <dtype> <ndim>`,
 * ndim big-endian uint32 dimensions, then the values row-major. Only unsigned bytes (0x08) are
 * supported: that is what every MNIST-family file uses, and it lets pixels stay in one Uint8Array
 * until the single float conversion pass.
 */

const UBYTE = 0x08;
const GZIP_MAGIC = [0x1f, 0x8b] as const;
const gunzipAsync = promisify(gunzip);

const DTYPE_NAMES: Record<number, string> = {
  8: "ubyte",
  9: "sbyte",
  11: "int16",
  12: "int32",
  13: "float32",
  14: "float64",
};

export interface IdxArray {
  dims: number[];
  /** A view on the decoded file bytes (no copy). */
  data: Uint8Array;
}

export interface IdxImages {
  n: number;
  rows: number;
  cols: number;
  /** n × rows × cols floats in [0, 1]. */
  x: Float32Array;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * zlib's default 16 KiB output chunks mean thousands of buffers and a final concat for a 47 MB
 * file; sizing one chunk from the gzip trailer (ISIZE: uncompressed size mod 2^32) takes ~40% of
 * the CPU time off. The trailer is only a hint: it is capped by deflate's maximum ratio (~1032:1)
 * so a corrupt trailer cannot make us allocate gigabytes, and a wrong value just means more chunks.
 */
function outputChunkSize(gz: Uint8Array): number {
  const isize = new DataView(gz.buffer, gz.byteOffset, gz.byteLength).getUint32(gz.byteLength - 4, true);
  return Math.max(16 * 1024, Math.min(isize + 1, gz.byteLength * 1032, 1 << 30));
}

/** Decompress when the bytes start with the gzip magic, whatever the file is called. */
export async function maybeGunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes, { chunkSize: outputChunkSize(bytes) });
  } catch (e) {
    throw new RunstackError(
      "DATA_INVALID",
      `${file}: starts with the gzip magic but does not decompress: ${String(e)}`,
      {
        hint: "the file is probably truncated or corrupted; copy it again from its source",
        cause: e,
      },
    );
  }
}

/** Encodes unsigned bytes as IDX (for building small data directories and test fixtures). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`encodeIdx: dims ${dims.join("×")} hold ${count} values, data has ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UBYTE << 8) | dims.length);
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d);
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Parse an (already decompressed) IDX buffer holding unsigned bytes with `expectNdim` dimensions. */
export function parseIdx(bytes: Uint8Array, opts: { file: string; expectNdim: number }): IdxArray {
  const { file, expectNdim } = opts;
  const expectedMagic = (UBYTE << 8) | expectNdim;
  if (bytes.length < 4) {
    throw new RunstackError("DATA_INVALID", `${file}: too short for an IDX header (${bytes.length} bytes)`, {
      hint: "the file is empty or truncated; copy it again from its source",
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new RunstackError(
      "DATA_INVALID",
      `${file}: not an IDX file: expected magic ${hex(expectedMagic)}, found ${hex(magic)}`,
      { hint: "check that the path points to an MNIST-format (IDX) file" },
    );
  }
  const dtype = bytes[2]!;
  const ndim = bytes[3]!;
  if (dtype !== UBYTE) {
    throw new RunstackError(
      "DATA_INVALID",
      `${file}: unsupported IDX dtype: expected 0x08 (ubyte), found 0x${dtype.toString(16).padStart(2, "0")} (${DTYPE_NAMES[dtype] ?? "unknown"})`,
      { hint: "only unsigned-byte IDX files (as MNIST and Fashion-MNIST ship) are supported" },
    );
  }
  if (ndim !== expectNdim) {
    throw new RunstackError(
      "DATA_INVALID",
      `${file}: wrong IDX magic: expected ${hex(expectedMagic)} (${expectNdim} dimensions), found ${hex(magic)} (${ndim} dimensions)`,
      { hint: "images files have 3 dimensions, labels files 1; check the file names are not swapped" },
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new RunstackError(
      "DATA_INVALID",
      `${file}: truncated IDX header: expected ${headerBytes} bytes, found ${bytes.length}`,
      {
        hint: "the file is truncated; copy it again from its source",
      },
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d));
  const count = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - headerBytes;
  if (available < count) {
    const per = count / Math.max(1, dims[0]!);
    const whole = per > 0 ? Math.floor(available / per) : 0;
    throw new RunstackError(
      "DATA_INVALID",
      `${file}: truncated: header says ${dims.join("×")} (${count} bytes of data), file holds ${available} (${whole} complete items)`,
      { hint: "the file is truncated; copy it again from its source" },
    );
  }
  return { dims, data: bytes.subarray(headerBytes, headerBytes + count) };
}

/** Reads a file and decompresses it when gzipped. */
export async function readIdxBytes(path: string): Promise<Uint8Array> {
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (e) {
    throw new RunstackError("DATA_NOT_FOUND", `${path}: cannot read IDX file: ${(e as Error).message}`, {
      hint: "check the data directory (config dataset.dir or --data-dir)",
      cause: e,
    });
  }
  return maybeGunzip(raw, path);
}

/**
 * Bytes 0..255 to floats in [0, 1]: a native u8→f32 copy, then one multiply per value (faster
 * than a lookup table, and for every byte v it rounds to exactly the float32 nearest v/255).
 */
export function bytesToUnitFloats(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  out.set(bytes);
  const scale = 1 / 255;
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return out;
}

export function decodeImages(bytes: Uint8Array, file: string): IdxImages {
  const { dims, data } = parseIdx(bytes, { file, expectNdim: 3 });
  const [n, rows, cols] = dims as [number, number, number];
  return { n, rows, cols, x: bytesToUnitFloats(data) };
}

export function decodeLabels(bytes: Uint8Array, opts: { file: string; numClasses: number }): Int32Array {
  const { data } = parseIdx(bytes, { file: opts.file, expectNdim: 1 });
  const y = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const label = data[i]!;
    if (label >= opts.numClasses) {
      throw new RunstackError(
        "DATA_INVALID",
        `${opts.file}: label out of range at item ${i}: expected 0..${opts.numClasses - 1}, found ${label}`,
        { hint: "the labels file does not belong to this dataset, or it is corrupted" },
      );
    }
    y[i] = label;
  }
  return y;
}

/** Reads an images file (gzipped or not) into floats in [0, 1]. */
export async function readIdxImages(path: string): Promise<IdxImages> {
  return decodeImages(await readIdxBytes(path), path);
}

/** Reads a labels file (gzipped or not), checking every label is in [0, numClasses). */
export async function readIdxLabels(path: string, numClasses: number): Promise<Int32Array> {
  return decodeLabels(await readIdxBytes(path), { file: path, numClasses });
}

/** Images and labels must describe the same items. */
export function checkPair(opts: {
  images: IdxImages;
  labels: Int32Array;
  imagesFile: string;
  labelsFile: string;
}): void {
  if (opts.images.n !== opts.labels.length) {
    throw new RunstackError(
      "DATA_INVALID",
      `${opts.labelsFile}: label count does not match ${opts.imagesFile}: expected ${opts.images.n} labels, found ${opts.labels.length}`,
      { hint: "the images and labels files come from different splits or datasets; use a matching pair" },
    );
  }
}
