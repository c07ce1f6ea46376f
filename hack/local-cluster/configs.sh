# shellcheck shell=bash
# Configuration files of containerd, CNI and the kubelet. Sourced by `up`
# after lib.sh. See DESIGN.md "Local cluster: facts measured on a build machine".

write_configs() {
	mkdir -p "$CONF" "$CONTAINERD_DIR" "$STATE/cni/net.d" "$KUBELET_DIR" "$STATE/pod-logs"

	# containerd 1.6 (Debian 12), started directly: no systemd, cgroup v1.
	# Its root, state, sockets, runc state and "opt" folder live under .cluster;
	# only the shim sockets (/run/containerd/s) and the CNI cache (/var/lib/cni)
	# stay at fixed paths.
	cat >"$CONF/containerd.toml" <<EOF
version = 2
root = "$CONTAINERD_DIR/root"
state = "$CONTAINERD_DIR/state"

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$CONTAINERD_DIR/containerd.sock.ttrpc"

[debug]
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$CONTAINERD_DIR/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # The VM lacks CAP_SYS_RESOURCE: a negative oom_score_adj for the pause
  # container fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = false

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$CONTAINERD_DIR/runc"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
    max_conf_num = 1
EOF

	# The bridge exists only so that the runtime reports its network ready and
	# the node turns Ready; test pods use hostNetwork. No gateway, no NAT: a pod
	# on the bridge reaches nothing but its neighbours.
	cat >"$STATE/cni/net.d/10-hookrun.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "hookrun",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_SUBNET"}]],
        "dataDir": "$STATE/cni/ipam"
      }
    }
  ]
}
EOF

	cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
# PID 1 is not systemd and the host has cgroup v1.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
podLogsDir: $STATE/pod-logs
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
rotateCertificates: false
serverTLSBootstrap: false
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI/ca.crt
authorization:
  mode: Webhook
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
maxPods: 250
serializeImagePulls: false
kubeAPIQPS: 50
kubeAPIBurst: 100
# A build machine's disk may be fuller than the defaults allow: evict only
# when it is nearly full, and never garbage-collect the local-only images.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# No KUBE-FIREWALL / canary chains: the host's iptables stay untouched.
makeIPTablesUtilChains: false
EOF
}
