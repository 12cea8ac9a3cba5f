import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { VM_ATTR } from "../../configs/vm.js";
import { renderStartupScript } from "../../infra/startup-script.js";
import { type GceEmulator, startGceEmulator } from "../harness/gce-emulator.js";
import { type GitServer, gitTestEnv, startGitServer } from "../harness/git-server.js";

/**
 * One emulated VM "world" for end-to-end tests: a real sshd git server whose bare repo holds this
 * working tree's code (so the VM runs the real code), the GCE emulator with the metadata a stack
 * would set, and the real rendered startup script run with bash and only its documented env
 * overrides. node_modules comes from this checkout through RUNSTACK_INSTALL_CMD (no npm ci).
 */
const exec = promisify(execFile);
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CONFIG_PATH = "configs/vm-e2e.yaml";

/**
 * The real CLI on the cpu backend: ~10-20 s here. Two seeds, because the CLI writes run.json at
 * the start and after each trial: a fault after the first trial is "mid-run" with rounds to keep.
 */
export const TINY_CONFIG = `# end-to-end test config (written by test/e2e/vm-world.ts)
name: vm-e2e
dataset: { source: synthetic, samples: 1500, features: 16, classes: 3, testSize: 150 }
model: { kind: mlp, hidden: [32] }
train: { epochs: 3, batchSize: 32 }
al: { strategies: [random], initial: { count: 9 }, querySize: 10, rounds: 60 }
seeds: [1, 2]
backend: cpu
`;

export const LINK_NODE_MODULES = `ln -s ${PROJECT_ROOT}/node_modules node_modules && echo /node_modules >> .git/info/exclude`;

export interface VmWorld {
  dir: string;
  runId: string;
  git: GitServer;
  emu: GceEmulator;
  seedCommit: string;
  configSha256: string;
  deployKey: string;
  script: string;
  workDir: string;
  secretDir: string;
  serialFile: string;
  env: Record<string, string>;
  /** Runs the startup script once ("a boot"); resolves with its exit code and what ps showed meanwhile. */
  /** `during` gets the boot's process group: everything the boot starts (vm-run, the experiment) is in it. */
  boot(o?: {
    env?: Record<string, string>;
    during?: (w: VmWorld, boot: { pgid: number }) => Promise<void>;
  }): Promise<BootResult>;
  /** main's commits in the bare repo, newest first. */
  mainLog(): Promise<string[]>;
  show(rev: string, file: string): Promise<string>;
  bootLog(): string;
  phases(): string[];
  stop(): Promise<void>;
}

export interface BootResult {
  code: number | null;
  /** Every `ps -eo args` line seen on the machine while the script ran (for leak checks: the stricter view). */
  psLines: string[];
  /** The lines of this boot's own process group: what the boot itself ran, not other tests or users. */
  groupPsLines: string[];
  /** Modes of deploy_key files seen in the secret dir while the script ran. */
  keyModes: number[];
}

/** Copies tracked + untracked (not ignored) files of this working tree: what CI's clean clone holds. */
async function seedFromWorkingTree(git: GitServer, dir: string): Promise<string> {
  const src = path.join(dir, "seed");
  const { stdout } = await exec("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: PROJECT_ROOT,
    maxBuffer: 64 << 20,
  });
  for (const f of stdout.split("\0").filter(Boolean)) {
    if (f.startsWith("results/") || !existsSync(path.join(PROJECT_ROOT, f))) continue;
    await mkdir(path.dirname(path.join(src, f)), { recursive: true });
    await copyFile(path.join(PROJECT_ROOT, f), path.join(src, f));
  }
  await mkdir(path.join(src, "results"), { recursive: true });
  await writeFile(path.join(src, "results/.gitkeep"), "");
  await writeFile(path.join(src, CONFIG_PATH), TINY_CONFIG);
  const g = (args: string[]) => exec("git", args, { cwd: src, env: gitTestEnv(), maxBuffer: 64 << 20 });
  await g(["init", "-q", "--initial-branch=main"]);
  await g(["add", "-A"]);
  await g(["commit", "-q", "-m", "seed: runstack working tree for the VM end-to-end test"]);
  await g(["push", "-q", git.bareRepoPath, "HEAD:refs/heads/main"]);
  return (await g(["rev-parse", "HEAD"])).stdout.trim();
}

