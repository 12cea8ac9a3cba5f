/**
 * A real git-over-ssh server for adapter and end-to-end tests: /usr/sbin/sshd on 127.0.0.1 with its
 * own config, host key and a deploy key generated at test time, serving one bare repository.
 *
 * Use it from beforeAll/afterAll so sshd never outlives a failing test:
 *
 *   let server: GitServer;
 *   beforeAll(async () => { server = await startGitServer(); await server.seed({ "README.md": "hi\n" }, "init"); });
 *   afterAll(async () => { await server?.stop(); });
 *
 * stop() kills sshd and every session it forked, then deletes the temp dir. A process-exit hook
 * also SIGKILLs what is still alive if a test run dies before afterAll.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { deployKeySshCommand } from "../../experiment/remote/git.js";

const exec = promisify(execFile);
const SSHD = "/usr/sbin/sshd";
/** Runs "$@" (sshd); kills it at EOF on fd 3 (our stdin pipe); exits when it exits. */
const WATCHDOG =
  'exec 3<&0; "$@" 3<&- & pid=$!; (cat <&3 >/dev/null; kill -KILL "$pid" 2>/dev/null) & wait "$pid"';

export interface GitServer {
  /** ssh://<user>@127.0.0.1:<port>/<abs path>/results.git (user: whoever runs the tests). */
  url: string;
  port: number;
  bareRepoPath: string;
  /** The authorized private key, mode 0600, generated at start; lives only in the temp dir. */
  deployKeyPath: string;
  /** known_hosts with this server's host key, for StrictHostKeyChecking=yes. */
  knownHostsPath: string;
  /** Temp dir holding config, keys, logs and the bare repo. */
  dir: string;
  /** sshd's own log (-e), for debugging a failed connection. */
  logPath: string;
  /** GIT_SSH_COMMAND value using keyPath (default: the deploy key) and this server's known_hosts. */
  sshCommand(keyPath?: string): string;
  /** Runs git in the bare repository (inspection: log, reflog, for-each-ref); resolves stdout. */
  git(args: readonly string[]): Promise<string>;
  /** Creates (or extends) `main` with these files in one commit; resolves the commit id. */
  seed(files: Record<string, string>, message: string): Promise<string>;
  /** Server down: sshd and all live sessions killed, the port refuses connections. */
  pause(): Promise<void>;
  /** Server back on the same port with the same host key. */
  resume(): Promise<void>;
  /** Kills everything and removes the temp dir; safe to call twice. */
  stop(): Promise<void>;
}

/** ed25519 key pair without passphrase at keyPath (+ .pub), mode 0600. */
export async function generateKey(keyPath: string, comment = "runstack-test-key"): Promise<string> {
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyPath]);
  await chmod(keyPath, 0o600);
  return (await readFile(`${keyPath}.pub`, "utf8")).trim();
}

// ---- process bookkeeping: sshd forks (and setsid()s) one process tree per connection ----

const live = new Set<number>();
let exitHookInstalled = false;

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Field 4 (ppid) follows the command name, which may itself contain spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function killTree(pid: number, signal: NodeJS.Signals, includeRoot = true): void {
  // Deepest first; the root last so that it can still reap its children.
  for (const p of [...(includeRoot ? [pid] : []), ...descendants(pid)].reverse()) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pid of live) killTree(pid, "SIGKILL");
  });
}

// ---- network helpers ----

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true once the port answers with an SSH banner, false when refused/closed. */
function probeBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.once("data", (d) => done(d.toString("latin1").startsWith("SSH-")));
    sock.once("error", () => done(false));
    sock.once("close", () => done(false));
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the server ----

