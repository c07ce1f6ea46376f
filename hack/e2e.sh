#!/usr/bin/env bash
# `make test-e2e`: end-to-end tests on a real single-node cluster.
#
# Builds bin/hookrun, Gitea (hack/gitea/build, for the real-git-host
# tests) and helm (hack/build-tool.sh, for the Helm chart test), brings up the local cluster (hack/local-cluster/up) if
# it is not running, runs the e2e suite (the e2e build tag, ./test/e2e/) and,
# if this script started the cluster, tears it down again — also when a test
# fails. Set KEEP_CLUSTER=1 to leave it running. E2E_TAGS and E2E_RUN select
# other tests (make bench runs the e2e benchmark this way).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf '==> %s\n' "$*" >&2; }

log "building bin/hookrun"
CGO_ENABLED=0 go build -o bin/hookrun .
log "building helm for the chart test (cached in bin/helm)"
export HOOKRUN_HELM
HOOKRUN_HELM=$(hack/build-tool.sh helm)

started=false
if ! hack/local-cluster/status >/dev/null 2>&1; then
	started=true
fi
teardown() {
	local rc=$?
	if $started && [[ -z ${KEEP_CLUSTER:-} ]]; then
		log "tearing the local cluster down"
		hack/local-cluster/down || true
	fi
	exit $rc
}
trap teardown EXIT
hack/local-cluster/up
log "building Gitea for the real-git-host tests (cached in bin/gitea)"
hack/gitea/build >/dev/null

export KUBECONFIG=$ROOT/.cluster/kubeconfig
export HOOKRUN_BIN=$ROOT/bin/hookrun
log "running the e2e suite against $KUBECONFIG"
set +e
go test -tags "${E2E_TAGS:-e2e}" -run "${E2E_RUN:-.}" -count=1 -timeout 30m -v ./test/e2e/ 2>&1 | tee bin/e2e.log
status=${PIPESTATUS[0]}
set -e
exit "$status"