export async function createVmWorld(o: { runId?: string; deadlineInSec?: number } = {}): Promise<VmWorld> {
  const runId = o.runId ?? "vm-e2e-1";
  const dir = await mkdtemp(path.join(tmpdir(), "runstack-vm-e2e-"));
  const git = await startGitServer({ dir });
  const seedCommit = await seedFromWorkingTree(git, dir);
  const configSha256 = createHash("sha256").update(TINY_CONFIG).digest("hex");
  // Stored exactly as `pulumi config set --secret runstack:deployKey < key` stores it: without the
  // final newline (the CLI strips it), which an ed25519 key cannot be loaded without.
  const deployKey = readFileSync(git.deployKeyPath, "utf8").replace(/\n$/, "");
  const secret = `projects/runstack-test/secrets/runstack-${runId}-deploy-key`;
  const emu = await startGceEmulator({
    instanceName: `runstack-${runId}`,
    secrets: { [secret]: deployKey },
    attributes: {
      [VM_ATTR.runId]: runId,
      [VM_ATTR.stack]: `run-${runId}`,
      [VM_ATTR.repoUrl]: git.url,
      [VM_ATTR.commit]: seedCommit,
      [VM_ATTR.configPath]: CONFIG_PATH,
      [VM_ATTR.configSha256]: configSha256,
      [VM_ATTR.resultsBranch]: "main",
      [VM_ATTR.secret]: secret,
      [VM_ATTR.dataDevice]: "runstack-data",
      [VM_ATTR.dataImage]: "projects/runstack-test/global/images/data-test",
      [VM_ATTR.bootImage]: "projects/debian-cloud/global/images/family/debian-12",
      [VM_ATTR.gpu]: "null",
      [VM_ATTR.spot]: "true",
      [VM_ATTR.deadline]: new Date(Date.now() + (o.deadlineInSec ?? 3600) * 1000).toISOString(),
      [VM_ATTR.nodeVersion]: process.versions.node,
      [VM_ATTR.experimentArgs]: "[]",
      "enable-guest-attributes": "TRUE",
    },
  });
  const workDir = path.join(dir, "work");
  const secretDir = path.join(dir, "shm");
  const dataDir = path.join(dir, "data");
  const serialFile = path.join(dir, "serial.log");
  await mkdir(secretDir, { mode: 0o700 });
  await mkdir(dataDir);
  const script = path.join(dir, "startup-script.sh");
  await writeFile(script, renderStartupScript({ runId }), { mode: 0o700 });
  const env: Record<string, string> = {
    RUNSTACK_METADATA_URL: emu.metadataUrl,
    RUNSTACK_COMPUTE_URL: emu.computeUrl,
    RUNSTACK_SECRETS_URL: emu.secretsUrl,
    RUNSTACK_WORKDIR: workDir,
    RUNSTACK_DATA_MOUNT: dataDir,
    RUNSTACK_INSTALL_CMD: LINK_NODE_MODULES,
    RUNSTACK_KNOWN_HOSTS: git.knownHostsPath,
    RUNSTACK_SECRET_DIR: secretDir,
    RUNSTACK_SERIAL_DEVICE: serialFile,
    RUNSTACK_NODE_DIR: path.join(dir, "node"),
    RUNSTACK_RESCUE_DELAYS: "1 2",
    RUNSTACK_PUSH_RETRY: JSON.stringify({ attempts: 4, baseMs: 300, maxMs: 2000 }),
    RUNSTACK_STOP_GRACE_SECONDS: "15",
  };
  const bareGit = (args: string[]) =>
    exec("git", args, { cwd: git.bareRepoPath, env: gitTestEnv(), maxBuffer: 64 << 20 }).then(
      (r) => r.stdout,
    );

  const groups = new Set<number>();
  const world: VmWorld = {
    dir,
    runId,
    git,
    emu,
    seedCommit,
    configSha256,
    deployKey,
    script,
    workDir,
    secretDir,
    serialFile,
    env,
    async boot(b = {}) {
      // The VM's environment: PATH/HOME only, plus the documented overrides.
      const childEnv = { PATH: process.env.PATH ?? "", HOME: dir, LC_ALL: "C", ...env, ...(b.env ?? {}) };
      // Own process group, so stop() can end a boot a failed test left running (SIGKILL: the script
      // and vm-run deliberately outlive SIGTERM, like on a VM shutting down).
      const child = spawn("bash", [script], {
        env: childEnv,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      if (child.pid !== undefined) groups.add(child.pid);
      child.stdout.resume();
      child.stderr.resume();
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      const psLines: string[] = [];
      const groupPsLines: string[] = [];
      const keyModes: number[] = [];
      let running = true;
      const sampler = (async () => {
        while (running) {
          const ps = await exec("ps", ["-eo", "pgid=,args="], { maxBuffer: 16 << 20 }).catch(() => ({
            stdout: "",
          }));
          for (const line of ps.stdout.split("\n")) {
            const m = /^\s*(\d+)\s(.*)$/.exec(line);
            if (!m) continue;
            psLines.push(m[2]!);
            if (Number(m[1]) === child.pid) groupPsLines.push(m[2]!);
          }
          for (const d of existsSync(secretDir) ? readdirSync(secretDir) : []) {
            const k = path.join(secretDir, d, "deploy_key");
            try {
              keyModes.push(statSync(k).mode & 0o777);
            } catch {
              // not there right now
            }
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const during = b.during ? b.during(world, { pgid: child.pid ?? -1 }) : Promise.resolve();
      const code = await exited;
      if (child.pid !== undefined) groups.delete(child.pid);
      running = false;
      await sampler;
      await during;
      return { code, psLines, groupPsLines, keyModes };
    },
    async mainLog() {
      return (await bareGit(["log", "--format=%H", "main"])).trim().split("\n");
    },
    show: (rev, file) => bareGit(["show", `${rev}:${file}`]),
    bootLog: () => readFileSync(path.join(workDir, "state/boot.log"), "utf8"),
    phases: () => emu.guestWrites.filter((w) => w.key === "runstack/phase").map((w) => w.value),
    async stop() {
      for (const pgid of groups) {
        try {
          process.kill(-pgid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await emu.stop();
      await git.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Polls until pred holds (or throws after timeoutMs). */
export async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 120_000, what = "condition") {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const readText = (p: string) => readFile(p, "utf8");
