#!/usr/bin/env bash
# `make run`: run the manager in the foreground against a cluster.
#
# Uses $KUBECONFIG (or ~/.kube/config) when it reaches a cluster; otherwise
# brings up the local single-node cluster (hack/local-cluster/up) and uses it.
# Then installs the CRDs, applies a demo namespace, Secret and HookTemplate,
# prints the webhook URL and a signed curl command, and runs the manager.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source hack/wait.sh

WEBHOOK_PORT=${WEBHOOK_PORT:-8080}
DEMO_NS=${DEMO_NS:-hookrun-demo}
log() { printf '==> %s\n' "$*" >&2; }

local_cluster=false
if [[ -z ${KUBECONFIG:-} && ! -f $HOME/.kube/config ]] || ! kubectl version --request-timeout=5s >/dev/null 2>&1; then
	log "no reachable cluster in \$KUBECONFIG: starting the local cluster (hack/local-cluster/up)"
	hack/local-cluster/up
	export KUBECONFIG=$ROOT/.cluster/kubeconfig
	local_cluster=true
elif [[ ${KUBECONFIG:-} == "$ROOT/.cluster/kubeconfig" ]]; then
	local_cluster=true
fi
log "cluster: $(kubectl config current-context 2>/dev/null || echo "$KUBECONFIG")"

log "installing CRDs"
kubectl apply --server-side --force-conflicts -f config/crd/bases >/dev/null
for crd in hooktemplates.hooks.hookrun.dev hookruns.hooks.hookrun.dev; do
	wait_for_condition 60 Established "crd/$crd"
done

log "applying the demo template in namespace $DEMO_NS"
kubectl create namespace "$DEMO_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
secret_file=$ROOT/bin/demo-webhook-secret
mkdir -p "$ROOT/bin"
[[ -s $secret_file ]] || openssl rand -hex 24 >"$secret_file"
secret=$(cat "$secret_file")
kubectl -n "$DEMO_NS" create secret generic demo-webhook --from-literal=secret="$secret" \
	--dry-run=client -o yaml | kubectl apply -f - >/dev/null
if $local_cluster; then
	# The local cluster has the runner image preloaded and no kube-proxy or
	# outside network: run on the host network with the local image.
	image=hookrun/runner:local
	pod_template='    podTemplate:
      spec:
        hostNetwork: true
        containers:
        - name: run
          imagePullPolicy: Never'
else
	image=alpine/git:2.47
	pod_template=''
fi
kubectl apply -f - >/dev/null <<YAML
apiVersion: hooks.hookrun.dev/v1alpha1
kind: HookTemplate
metadata:
  name: hello
  namespace: $DEMO_NS
spec:
  source:
    provider: generic
    secretRef: {name: demo-webhook}
  match:
    refs: ["refs/heads/*"]
  run:
    image: $image
    shell: |
      echo "hello from hookrun: \$HOOK_REPOSITORY \$HOOK_REF at \$HOOK_SHA (run \$HOOK_RUN)"
      git --version || true
    timeoutSeconds: 120
$pod_template
YAML

body='{"ref":"refs/heads/main","repository":"acme/site","sha":"0123456789abcdef0123456789abcdef01234567","sender":"you"}'
cat >&2 <<MSG

hookrun is starting. Webhook URL:
  http://127.0.0.1:$WEBHOOK_PORT/hooks/$DEMO_NS/hello

In another shell, send a signed delivery:
  export KUBECONFIG=${KUBECONFIG:-$HOME/.kube/config}
  body='$body'
  sig=\$(printf '%s' "\$body" | openssl dgst -sha256 -hmac '$secret' | sed 's/^.* //')
  curl -sS -X POST http://127.0.0.1:$WEBHOOK_PORT/hooks/$DEMO_NS/hello \\
    -H 'Content-Type: application/json' -H "X-Hook-Delivery: demo-\$(date +%s)" \\
    -H "X-Hub-Signature-256: sha256=\$sig" -d "\$body"
  kubectl -n $DEMO_NS get hookruns -w

MSG
exec go run . --webhook-bind-address="127.0.0.1:$WEBHOOK_PORT" \
	--metrics-bind-address=127.0.0.1:8443 --health-probe-bind-address=127.0.0.1:8081 "$@"
