/**
 * Typed errors with stable codes. Only the CLI entry turns them into exit codes; anything that is
 * not a RunstackError is an internal bug and is printed as one.
 */
export type ErrorCode =
  | "CONFIG_NOT_FOUND"
  | "CONFIG_PARSE"
  | "CONFIG_INVALID"
  | "USAGE"
  | "DATA_NOT_FOUND"
  | "DATA_INVALID"
  | "MANIFEST_MISMATCH"
  | "BACKEND_UNAVAILABLE"
  | "RECORD_EXISTS"
  | "OUTPUT_UNWRITABLE"
  | "RECORD_INVALID"
  | "RECORD_NOT_FOUND"
  | "GIT"
  | "GIT_DIRTY"
  | "GIT_COMMIT_NOT_ON_REMOTE"
  | "PULUMI_CONFIG"
  | "PULUMI_CLI_MISSING"
  | "PULUMI_FAILED"
  | "STACK_NOT_FOUND"
  | "UNSAFE_TO_DESTROY"
  | "METADATA"
  | "PUSH_FAILED"
  /** publish refused before any push: files outside results/<run-id>/, empty folder, key material. */
  | "PUBLISH_REFUSED"
  /** the learner returned output of the wrong shape or non-finite values (e.g. a diverged model). */
  | "LEARNER_OUTPUT"
  | "INTERRUPTED";

export class RunstackError extends Error {
  readonly code: ErrorCode;
  /** What the user can do about it, printed after the message. */
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "RunstackError";
    this.code = code;
    this.hint = opts.hint;
  }
}

export function isRunstackError(e: unknown): e is RunstackError {
  return e instanceof RunstackError;
}
