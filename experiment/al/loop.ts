import { RunstackError } from "../../configs/errors.js";
import type { AlConfig, StrategyName } from "../../configs/experiment.js";
import { deriveSeed, mulberry32 } from "../rng.js";
import { aubc } from "./metrics.js";
import { chooseInitialSet, Pool, subsample } from "./pool.js";
import { getStrategy } from "./registry.js";
import { acquisitionSize } from "./schedule.js";
import { gatherInput } from "./scoring.js";
import type { Learner, RoundResult, Strategy, TrialResult } from "./types.js";

export interface RunTrialOptions {
  strategy: Strategy;
  seed: number;
  /** Label of every pool row; the pool size is its length. */
  poolLabels: Int32Array;
  numClasses: number;
  al: AlConfig;
  learner: Learner;
  /** Clock for the per-round timings, in milliseconds (default performance.now). */
  now?: () => number;
  onRound?: (r: RoundResult) => void;
  signal?: AbortSignal;
}

/**
 * Thrown by runTrial when the learner, a strategy or a callback throws. It carries the partial
 * trial (status "failed", the rounds completed before the error) so the caller can still record
 * the curve; `cause` is the original error, untouched (a RunstackError keeps its code).
 */
export class TrialFailedError extends Error {
  readonly trial: TrialResult;
  constructor(trial: TrialResult, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`${trial.strategy}, seed ${trial.seed}: failed in round ${trial.rounds.length}: ${why}`, { cause });
    this.name = "TrialFailedError";
    this.trial = trial;
  }
}

/**
 * One (strategy, seed) trial. Round r: reset or keep weights, fit on the labelled set, evaluate,
 * and unless it is the last round, score the candidates and acquire up to al.querySize of them.
 * al.rounds counts acquisitions, so a trial has at most al.rounds + 1 evaluated rounds; it also
 * ends when the labelled set reaches al.budget or the pool runs out of unlabelled rows.
 *
 * Random streams: every one is deriveSeed(seed, ...labels) and is recorded in derivedSeeds under
 * labels.join("/") (e.g. "al/fit/3"), so deriveSeed(seed, ..."al/fit/3".split("/")) replays it.
 * None depends on the strategy: the initial set and each round's fit seed are the same for every
 * strategy of a seed, and learner.resetWeights() gives the same starting weights.
 *
 * Returns status "completed", or "interrupted" (with the fully completed rounds) once `signal` is
 * aborted; any error becomes a TrialFailedError.
 */
export async function runTrial(opts: RunTrialOptions): Promise<TrialResult> {
  const { strategy, seed, poolLabels, numClasses, al, learner } = opts;
  const now = opts.now ?? (() => performance.now());
  const derivedSeeds: Record<string, number> = {};
  const derive = (...labels: (string | number)[]): number => {
    const value = deriveSeed(seed, ...labels);
    derivedSeeds[labels.join("/")] = value;
    return value;
  };
  const rounds: RoundResult[] = [];
  let initialIndices: number[] = [];
  const result = (status: TrialResult["status"]): TrialResult => {
    const last = rounds[rounds.length - 1];
    return {
      strategy: strategy.name,
      seed,
      derivedSeeds,
      initialIndices,
      rounds,
      status,
      summary:
        status === "completed" && last !== undefined
          ? { finalAccuracy: last.accuracy, finalLabels: last.labels, aubc: aubc(rounds) }
          : null,
    };
  };
  const aborted = (): boolean => opts.signal?.aborted === true;
  const seconds = (since: number): number => (now() - since) / 1000;

  try {
    checkInputs(opts);
    const initial = chooseInitialSet({
      labels: poolLabels,
      numClasses,
      count: al.initial.count,
      classBalanced: al.initial.classBalanced,
      rand: mulberry32(derive("al", "initial")),
    });
    initialIndices = Array.from(initial);
    const pool = new Pool(poolLabels.length);
    pool.reveal(initial);
    learner.resetWeights();

    for (let round = 0; ; round++) {
      if (aborted()) return result("interrupted");
      if (round > 0 && al.reset === "initial") learner.resetWeights();
      const labelled = pool.labelled();
      let t = now();
      const { loss: trainLoss } = await learner.fit(labelled, derive("al", "fit", round));
      const train = seconds(t);
      if (aborted()) return result("interrupted");
      t = now();
      const { accuracy, loss } = await learner.evaluate();
      const evaluate = seconds(t);

      let score = 0;
      let select = 0;
      let selected: number[] = [];
      const k = acquisitionSize({ al, round, labelled: pool.labelledCount, poolSize: pool.size });
      if (k > 0) {
        if (aborted()) return result("interrupted");
        const unlabelled = pool.unlabelled();
        const candidates =
          al.poolSubsample > 0
            ? subsample(unlabelled, al.poolSubsample, mulberry32(derive("al", "subsample", round)))
            : unlabelled;
        const want = Math.min(k, candidates.length);
        t = now();
        const input = await gatherInput({
          strategy,
          learner,
          candidates,
          labelled,
          k: want,
          numClasses,
          rand: mulberry32(derive("al", "select", round)),
          mcPasses: al.mcPasses,
          mcSeed: () => derive("al", "mc", round),
        });
        score = seconds(t);
        if (aborted()) return result("interrupted");
        t = now();
        const positions = strategy.select(input);
        select = seconds(t);
        checkPositions(strategy.name, positions, want, candidates.length);
        selected = Array.from(positions, (p) => candidates[p]!);
      }

      const r: RoundResult = {
        round,
        labels: labelled.length,
        accuracy,
        loss,
        trainLoss,
        seconds: { train, evaluate, score, select },
        selected,
      };
      rounds.push(r);
      opts.onRound?.(r);
      if (selected.length === 0) return result("completed");
      pool.reveal(selected);
    }
  } catch (e) {
    // A learner that honours the same signal may reject with an AbortError: that is an interrupt.
    if (aborted() && (e === opts.signal?.reason || (e instanceof Error && e.name === "AbortError"))) {
      return result("interrupted");
    }
    throw new TrialFailedError(result("failed"), e);
  }
}

