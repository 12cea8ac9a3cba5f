import type { RoundResult } from "./al/types.js";

/**
 * Progress for long runs: a redrawn one-line bar on a TTY, one plain line per round otherwise
 * (CI logs, the VM's serial log), so a log never fills with carriage-return noise.
 */
export interface Progress {
  trialStart(info: { strategy: string; seed: number; index: number; total: number }): void;
  round(r: RoundResult, plannedRounds: number): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream | NodeJS.WritableStream, isTTY: boolean): Progress {
  let current = { strategy: "", seed: 0, index: 0, total: 0 };
  return {
    trialStart(info) {
      current = info;
      if (!isTTY) stream.write(`trial ${info.index}/${info.total}: ${info.strategy} seed=${info.seed}\n`);
    },
    round(r, planned) {
      const acc = (r.accuracy * 100).toFixed(1);
      const t = r.seconds.train + r.seconds.evaluate + r.seconds.score + r.seconds.select;
      if (isTTY) {
        const width = 20;
        const filled = Math.min(width, Math.round(((r.round + 1) / Math.max(planned, 1)) * width));
        const bar = "#".repeat(filled) + "-".repeat(width - filled);
        stream.write(
          `\r[${bar}] trial ${current.index}/${current.total} ${current.strategy} seed=${current.seed} ` +
            `round ${r.round + 1}/${planned} labels=${r.labels} acc=${acc}%   `,
        );
      } else {
        stream.write(
          `  round ${r.round + 1}/${planned} labels=${r.labels} acc=${acc}% loss=${r.loss.toFixed(3)} ` +
            `(${t.toFixed(2)}s)\n`,
        );
      }
    },
    done() {
      if (isTTY) stream.write("\n");
    },
  };
}
