#!/usr/bin/env bash
# `make samples`: apply config/samples (a GitHub template, its Secret and a
# HookRun created by hand) so that the run really runs.
#
# On the local cluster (no KUBECONFIG, or the one hack/local-cluster wrote),
# the overlay config/samples/local swaps the image for the preloaded
# hookrun/runner:local and the GitHub clone for an echo, in the namespace
# hookrun-samples. Elsewhere the samples are applied as they are (image
# alpine/git:2.47, pulled from Docker Hub) in the current namespace.
# A manager must be running (make run) for the run to start.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
log() { printf '==> %s\n' "$*" >&2; }

source hack/kubeconfig.sh
use_cluster
if $LOCAL_CLUSTER; then
	log "local cluster: applying config/samples/local (image hookrun/runner:local) in namespace hookrun-samples"
	kubectl kustomize --load-restrictor LoadRestrictionsNone config/samples/local | kubectl apply -f -
	ns=hookrun-samples
else
	log "applying config/samples/ (image alpine/git:2.47) in the current namespace"
	kubectl apply -f config/samples/
	ns=$(kubectl config view --minify -o 'jsonpath={..namespace}')
	ns=${ns:-default}
fi
cat >&2 <<MSG

The run site-manual-1 was created by hand (the manual-trigger path). Follow it:
  kubectl -n $ns wait --for=condition=Succeeded hookrun/site-manual-1 --timeout=120s
  kubectl -n $ns logs job/site-manual-1
MSG
