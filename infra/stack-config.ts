import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, DEPLOY_KEY_CONFIG, type StackConfig } from "../configs/stack.js";
import { type ConfigSource, checkDeployKeyText, parseStackConfig } from "./stack-config-parse.js";

/**
 * The only reader of Pulumi config. Both functions throw RunstackError("PULUMI_CONFIG") before the
 * program declares any resource, naming `runstack:<key>` and the `pulumi config` command that fixes it.
 */

/** The current program's config as raw text, the way the language host passed it. */
function pulumiConfigSource(): ConfigSource {
  const all = pulumi.runtime.allConfig();
  return {
    get: (key) => all[`${CONFIG_NAMESPACE}:${key}`],
    keys: () => Object.keys(all),
  };
}

export function readStackConfig(stack: string = pulumi.getStack()): StackConfig {
  return parseStackConfig({ source: pulumiConfigSource(), stack });
}

/**
 * The deploy key as a secret Output: it flows only into the Secret Manager version. Presence and
 * shape are checked synchronously so a missing or mistyped key fails before any resource exists.
 */
export function readDeployKey(stack: string = pulumi.getStack()): pulumi.Output<string> {
  checkDeployKeyText(pulumiConfigSource().get(DEPLOY_KEY_CONFIG), stack);
  return new pulumi.Config(CONFIG_NAMESPACE).requireSecret(DEPLOY_KEY_CONFIG);
}