export async function startGitServer(opts: { dir?: string } = {}): Promise<GitServer> {
  installExitHook();
  const parent = opts.dir ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(path.join(parent, "runstack-git-server-"));
  const user = userInfo().username;
  const p = (name: string) => path.join(dir, name);
  const hostKey = p("ssh_host_ed25519_key");
  const deployKeyPath = p("deploy_key");
  const knownHostsPath = p("known_hosts");
  const configPath = p("sshd_config");
  const logPath = p("sshd.log");
  const bareRepoPath = p("results.git");

  const gitIn = async (cwd: string, args: readonly string[]) =>
    (await exec("git", [...args], { cwd, env: gitTestEnv(), maxBuffer: 64 << 20 })).stdout;

  try {
    await generateKey(hostKey, "runstack-test-host");
    const deployPub = await generateKey(deployKeyPath, "runstack-test-deploy-key");
    // restrict: no pty, forwarding or rc; command=git-shell: only git-upload-pack/receive-pack, like GitHub.
    await writeFile(
      p("authorized_keys"),
      `restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" ${deployPub}\n`,
      {
        mode: 0o600,
      },
    );
    await mkdir(p("home"));
    await exec("git", ["init", "--bare", "--quiet", "--initial-branch=main", bareRepoPath], {
      env: gitTestEnv(),
    });
    // Bare repos keep no reflog by default; tests read it to prove nothing was force-pushed.
    await gitIn(bareRepoPath, ["config", "core.logAllRefUpdates", "always"]);
    await writeFile(
      configPath,
      [
        "ListenAddress 127.0.0.1",
        `HostKey ${hostKey}`,
        `PidFile ${p("sshd.pid")}`,
        `AuthorizedKeysFile ${p("authorized_keys")}`,
        `AllowUsers ${user}`,
        "AuthenticationMethods publickey",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        // root in CI: key-only login is what prohibit-password allows.
        "PermitRootLogin prohibit-password",
        "UsePAM no",
        // Temp dirs are group/world-writable up the tree; StrictModes would reject the key file.
        "StrictModes no",
        // 16 runs publishing at once must contend on the ref, not be dropped at the door.
        "MaxStartups 128",
        "LoginGraceTime 30",
        "PrintMotd no",
        "LogLevel VERBOSE",
        // The forced command runs through the user's login shell, and bash started by sshd reads
        // ~/.bashrc: an empty HOME keeps a developer's rc files (pyenv, nvm...) out of every push.
        `SetEnv HOME=${p("home")}`,
        "",
      ].join("\n"),
    );
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const port = await freePort();
  const hostPub = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");
  await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${hostPub}\n`);

  let sshd: ChildProcess | null = null;
  let stopped = false;

  const launch = async () => {
    if (process.getuid?.() === 0) {
      // sshd's privilege separation dir; absent in containers that never started the system sshd.
      mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
      chmodSync("/run/sshd", 0o755);
    }
    const logFd = openSync(logPath, "a");
    // Watchdog: sshd is killed when our end of the stdin pipe closes, which the kernel does even
    // when the test process dies by a signal and no exit hook runs.
    const child = spawn(
      "sh",
      ["-c", WATCHDOG, "sh", SSHD, "-D", "-e", "-f", configPath, "-p", String(port)],
      {
        stdio: ["pipe", logFd, logFd],
      },
    );
    closeSync(logFd);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.pid !== undefined) live.add(child.pid);
    child.once("exit", () => child.pid !== undefined && live.delete(child.pid));
    sshd = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await probeBanner(port)) return;
      await Promise.race([delay(50), exited]);
    }
    killTree(child.pid ?? -1, "SIGKILL");
    const tail = (await readFile(logPath, "utf8").catch(() => "")).split("\n").slice(-15).join("\n");
    throw new Error(`sshd did not start on 127.0.0.1:${port} (config ${configPath}); its log:\n${tail}`);
  };

  const kill = async () => {
    const child = sshd;
    sshd = null;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // Abrupt, like a network outage: in-flight sessions die with the listener. The watchdog shell
    // survives this round to reap sshd (an orphaned zombie could linger under a container's init).
    killTree(child.pid, "SIGKILL", false);
    await Promise.race([exited, delay(2000)]);
    killTree(child.pid, "SIGKILL");
    await exited;
    for (let i = 0; i < 100 && (await probeBanner(port)); i++) await delay(20);
  };

  try {
    await launch();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const server: GitServer = {
    url: `ssh://${user}@127.0.0.1:${port}${bareRepoPath}`,
    port,
    bareRepoPath,
    deployKeyPath,
    knownHostsPath,
    dir,
    logPath,
    sshCommand: (keyPath = deployKeyPath) =>
      deployKeySshCommand({ keyPath, knownHostsPath, connectTimeoutSec: 10 }),
    git: (args) => gitIn(bareRepoPath, args),
    async seed(files, message) {
      const work = await mkdtemp(path.join(dir, "seed-"));
      try {
        await exec("git", ["clone", "--quiet", bareRepoPath, work], { env: gitTestEnv() });
        for (const [rel, content] of Object.entries(files)) {
          await mkdir(path.dirname(path.join(work, rel)), { recursive: true });
          await writeFile(path.join(work, rel), content);
        }
        await gitIn(work, ["add", "-A"]);
        await gitIn(work, ["commit", "--quiet", "-m", message]);
        await gitIn(work, ["push", "--quiet", "origin", "HEAD:refs/heads/main"]);
        return (await gitIn(work, ["rev-parse", "HEAD"])).trim();
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
    async pause() {
      if (stopped) throw new Error("git server already stopped");
      await kill();
    },
    async resume() {
      if (stopped) throw new Error("git server already stopped");
      if (sshd === null) await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Environment for the harness's own git calls: fixed identity, no user config surprises. */
export function gitTestEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "test",
    GIT_AUTHOR_EMAIL: "test@localhost",
    GIT_COMMITTER_NAME: "test",
    GIT_COMMITTER_EMAIL: "test@localhost",
    GIT_CONFIG_NOSYSTEM: "1",
  };
}
