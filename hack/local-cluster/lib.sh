# shellcheck shell=bash
# Shared settings and helpers of hack/local-cluster/{up,down,status}.
# Sourced, never run. Everything listens on 127.0.0.1 only.

LC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LC_DIR/../.." && pwd)

K8S_VERSION=1.37.1
K8S_BIN=$ROOT/bin/k8s/$K8S_VERSION
K8S_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet)
IMAGES_CACHE=$ROOT/bin/images # image tarballs, the runner rootfs, the image tool: survive `down`

STATE=$ROOT/.cluster
PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$STATE/pids
CONF=$STATE/config
ADMIN_KUBECONFIG=$STATE/kubeconfig
CONTAINERD_DIR=$STATE/containerd
CONTAINERD_SOCK=$CONTAINERD_DIR/containerd.sock
KUBELET_DIR=$STATE/kubelet

# Start order; `down` stops them in reverse, kubelet first.
PROCS=(etcd kube-apiserver containerd kube-controller-manager kube-scheduler kubelet)

APISERVER_PORT=6443
SERVICE_CIDR=10.96.0.0/24
FIRST_SERVICE_IP=10.96.0.1
POD_SUBNET=10.244.0.0/24 # pods off hostNetwork only; the bridge has no gateway, no NAT
CNI_BRIDGE=hookrun0
NODE_NAME=localhost

PAUSE_IMAGE=hookrun/pause:local
RUNNER_IMAGE=hookrun/runner:local

# Paths the components use outside .cluster (fixed in their code). `down`
# removes them when no containerd or kubelet other than ours is running.
FIXED_DIRS=(/run/containerd /var/lib/cni /var/log/containers /var/log/pods /opt/containerd)
CGROUP_NAMES=(kubepods k8s.io)

KUBECTL=${KUBECTL:-kubectl}

log() { printf '%s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# step N TEXT: numbered progress line.
STEP_TOTAL=${STEP_TOTAL:-7}
step() { log "[$1/$STEP_TOTAL] $2"; }

now_ms() { date +%s%3N; }
elapsed() { # elapsed START_MS -> "12.3s"
	local d=$(($(now_ms) - $1))
	printf '%d.%01ds' $((d / 1000)) $((d % 1000 / 100))
}

kc() { "$KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" --request-timeout=5s "$@"; }

# The process a pid file names, if it still runs the binary it was started
# with (the check guards against a recycled PID).
proc_pid() { # proc_pid NAME -> prints PID, returns 1 if not running
	local f=$PIDS/$1.pid pid exe
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	exe=${exe% (deleted)}
	[[ ${exe##*/} == "$1" ]] || return 1
	printf '%s\n' "$pid"
}

proc_alive() { proc_pid "$1" >/dev/null; }

# proc_exes: "PID BASENAME" of every process, from one find (forks are slow).
proc_exes() {
	find /proc -mindepth 2 -maxdepth 2 -name exe -printf '%h %l\n' 2>/dev/null |
		awk '{ sub("^/proc/", "", $1); sub(" \\(deleted\\)$", ""); n = split($2, a, "/"); print $1, a[n] }'
}

# cmdline_has PID TEXT: does an argument of PID contain TEXT?
cmdline_has() { tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }

# Processes that are not ours: a containerd or kubelet that this cluster did
# not start. While one runs, the shared paths are left alone.
foreign_runtime_pids() {
	local pid exe
	while read -r pid exe; do
		case $exe in
		containerd | kubelet) cmdline_has "$pid" "$STATE/" || printf '%s\n' "$pid" ;;
		esac
	done < <(proc_exes)
	return 0
}

# Component processes whose command line names our state folder: strays of
# this cluster with no (or a lost) pid file, e.g. containerd shims, whose
# -address is our containerd socket.
stray_pids() {
	local pid exe
	while read -r pid exe; do
		case $exe in
		containerd-shim* | containerd | etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kubelet)
			if cmdline_has "$pid" "$STATE/"; then printf '%s\n' "$pid"; fi
			;;
		esac
	done < <(proc_exes)
	return 0
}

# Serialise up and down (down run by up inherits up's lock).
take_lock() {
	[[ ${LOCAL_CLUSTER_LOCKED:-} != 1 ]] || return 0
	mkdir -p "$ROOT/bin"
	exec 9>"$ROOT/bin/.local-cluster.lock"
	if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
		log "another hack/local-cluster command is running; waiting for it…"
		flock 9
	fi
}

# Is something (not necessarily ours) accepting TCP connections on 127.0.0.1:PORT?
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# umount_under DIR: unmount everything mounted at or below DIR, deepest first.
umount_under() {
	local dir=$1 m
	awk '{ print $5 }' /proc/self/mountinfo | sed 's/\\040/ /g' | { grep -E "^${dir//./\\.}(/|$)" || true; } |
		sort -r | while IFS= read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "warning: cannot unmount $m"
	done
}
