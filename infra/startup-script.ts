/**
 * Pure renderer of the VM's startup script. Per-run values are read by the script from instance
 * metadata (configs/vm.ts), so the rendered text depends only on these options.
 *
 * The bash does only what must survive Node not starting: phase reporting, key fetch, clone,
 * data mount, Node + dependency install, and the EXIT trap that rescues results (plain-git push,
 * else park the boot disk) and deletes the VM. Everything else is experiment/remote/vm-run.ts.
 *
 * Env overrides (for the local harness; none is set on a real VM):
 *   RUNSTACK_METADATA_URL   metadata server base            (VM_DEFAULTS.metadataUrl)
 *   RUNSTACK_COMPUTE_URL    Compute API base                (VM_DEFAULTS.computeUrl)
 *   RUNSTACK_SECRETS_URL    Secret Manager API base         (VM_DEFAULTS.secretsUrl)
 *   RUNSTACK_WORKDIR        clone + state (survives reboot)  (VM_DEFAULTS.workDir)
 *   RUNSTACK_DATA_MOUNT     data mount point; an existing directory given here is used as is,
 *                           nothing is mounted              (VM_DEFAULTS.dataMount)
 *   RUNSTACK_INSTALL_CMD    dependency install, run in the clone (default: opts.installCommand)
 *   RUNSTACK_KNOWN_HOSTS    known_hosts file for the git host (default: GitHub's published keys)
 *   RUNSTACK_SECRET_DIR     parent of the 0700 key directory (default /dev/shm, a tmpfs)
 *   RUNSTACK_SERIAL_DEVICE  where phase markers are also written (default /dev/ttyS0)
 *   RUNSTACK_NODE_DIR       where Node is unpacked when missing (default /opt/runstack/node)
 *   RUNSTACK_NODE_DIST_URL  Node download base (default https://nodejs.org/dist)
 *   RUNSTACK_RESCUE_DELAYS  seconds between the trap's plain-git push tries (default "5 15 45")
 * plus the vm-run timing knobs it passes through (see experiment/remote/vm-env.ts).
 */
import { RunstackError } from "../configs/errors.js";
import { RUN_ID_RE } from "../configs/stack.js";
import { GUEST_KEYS, GUEST_NAMESPACE, SERIAL_MARKER, VM_ATTR, VM_DEFAULTS } from "../configs/vm.js";

export interface StartupScriptOptions {
  /** Run id: the script refuses to run on a VM whose metadata names another run. */
  runId: string;
  /** known_hosts lines for the git host; default GitHub's published host keys. */
  knownHosts?: string;
  /** Dependency install command run in the clone; default `npm ci`. */
  installCommand?: string;
}

/** From https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/githubs-ssh-key-fingerprints */
export const GITHUB_KNOWN_HOSTS = [
  "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  "github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
  "github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk=",
].join("\n");

/** vm-run's exit codes, the only channel by which Node tells the trap whether results are safe. */
export const VM_RUN_EXIT = { pushed: 0, parked: 3 } as const;

