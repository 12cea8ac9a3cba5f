import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { access, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, generateKey, gitTestEnv, startGitServer } from "./git-server.js";

const exec = promisify(execFile);

let server: GitServer;
let work: string;

beforeAll(async () => {
  server = await startGitServer();
  work = await mkdtemp(path.join(tmpdir(), "runstack-git-server-test-"));
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const gitVia = (sshCommand: string, args: string[], cwd = work) =>
  exec("git", args, { cwd, env: { ...gitTestEnv(), GIT_SSH_COMMAND: sshCommand } });

/** A zombie (state Z) is dead for our purposes: it runs nothing and holds no port. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });

describe("startGitServer", () => {
  it("serves the seeded bare repository over ssh with the deploy key and a pinned host key", async () => {
    const first = await server.seed({ "README.md": "# hi\n", "a/b.txt": "x\n" }, "seed");
    const second = await server.seed({ "NOTES.md": "more\n" }, "seed 2");
    expect(server.url).toMatch(new RegExp(`^ssh://[^@]+@127\\.0\\.0\\.1:${server.port}/`));
    expect((await stat(server.deployKeyPath)).mode & 0o777).toBe(0o600);
    await gitVia(server.sshCommand(), ["clone", "--quiet", server.url, "c1"]);
    expect(await readFile(path.join(work, "c1", "a", "b.txt"), "utf8")).toBe("x\n");
    const log = (
      await exec("git", ["-C", path.join(work, "c1"), "log", "--format=%H", "main"])
    ).stdout.trim();
    expect(log.split("\n")).toEqual([second, first]);
  });

  it("rejects a key that is not the deploy key", async () => {
    const other = path.join(work, "other_key");
    await generateKey(other);
    await expect(gitVia(server.sshCommand(other), ["ls-remote", server.url])).rejects.toThrow(
      /Permission denied \(publickey/,
    );
  });

  it("rejects a server whose host key is not in known_hosts", async () => {
    const empty = path.join(work, "empty_known_hosts");
    await writeFile(empty, "");
    const cmd = server.sshCommand().replace(server.knownHostsPath, empty);
    await expect(gitVia(cmd, ["ls-remote", server.url])).rejects.toThrow(/Host key verification failed/);
  });

  it("gives the deploy key git only: no shell command runs", async () => {
    const marker = path.join(work, "pwned");
    const ssh = server.sshCommand().split(" ");
    // sshCommand is meant for a shell; run it through one with a command that would create a file.
    await expect(
      exec("sh", ["-c", `${ssh.join(" ")} -p ${server.port} 127.0.0.1 touch '${marker}'`]),
    ).rejects.toThrow();
    await expect(access(marker)).rejects.toThrow();
  });

  it("pause refuses connections, resume serves again on the same port with the same host key", async () => {
    await server.pause();
    expect(await refused(server.port)).toBe(true);
    await expect(gitVia(server.sshCommand(), ["ls-remote", server.url])).rejects.toThrow(
      /Connection refused/,
    );
    await server.resume();
    const { stdout } = await gitVia(server.sshCommand(), ["ls-remote", server.url]);
    expect(stdout).toMatch(/refs\/heads\/main/);
  });

  it("stop kills sshd, frees the port and removes its files; stop twice is fine", async () => {
    const s = await startGitServer({ dir: work });
    expect(s.dir.startsWith(work)).toBe(true);
    const pid = Number((await readFile(path.join(s.dir, "sshd.pid"), "utf8")).trim());
    expect(pid).toBeGreaterThan(0);
    await s.stop();
    await s.stop();
    expect(running(pid)).toBe(false);
    expect(await refused(s.port)).toBe(true);
    await expect(access(s.dir)).rejects.toThrow();
  });
});

describe("leftovers", () => {
  it("sshd dies with the process that started it, even one killed by SIGKILL (no exit hook runs)", async () => {
    const script = path.join(work, "holder.mts");
    const harness = path.resolve("test/harness/git-server.ts");
    await writeFile(
      script,
      `import { readFileSync } from "node:fs";\nimport { startGitServer } from ${JSON.stringify(harness)};\n` +
        `const s = await startGitServer();\nconsole.log(readFileSync(s.dir + "/sshd.pid", "utf8").trim() + " " + s.port + " " + s.dir);\n` +
        "setInterval(() => {}, 1000);\n",
    );
    const holder = spawn(process.execPath, ["--import", "tsx", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      holder.stdout.once("data", (d) => resolve(String(d).trim()));
      holder.once("exit", (code) => reject(new Error(`holder exited early with ${code}`)));
    });
    const [pid, port, dir] = line.split(" ");
    expect(running(Number(pid))).toBe(true);
    holder.kill("SIGKILL");
    for (let i = 0; i < 100 && running(Number(pid)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(running(Number(pid))).toBe(false);
    expect(await refused(Number(port))).toBe(true);
    await rm(dir!, { recursive: true, force: true });
  });
});
