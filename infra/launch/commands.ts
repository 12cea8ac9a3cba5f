import { CONFIG_NAMESPACE, DEPLOY_KEY_CONFIG } from "../../configs/stack.js";
import { stackNameOf } from "./run-id.js";

/**
 * The pulumi commands of a run's lifecycle, as data: printed for the user without --up, executed
 * by the CLI port with --up. One definition, so what is printed is exactly what would run.
 */

export interface PulumiStep {
  /** Arguments after `pulumi`. */
  args: string[];
  /** The deploy key goes to the process on stdin, never on the command line. */
  stdin?: "deployKey";
  /** Why this step exists, printed above it. */
  why: string;
}

export interface LaunchStepsOptions {
  runId: string;
  /** `passphrase`, `gcpkms://...`, ... (see `pulumi stack init --help`). */
  secretsProvider: string;
}

export const DEPLOY_KEY_REF = `${CONFIG_NAMESPACE}:${DEPLOY_KEY_CONFIG}`;

export function launchSteps({ runId, secretsProvider }: LaunchStepsOptions): {
  setup: PulumiStep[];
  preview: PulumiStep;
  up: PulumiStep;
} {
  const s = stackNameOf(runId);
  return {
    setup: [
      {
        // --no-select: never rewrite the workspace's current stack, so parallel launches cannot race on it.
        args: ["stack", "init", s, "--secrets-provider", secretsProvider, "--no-select"],
        why: "create the stack (it picks up the stack file written above)",
      },
      {
        args: ["config", "set", "--secret", DEPLOY_KEY_REF, "-s", s],
        stdin: "deployKey",
        why: "store the deploy key as an encrypted stack secret (read from stdin, never from argv)",
      },
    ],
    preview: { args: ["preview", "-s", s], why: "review what will be created" },
    up: {
      args: ["up", "--yes", "--non-interactive", "-s", s],
      why: "create the run's resources; the VM starts",
    },
  };
}

export function destroyStep(runId: string): PulumiStep {
  return {
    args: ["destroy", "--refresh", "--remove", "--yes", "--non-interactive", "-s", stackNameOf(runId)],
    why: "delete what the run left (data disk, identity, secret) and remove the stack",
  };
}

/** How a step reads in a shell: `pulumi ... < KEYFILE` for stdin steps. */
export function showStep(step: PulumiStep, deployKeyPath = "KEYFILE"): string {
  const cmd = ["pulumi", ...step.args].map(shellQuote).join(" ");
  return step.stdin === "deployKey" ? `${cmd} < ${shellQuote(deployKeyPath)}` : cmd;
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The secrets-provider note: what the user must have set for `stack init` to work. */
export function secretsProviderNote(secretsProvider: string): string {
  if (secretsProvider === "passphrase") {
    return "secrets provider 'passphrase': export PULUMI_CONFIG_PASSPHRASE_FILE=<file> (or PULUMI_CONFIG_PASSPHRASE) first; everyone who manages the run needs the same passphrase";
  }
  if (secretsProvider.startsWith("gcpkms://")) {
    return `secrets provider ${secretsProvider}: your gcloud credentials need cloudkms.cryptoKeyVersions.useToEncrypt/useToDecrypt on that key`;
  }
  return `secrets provider ${secretsProvider}`;
}
