// Command etcd is etcd's own server main (go.etcd.io/etcd/server/v3), built
// from the Go module proxy at the version Kubernetes v1.37.1 uses, so that
// envtest and the local cluster need no binary download. Built by
// hack/build-k8s.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
