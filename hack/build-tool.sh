#!/usr/bin/env bash
# Builds a pinned tool from the Go module proxy into bin/<tool>/<version>/,
# each from its own Go module under hack/ (so the operator's go.mod stays
# small), the way hack/build-k8s.sh builds the control plane.
#
#   hack/build-tool.sh helm       # helm.sh/helm/v3, module hack/helm
#   hack/build-tool.sh promtool   # Prometheus' promtool, module hack/promtool
#
# The version is the one the tool's go.mod requires; a binary that is already
# there is not rebuilt. Progress goes to stderr; stdout is only the binary's
# absolute path, so that HELM=$(hack/build-tool.sh helm) works.
#
# Build times measured on the shared 2-core machine (load 8-13 from other
# builds), modules downloaded, empty build cache: helm 6m10s, then promtool
# 4m42s (sharing what helm's build compiled). remove_all_sd drops 247 of
# promtool's 1364 packages (the cloud service-discovery plugins).
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }
die() { log "build-tool: $*"; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tool=${1:-}
case $tool in
helm)
	module=helm.sh/helm/v3
	pkg=helm.sh/helm/v3/cmd/helm
	tags=""
	ldflag_version="-X helm.sh/helm/v3/internal/version.version=%s"
	;;
promtool)
	module=github.com/prometheus/prometheus
	pkg=github.com/prometheus/prometheus/cmd/promtool
	# Prometheus' own switch for dropping every service-discovery plugin
	# (plugins/plugin_*.go): promtool only checks and unit-tests rules here.
	tags=remove_all_sd
	ldflag_version="-X github.com/prometheus/common/version.Version=%s"
	;;
*) die "usage: hack/build-tool.sh helm|promtool" ;;
esac

MOD_DIR=$ROOT/hack/$tool
version=$(awk -v m="$module" '$1 == m {print $2; exit}' "$MOD_DIR/go.mod")
[[ -n $version ]] || die "$module not found in $MOD_DIR/go.mod"
OUT=$ROOT/bin/$tool/$version
BIN=$OUT/$tool

if [[ -x $BIN ]]; then
	printf '%s\n' "$BIN"
	exit 0
fi

mkdir -p "$OUT"
exec 9>"$OUT/.build.lock"
flock 9
if [[ ! -x $BIN ]]; then
	log "build-tool: building $tool $version from the Go module proxy…"
	start=$SECONDS
	shown=$version
	if [[ $tool == promtool ]]; then
		# The Go module v0.316.0 is Prometheus 3.16.0.
		minor=${version#v0.}
		minor=${minor%%.*}
		shown="${minor:0:1}.${minor:1}.${version##*.}"
	fi
	# shellcheck disable=SC2059
	ldflags="-s -w $(printf -- "$ldflag_version" "$shown")"
	rm -f "$BIN.tmp"
	(cd "$MOD_DIR" && GOWORK=off CGO_ENABLED=0 go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$BIN.tmp" "$pkg") </dev/null >&2 ||
		die "building $tool failed"
	mv -f "$BIN.tmp" "$BIN"
	secs=$((SECONDS - start))
	log "build-tool: built $tool $version in $((secs / 60))m$((secs % 60))s"
fi
printf '%s\n' "$BIN"