const KNOWN_HOSTS_LINE = /^[^\s#]+ [a-z0-9-]+ [A-Za-z0-9+/=]+$/;
/** Escapes text for use inside a double-quoted bash word. */
const dq = (s: string) => s.replace(/[\\"$`}]/g, (c) => `\\${c}`);

export function renderStartupScript(opts: StartupScriptOptions): string {
  if (!RUN_ID_RE.test(opts.runId)) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `startup script: run id '${opts.runId}' does not match ${RUN_ID_RE}`,
      {
        hint: "use the run id validated by configs/stack.ts",
      },
    );
  }
  const knownHosts = (opts.knownHosts ?? GITHUB_KNOWN_HOSTS).trim();
  const bad = knownHosts.split("\n").find((l) => !KNOWN_HOSTS_LINE.test(l.trim()));
  if (bad !== undefined) {
    throw new RunstackError(
      "CONFIG_INVALID",
      `startup script: known_hosts line '${bad}' is not '<host> <type> <base64>'`,
    );
  }
  const install = opts.installCommand ?? "npm ci --no-audit --no-fund";
  const ga = (k: string) => `$MD/instance/guest-attributes/${GUEST_NAMESPACE}/${k}`;
  return `#!/bin/bash
# runstack startup script for run ${opts.runId}. Rendered by infra/startup-script.ts (edit that).
# GCE runs it as root on EVERY boot: a marker in the work dir keeps a second boot from starting a
# second experiment. The EXIT trap deletes the VM only once results are pushed or parked.
set -uo pipefail
umask 077
RUN_ID=${opts.runId}
MD="\${RUNSTACK_METADATA_URL:-${VM_DEFAULTS.metadataUrl}}"
COMPUTE="\${RUNSTACK_COMPUTE_URL:-${VM_DEFAULTS.computeUrl}}"
SECRETS="\${RUNSTACK_SECRETS_URL:-${VM_DEFAULTS.secretsUrl}}"
WORK="\${RUNSTACK_WORKDIR:-${VM_DEFAULTS.workDir}}"
DATA="\${RUNSTACK_DATA_MOUNT:-${VM_DEFAULTS.dataMount}}"
INSTALL_CMD="\${RUNSTACK_INSTALL_CMD:-${dq(install)}}"
NODE_DIR="\${RUNSTACK_NODE_DIR:-/opt/runstack/node}"
NODE_DIST="\${RUNSTACK_NODE_DIST_URL:-https://nodejs.org/dist}"
SERIAL="\${RUNSTACK_SERIAL_DEVICE:-/dev/ttyS0}"
STATE="$WORK/state" REPO="$WORK/repo" VM_RC=none
mkdir -p "$STATE" && chmod 700 "$WORK" "$STATE" || exit 1
exec > >(tee -a "$STATE/boot.log") 2>&1
SEC=$(mktemp -d "\${RUNSTACK_SECRET_DIR:-/dev/shm}/runstack.XXXXXX") || SEC=$(mktemp -d /run/runstack.XXXXXX) || exit 1
KEY="$SEC/deploy_key" KH="$SEC/known_hosts"
export RUNSTACK_METADATA_URL="$MD" RUNSTACK_COMPUTE_URL="$COMPUTE" RUNSTACK_SECRETS_URL="$SECRETS"
export RUNSTACK_WORKDIR="$WORK" RUNSTACK_DATA_MOUNT="$DATA" RUNSTACK_SERIAL_DEVICE="$SERIAL"
export RUNSTACK_STATE_DIR="$STATE" RUNSTACK_REPO_DIR="$REPO" RUNSTACK_KEY_FILE="$KEY" RUNSTACK_KNOWN_HOSTS_FILE="$KH"
export GIT_SSH_COMMAND="ssh -F /dev/null -i $KEY -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$KH -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=15"
if [ -n "\${RUNSTACK_KNOWN_HOSTS:-}" ]; then cp "$RUNSTACK_KNOWN_HOSTS" "$KH"; else cat >"$KH" <<'KNOWN_HOSTS'
${knownHosts}
KNOWN_HOSTS
fi

mdget() { curl -sSf --retry 5 --retry-connrefused --retry-delay 1 -H 'Metadata-Flavor: Google' "$MD/$1"; }
attr() { mdget "instance/attributes/$1" 2>/dev/null; }
gput() { curl -sf -X PUT -H 'Metadata-Flavor: Google' --data-binary "$2" "${ga("$1")}" >/dev/null 2>&1 || true; }
phase() { # phase [detail]: guest attributes + a serial-log marker line
  local line="${SERIAL_MARKER} phase=$1 run=$RUN_ID\${2:+ detail=$2}"
  echo "$line"; { [ -w "$SERIAL" ] && echo "$line" >>"$SERIAL"; } 2>/dev/null
  gput ${GUEST_KEYS.phase} "$1"; gput ${GUEST_KEYS.detail} "\${2:-}"; echo "$1" >"$STATE/phase"
}
fail() { phase failed "$1"; exit 1; }
# A curl header file, so the token never appears in any process's argv.
auth() { mdget instance/service-accounts/default/token | sed -n 's/.*"access_token" *: *"\\([^"]*\\)".*/Authorization: Bearer \\1/p' >"$SEC/auth" && [ -s "$SEC/auth" ]; }
# The key goes from the HTTP body through pipes to a 0600 file: never echoed, never in argv.
fetch_key() {
  local secret; secret=$(attr ${VM_ATTR.secret}) && auth || return 1
  curl -sSf --retry 5 -H @"$SEC/auth" "$SECRETS/$secret/versions/latest:access" \\
    | sed -n 's/.*"data" *: *"\\([^"]*\\)".*/\\1/p' | base64 -d >"$KEY" && [ -s "$KEY" ] || return 1
  # \`pulumi config set --secret < key\` strips the final newline, and OpenSSH refuses an
  # ed25519 key without it ("error in libcrypto"): put it back.
  [ -z "$(tail -c1 "$KEY")" ] || echo >>"$KEY"
}
ident() { NAME=$(mdget instance/name) && ZONE=$(mdget instance/zone) && ZONE=\${ZONE##*/} && PROJECT=$(mdget project/project-id); }
api() { curl -sSf --retry 3 -X "$1" -H @"$SEC/auth" "$COMPUTE/projects/$PROJECT/zones/$ZONE/$2"; }
# Parking: the boot disk (clone, unpushed result commit) outlives the VM; reap finds it by name.
park() {
  local dev op i; dev=$(mdget instance/disks/0/device-name) && ident && auth || return 1
  op=$(api POST "instances/$NAME/setDiskAutoDelete?autoDelete=false&deviceName=$dev" | grep -o '"name" *: *"[^"]*"' | head -1 | cut -d'"' -f4)
  [ -n "$op" ] || return 1
  # Waiting needs a project-level permission the run may lack: best effort, GCE queues the delete after it.
  for i in 1 2 3 4 5; do api POST "operations/$op/wait" | grep -q '"status" *: *"DONE"' && break; sleep 2; done
  phase push-failed "parked: boot disk $NAME (zone $ZONE) keeps $REPO/results/$RUN_ID; the VM is deleted"
}
# Plain-git publish of whatever exists, for when Node never ran or died before publishing.
rescue_push() {
  local branch d; [ -d "$REPO/.git" ] || return 1
  [ -s "$KEY" ] || fetch_key || return 1
  branch=$(attr ${VM_ATTR.resultsBranch}); branch=\${branch:-main}
  mkdir -p "$REPO/results/$RUN_ID" && cp "$STATE/boot.log" "$REPO/results/$RUN_ID/boot-log.txt" || return 1
  ( cd "$REPO" && git add -A -- "results/$RUN_ID" && git -c user.name=runstack -c user.email=runstack@localhost \\
      commit -q --no-verify -m "results: $RUN_ID (rescued by the startup script after phase $(cat "$STATE/phase"))" ) || return 1
  for d in \${RUNSTACK_RESCUE_DELAYS:-5 15 45} end; do
    if (cd "$REPO" && git fetch -q origin "$branch" && git rebase -q FETCH_HEAD && git push -q origin "HEAD:refs/heads/$branch"); then
      gput ${GUEST_KEYS.resultCommit} "$(git -C "$REPO" rev-parse HEAD)"; return 0
    fi
    git -C "$REPO" rebase --abort >/dev/null 2>&1; [ "$d" = end ] || sleep "$d"
  done; return 1
}
delete_self() {
  ident && auth || { echo "${SERIAL_MARKER} cannot read identity/token: the VM stays until its deadline"; return 1; }
  local i; for i in 1 2 3 4 5; do
    api DELETE "instances/$NAME" >/dev/null && { echo "${SERIAL_MARKER} delete requested run=$RUN_ID"; return 0; }; sleep $((i * 5))
  done; return 1
}
finish() {
  local out; trap - EXIT TERM INT HUP; touch "$STATE/finished"; out=$(cat "$STATE/outcome" 2>/dev/null)
  case "$out" in pushed*|parked*) ;; *)
    if [ "$VM_RC" = ${VM_RUN_EXIT.pushed} ]; then out=pushed; elif [ "$VM_RC" = ${VM_RUN_EXIT.parked} ]; then out=parked
    elif { [ "$VM_RC" = none ] || phase failed "the VM runtime exited $VM_RC before the results were safe; rescuing them"; } && rescue_push; then out="pushed by the startup script"
    elif [ ! -f "$STATE/started" ]; then out="pushed nothing: the experiment never started"
    elif park; then out="parked by the startup script"; else out=kept; fi
    echo "$out" >"$STATE/outcome";;
  esac
  rm -f "$KEY"; echo "${SERIAL_MARKER} outcome run=$RUN_ID: $out"
  case "$out" in pushed*|parked*) delete_self;; *) phase push-failed "results neither pushed nor parked: VM kept until its deadline";; esac
  rm -rf "$SEC"
}
trap finish EXIT
trap 'exit 143' TERM; trap 'exit 130' INT; trap 'exit 129' HUP

if [ -f "$STATE/finished" ]; then
  echo "${SERIAL_MARKER} second boot: run $RUN_ID already finished ($(cat "$STATE/outcome" 2>/dev/null)); deleting the VM"
  gput ${GUEST_KEYS.detail} "second boot after the run finished: deleting the VM"; exit 0
fi
[ -f "$STATE/started" ] && fail "rebooted after the experiment started: not starting a second one"
phase booting
[ "$(attr ${VM_ATTR.runId})" = "$RUN_ID" ] || fail "metadata ${VM_ATTR.runId} is not $RUN_ID: wrong startup script for this VM"
DEVICE=$(attr ${VM_ATTR.dataDevice})
if [ -n "\${RUNSTACK_DATA_MOUNT:-}" ] && [ -d "$DATA" ]; then echo "data: using directory $DATA as is"
elif [ -n "$DEVICE" ]; then
  mkdir -p "$DATA" && { mountpoint -q "$DATA" || mount -o ro,noload "/dev/disk/by-id/google-$DEVICE" "$DATA"; } \\
    || fail "mounting /dev/disk/by-id/google-$DEVICE read-only at $DATA failed"
fi

phase cloning
URL=$(attr ${VM_ATTR.repoUrl}); COMMIT=$(attr ${VM_ATTR.commit})
[ -n "$URL" ] && [[ "$COMMIT" =~ ^[0-9a-f]{40}$ ]] || fail "metadata ${VM_ATTR.repoUrl}/${VM_ATTR.commit} missing or malformed (commit '$COMMIT')"
fetch_key || fail "no deploy key from Secret Manager ($(attr ${VM_ATTR.secret})): does the run's service account have secretAccessor on it?"
rm -rf "$REPO"
git clone -q --no-checkout "$URL" "$REPO" || fail "git clone $URL failed: is the deploy key added to the repository and the host key right?"
rm -f "$KEY" # only Node's publish needs it again, and it fetches its own copy: install scripts never see it
git -C "$REPO" cat-file -e "$COMMIT^{commit}" 2>/dev/null || fail "commit $COMMIT is not in $URL: push it, then launch again"
git -C "$REPO" -c advice.detachedHead=false checkout -q --detach "$COMMIT" || fail "checkout of $COMMIT failed"

phase installing
NODE_V=$(attr ${VM_ATTR.nodeVersion}) || fail "metadata ${VM_ATTR.nodeVersion} is missing"
[ -x "$NODE_DIR/bin/node" ] && export PATH="$NODE_DIR/bin:$PATH"
if [ "$(node --version 2>/dev/null)" != "v$NODE_V" ]; then
  echo "installing Node v$NODE_V into $NODE_DIR"; T=$(mktemp -d); F="node-v$NODE_V-linux-x64.tar.xz"
  { curl -sSfL --retry 5 -o "$T/$F" "$NODE_DIST/v$NODE_V/$F" && curl -sSfL --retry 5 -o "$T/sums" "$NODE_DIST/v$NODE_V/SHASUMS256.txt" \\
    && (cd "$T" && grep " $F\\$" sums | sha256sum -c --quiet -) && rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR" \\
    && tar -xJf "$T/$F" -C "$NODE_DIR" --strip-components=1; } || fail "could not install Node v$NODE_V from $NODE_DIST"
  rm -rf "$T"; export PATH="$NODE_DIR/bin:$PATH"
fi
(cd "$REPO" && eval "$INSTALL_CMD") || fail "install command '$INSTALL_CMD' exited $? (output above in the boot log)"

touch "$STATE/started"
# node --import tsx (not the tsx wrapper) so a shutdown's SIGTERM reaches vm-run itself.
cd "$REPO" && node --import tsx experiment/remote/vm-run.ts
VM_RC=$?
exit "$VM_RC"
`;
}
