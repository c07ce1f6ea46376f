#!/usr/bin/env bash
# Builds Kubernetes v1.37.1 components from the Go module proxy (module
# hack/k8s), so that envtest and the local cluster need no binary download.
#
#   hack/build-k8s.sh [component ...]
#
# Components: etcd kube-apiserver kube-controller-manager kube-scheduler kubelet
# (default: etcd kube-apiserver, what envtest needs).
#
# Binaries go to bin/k8s/1.37.1/ at the repo root; one that is already there
# is not rebuilt (delete it to force a rebuild). Progress goes to stderr; the
# only thing printed on stdout is the absolute folder path, so that
#
#   KUBEBUILDER_ASSETS=$(hack/build-k8s.sh) go test ./...
#
# works. The first run downloads ~1 GB of modules and takes minutes (see the
# estimates below); later runs are a no-op.
set -euo pipefail

K8S_VERSION=1.37.1
ALL_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet)

# Rough build times on 2 cores with the modules already downloaded, in the
# order of this list (later ones reuse packages the earlier ones compiled;
# measured: etcd 1m06s, kube-apiserver 6m01s and kube-controller-manager
# 3m27s on a busy machine, then kube-scheduler 7s, kubelet 37s).
declare -A ESTIMATE=(
	[etcd]="~1 min"
	[kube-apiserver]="~3-6 min"
	[kube-controller-manager]="~2-3 min"
	[kube-scheduler]="~1 min"
	[kubelet]="~1-2 min"
)

log() { printf '%s\n' "$*" >&2; }
die() { log "build-k8s: $*"; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MOD_DIR=$ROOT/hack/k8s
OUT=$ROOT/bin/k8s/$K8S_VERSION

if [[ $# -eq 0 ]]; then
	set -- etcd kube-apiserver
fi
components=()
for c in "$@"; do
	[[ -n ${ESTIMATE[$c]+x} ]] || die "unknown component '$c' (known: ${ALL_COMPONENTS[*]})"
	[[ " ${components[*]} " == *" $c "* ]] || components+=("$c")
done

missing() {
	local c
	for c in "${components[@]}"; do
		[[ -x $OUT/$c ]] || return 0
	done
	return 1
}

# Fast path: everything cached, no lock, no Go needed.
if ! missing; then
	log "build-k8s: ${components[*]} cached in $OUT"
	printf '%s\n' "$OUT"
	exit 0
fi

GO=${GO:-}
if [[ -z $GO ]]; then
	if command -v go >/dev/null 2>&1; then
		GO=go
	elif [[ -x /usr/local/go/bin/go ]]; then
		GO=/usr/local/go/bin/go
	else
		die "go not found (set GO=/path/to/go)"
	fi
fi

mkdir -p "$OUT"

# One build at a time: a second invocation waits here, then finds the
# binaries the first one built and skips them.
LOCK=$ROOT/bin/k8s/.build.lock
if command -v flock >/dev/null 2>&1; then
	exec 9>"$LOCK"
	if ! flock -n 9; then
		log "build-k8s: another build holds $LOCK; waiting…"
		flock 9
	fi
	# Holding the lock, no build is running: a temp file left here is from a
	# build that was killed (SIGKILL skips the cleanup trap).
	rm -f "$OUT"/.*.tmp.*
else
	log "build-k8s: flock not found; not locking"
fi

# The hack/k8s module must be built on its own, never through a go.work
# that may exist at the repo root.
export GOWORK=off
export CGO_ENABLED=0 # all five build static: their only cgo users are net and os/user, which have pure-Go fallbacks

ver=v$K8S_VERSION
major=${K8S_VERSION%%.*}
minor=${K8S_VERSION#*.}
minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$ver -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

tmp=""
cleanup() { [[ -z $tmp ]] || rm -f "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z $(cd "$MOD_DIR" && "$GO" list -m -f '{{.Dir}}' k8s.io/kubernetes 2>/dev/null) ]]; then
	log "build-k8s: first run: downloading ~1 GB of modules from the Go module proxy (can take 10+ min)…"
fi

n=${#components[@]}
i=0
total_start=$SECONDS
for c in "${components[@]}"; do
	i=$((i + 1))
	if [[ -x $OUT/$c ]]; then
		log "[$i/$n] $c: cached"
		continue
	fi
	log "[$i/$n] building $c (first build takes ${ESTIMATE[$c]})…"
	start=$SECONDS
	tmp=$(mktemp "$OUT/.$c.tmp.XXXXXX")
	(cd "$MOD_DIR" && "$GO" build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$tmp" "./cmd/$c") </dev/null >&2 ||
		die "building $c failed"
	chmod 0755 "$tmp"
	mv -f "$tmp" "$OUT/$c"
	tmp=""
	secs=$((SECONDS - start))
	log "[$i/$n] built $c in $((secs / 60))m$((secs % 60))s"
done
secs=$((SECONDS - total_start))
log "build-k8s: done in $((secs / 60))m$((secs % 60))s: $OUT"
printf '%s\n' "$OUT"