function checkInputs(opts: RunTrialOptions): void {
  const { al, learner, numClasses } = opts;
  if (learner.numClasses !== numClasses) {
    throw new RunstackError(
      "LEARNER_OUTPUT",
      `the learner predicts ${learner.numClasses} classes but the training pool has ${numClasses}`,
      { hint: "build the learner from the same split as the pool labels" },
    );
  }
  if (al.poolSubsample > 0 && al.poolSubsample < al.querySize) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `al.poolSubsample is ${al.poolSubsample} but al.querySize is ${al.querySize}: each round must score at least as many candidates as it acquires`,
      { hint: `set al.poolSubsample >= ${al.querySize}, or 0 to score the whole pool` },
    );
  }
}

/** A strategy must return `want` distinct in-range positions; anything else is a bug in it. */
function checkPositions(name: StrategyName, positions: Int32Array, want: number, n: number): void {
  if (positions.length !== want) {
    throw new Error(`strategy ${name} returned ${positions.length} positions; expected ${want}`);
  }
  const seen = new Set<number>();
  for (const p of positions) {
    if (p < 0 || p >= n || seen.has(p)) {
      throw new Error(`strategy ${name} returned position ${p}: out of [0, ${n}) or repeated`);
    }
    seen.add(p);
  }
}

/** What loadSeed provides for one seed: its pool labels and a learner built on that seed's split. */
export interface SeedSetup {
  poolLabels: Int32Array;
  numClasses: number;
  learner: Learner;
  /** Seeds the caller derived for this seed (split, weights...): merged into each trial's record. */
  derivedSeeds?: Record<string, number>;
}

export interface RunExperimentOptions {
  al: AlConfig;
  seeds: readonly number[];
  /** Names are looked up with getStrategy; Strategy objects are used as given. Default al.strategies. */
  strategies?: readonly (StrategyName | Strategy)[];
  loadSeed: (seed: number) => Promise<SeedSetup>;
  now?: () => number;
  onTrialStart?: (strategy: StrategyName, seed: number) => void;
  onRound?: (r: RoundResult, trial: { strategy: StrategyName; seed: number }) => void;
  /** Awaited after every trial, partial ones included (e.g. to rewrite the run record). */
  onTrialEnd?: (trial: TrialResult) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface ExperimentOutcome {
  status: TrialResult["status"];
  /** Every trial that started, in run order; a failed or interrupted one is last. */
  trials: TrialResult[];
  /** Why the run failed, as thrown (a RunstackError keeps its code): from a trial, loadSeed, dispose or onTrialEnd. */
  error?: unknown;
  /** The trial the error came from, when it came from one. */
  failedTrial?: { strategy: StrategyName; seed: number; round: number };
}

/**
 * seeds × strategies, seed-major: one learner per seed, shared by that seed's strategies (each
 * trial starts with resetWeights) and disposed after them. Stops at the first failure (a broken
 * learner or data usually breaks every later trial too, and on a VM that time is paid for) and on
 * abort. Never rejects for a failure during the run; only an unknown strategy name throws, up front.
 */
export async function runExperiment(opts: RunExperimentOptions): Promise<ExperimentOutcome> {
  const strategies = (opts.strategies ?? opts.al.strategies).map((s) =>
    typeof s === "string" ? getStrategy(s) : s,
  );
  const trials: TrialResult[] = [];
  const aborted = (): boolean => opts.signal?.aborted === true;

  for (const seed of opts.seeds) {
    if (aborted()) return { status: "interrupted", trials };
    let setup: SeedSetup;
    try {
      setup = await opts.loadSeed(seed);
    } catch (error) {
      return { status: "failed", trials, error };
    }
    let outcome: ExperimentOutcome | undefined;
    try {
      for (const strategy of strategies) {
        if (aborted()) {
          outcome = { status: "interrupted", trials };
          break;
        }
        opts.onTrialStart?.(strategy.name, seed);
        let trial: TrialResult;
        let failure: { error: unknown } | undefined;
        try {
          trial = await runTrial({
            strategy,
            seed,
            poolLabels: setup.poolLabels,
            numClasses: setup.numClasses,
            al: opts.al,
            learner: setup.learner,
            now: opts.now,
            onRound: opts.onRound && ((r) => opts.onRound?.(r, { strategy: strategy.name, seed })),
            signal: opts.signal,
          });
        } catch (e) {
          if (!(e instanceof TrialFailedError)) throw e;
          trial = e.trial;
          failure = { error: e.cause };
        }
        trial = { ...trial, derivedSeeds: { ...setup.derivedSeeds, ...trial.derivedSeeds } };
        trials.push(trial);
        await opts.onTrialEnd?.(trial);
        if (failure !== undefined) {
          const failedTrial = { strategy: strategy.name, seed, round: trial.rounds.length };
          outcome = { status: "failed", trials, error: failure.error, failedTrial };
          break;
        }
        if (trial.status === "interrupted") {
          outcome = { status: "interrupted", trials };
          break;
        }
      }
    } catch (error) {
      outcome = { status: "failed", trials, error };
    }
    try {
      setup.learner.dispose();
    } catch (error) {
      outcome ??= { status: "failed", trials, error };
    }
    if (outcome !== undefined) return outcome;
  }
  return { status: "completed", trials };
}
