/**
 * Prints how long the dataset sources take to load (wall and CPU time, which differ on a shared
 * machine). Run: npx tsx experiment/data/load.bench.ts [fashion-mnist-dir]
 */
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatasetConfig } from "../../configs/experiment.js";
import { loadSource, splitForSeed, writeManifest } from "./index.js";

async function timed<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const out = await fn();
  const used = process.cpuUsage(cpu);
  const ms = (performance.now() - wall).toFixed(0);
  console.log(
    `${label.padEnd(44)} wall ${ms.padStart(5)} ms   cpu ${((used.user + used.system) / 1000).toFixed(0).padStart(5)} ms`,
  );
  return out;
}

const systemDir = process.argv[2] ?? "/usr/share/datasets/fashion-mnist";
const dir = mkdtempSync(join(tmpdir(), "runstack-bench-"));
try {
  for (const f of readdirSync(systemDir)) symlinkSync(join(systemDir, f), join(dir, f));
  await timed("writeManifest (hash 4 files, 30 MB gz)", () => writeManifest(dir, "fashion-mnist"));
  const idx = DatasetConfig.parse({ source: "idx", name: "fashion-mnist", dir });
  for (let i = 1; i <= 3; i++) {
    const src = await timed(`idx fashion-mnist 60k+10k gz load #${i}`, () => loadSource(idx));
    await timed("  split 1% (seed 1)", () => splitForSeed(src, { ...idx, fraction: 0.01 }, 1));
    await timed("  split 100% (seed 1, shares arrays)", () => splitForSeed(src, idx, 1));
  }
  const emb = DatasetConfig.parse({ source: "embedded" });
  const e = await timed("embedded mnist 10k load (first, cold)", () => loadSource(emb));
  await timed("embedded load (cached)", () => loadSource(emb));
  await timed("  split default (2000 test / 8000 pool)", () => splitForSeed(e, emb, 1));
  const syn = DatasetConfig.parse({ source: "synthetic", samples: 10000, features: 64, classes: 10 });
  await timed("synthetic blobs 10k×64 generate", () => loadSource(syn));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
