# shellcheck shell=bash
# Shared settings of hack/gitea/{build,up,down,status}. Sourced, never run.
# Gitea listens on 127.0.0.1 only; all its state lives in .cluster/gitea/.

GITEA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$GITEA_DIR/../.." && pwd)

GITEA_VERSION=1.26.0
GITEA_OUT=$ROOT/bin/gitea/$GITEA_VERSION # binary + static assets, survive `down`
GITEA_BIN=$GITEA_OUT/gitea
GITEA_STATIC=$GITEA_OUT/static # options/, templates/, public/ from the module's source

GITEA_STATE=$ROOT/.cluster/gitea
GITEA_INI=$GITEA_STATE/app.ini
GITEA_PID=$GITEA_STATE/gitea.pid
GITEA_LOG=$GITEA_STATE/gitea.log
GITEA_ENV=$GITEA_STATE/env # GITEA_URL, GITEA_USER, GITEA_PASSWORD, GITEA_TOKEN for tests and users
GITEA_PORT=${GITEA_PORT:-13000}
GITEA_ADMIN=hookrun

# Gitea refuses to run as root unless told that we mean it.
export GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT=true

glog() { printf '%s\n' "$*" >&2; }
gdie() {
	glog "gitea: $*"
	exit 1
}

# gitea_pid: the PID in the pid file if it still runs our binary.
gitea_pid() {
	local pid exe
	[[ -s $GITEA_PID ]] || return 1
	pid=$(<"$GITEA_PID")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	# /proc/<pid>/exe is the resolved path, and bin/gitea may be a symlink (a
	# worktree sharing the build): compare resolved paths, or a running Gitea
	# looks exited (up gives up, down leaves it running on the port).
	[[ ${exe% (deleted)} == "$(readlink -f "$GITEA_BIN")" ]] || return 1
	printf '%s\n' "$pid"
}

gitea_cli() { "$GITEA_BIN" --config "$GITEA_INI" --work-path "$GITEA_STATE" "$@"; }
