// Command kube-apiserver is Kubernetes' kube-apiserver v1.37.1 (a copy of
// k8s.io/kubernetes/cmd/kube-apiserver), built from the Go module proxy so
// that envtest and the local cluster need no binary download. Built by
// hack/build-k8s.sh, which stamps the version.
package main

import (
	"os"
	_ "time/tzdata" // for timeZone support in CronJob

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
