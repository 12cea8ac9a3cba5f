/**
 * `npm run bench`: every benchmark in turn, each in its own process so one's memory and tfjs
 * backend state cannot skew the next. Figures are printed; record them in bench/RESULTS.md.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const benches = ["model.ts", "round.ts", "al-select.ts"];
console.log(
  `machine: ${cpus().length} cpus (${cpus()[0]?.model ?? "?"}), node ${process.version}, ${new Date().toISOString()}`,
);
let failed = 0;
for (const b of benches) {
  console.log(`\n=== bench/${b}`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, b)], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    console.log(`bench/${b} exited ${r.status}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
