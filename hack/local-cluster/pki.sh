# shellcheck shell=bash
# Certificates and kubeconfigs of the local cluster, made with openssl.
# Sourced by `up` after lib.sh. TLS keys are ECDSA P-256 (fast to make); the
# service-account key is RSA 2048.

# pki_cert NAME SUBJECT EXTENDED_USAGE [SANS]: a key and a certificate signed by the CA.
pki_cert() {
	local name=$1 subj=$2 eku=$3 sans=${4:-}
	local ext=$PKI/$name.ext
	{
		echo "basicConstraints = critical, CA:FALSE"
		echo "keyUsage = critical, digitalSignature"
		echo "extendedKeyUsage = $eku"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		[[ -z $sans ]] || echo "subjectAltName = $sans"
	} >"$ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 365 -sha256 \
		-extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
	rm -f "$PKI/$name.csr" "$ext"
	chmod 0600 "$PKI/$name.key"
}

# kubeconfig FILE USER CERT_NAME: a kubeconfig for https://127.0.0.1:6443 that
# authenticates with PKI/CERT_NAME.{crt,key}.
kubeconfig() {
	local file=$1 user=$2 cert=$3
	cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hookrun-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $user
  user:
    client-certificate: $PKI/$cert.crt
    client-key: $PKI/$cert.key
contexts:
- name: hookrun-local
  context:
    cluster: hookrun-local
    user: $user
    namespace: default
current-context: hookrun-local
EOF
	chmod 0600 "$file"
}

make_pki() {
	mkdir -p "$PKI" "$CONF"
	chmod 0700 "$PKI"
	if [[ ! -s $PKI/ca.crt ]]; then
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$PKI/ca.key" -subj "/CN=hookrun-local-ca" -days 3650 -sha256 \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
			-out "$PKI/ca.crt" 2>/dev/null
		chmod 0600 "$PKI/ca.key"
	fi

	[[ -s $PKI/apiserver.crt ]] || pki_cert apiserver "/CN=kube-apiserver" serverAuth \
		"IP:127.0.0.1, IP:$FIRST_SERVICE_IP, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local"
	# The API server's client identity towards the kubelet (logs, exec, port-forward).
	[[ -s $PKI/apiserver-kubelet-client.crt ]] ||
		pki_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
	# The API server's identity towards aggregated API servers; also fills the
	# request-header CA that kube-controller-manager and kube-scheduler read
	# (only this CN may set X-Remote-User, see --requestheader-allowed-names).
	[[ -s $PKI/front-proxy-client.crt ]] || pki_cert front-proxy-client "/CN=front-proxy-client" clientAuth
	[[ -s $PKI/kubelet.crt ]] || pki_cert kubelet "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME, IP:127.0.0.1"
	[[ -s $PKI/admin.crt ]] || pki_cert admin "/O=system:masters/CN=hookrun-admin" clientAuth
	[[ -s $PKI/controller-manager.crt ]] ||
		pki_cert controller-manager "/CN=system:kube-controller-manager" clientAuth
	[[ -s $PKI/scheduler.crt ]] || pki_cert scheduler "/CN=system:kube-scheduler" clientAuth
	[[ -s $PKI/node.crt ]] || pki_cert node "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth

	if [[ ! -s $PKI/sa.pub ]]; then
		openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
		openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
		chmod 0600 "$PKI/sa.key"
	fi

	kubeconfig "$ADMIN_KUBECONFIG" hookrun-admin admin
	kubeconfig "$CONF/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
	kubeconfig "$CONF/scheduler.kubeconfig" system:kube-scheduler scheduler
	kubeconfig "$CONF/kubelet.kubeconfig" "system:node:$NODE_NAME" node
}
