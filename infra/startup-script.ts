/**
 * Pure renderer of the VM's startup script. PLACEHOLDER owned by the VM-runtime engineer: the real
 * body replaces this. Per-run values are read by the script from instance metadata (configs/vm.ts),
 * so the rendered text depends only on these options.
 */
export interface StartupScriptOptions {
  /** Run id, used in log lines before the metadata server answers. */
  runId: string;
}

export function renderStartupScript(opts: StartupScriptOptions): string {
  return `#!/bin/bash\necho "runstack ${opts.runId}: startup script not rendered yet" >&2\nexit 1\n`;
}
