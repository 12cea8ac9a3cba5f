import { RunstackError } from "../../configs/errors.js";
import { STRATEGY_NAMES, type StrategyName } from "../../configs/experiment.js";
import { BUILTIN_STRATEGIES } from "./strategies.js";
import type { Strategy } from "./types.js";

/** Valid strategy names, in the order the config schema lists them. */
export function strategyNames(): readonly StrategyName[] {
  return STRATEGY_NAMES;
}

function isStrategyName(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}

/** The strategy registered under `name`; an unknown name is a config error listing the valid ones. */
export function getStrategy(name: string): Strategy {
  if (!isStrategyName(name)) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `al.strategies: unknown strategy ${JSON.stringify(name)}; expected one of: ${STRATEGY_NAMES.join(", ")}`,
      { hint: "fix the name in the config's al.strategies list" },
    );
  }
  return BUILTIN_STRATEGIES[name];
}
