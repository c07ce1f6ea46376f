# shellcheck shell=bash
# use_cluster: the cluster the demo scripts (samples, gitea demo) talk to.
# $KUBECONFIG (or ~/.kube/config) when set; otherwise the local cluster's
# kubeconfig if it exists. Sets LOCAL_CLUSTER=true when that is the local
# cluster of hack/local-cluster (preloaded images, no way out).
use_cluster() {
	local root local_kubeconfig
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	local_kubeconfig=$root/.cluster/kubeconfig
	if [[ -z ${KUBECONFIG:-} && ! -f $HOME/.kube/config && -f $local_kubeconfig ]]; then
		export KUBECONFIG=$local_kubeconfig
	fi
	LOCAL_CLUSTER=false
	if [[ ${KUBECONFIG:-} == "$local_kubeconfig" ]]; then
		LOCAL_CLUSTER=true
	fi
}
