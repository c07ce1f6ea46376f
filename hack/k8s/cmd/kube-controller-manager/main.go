// Command kube-controller-manager is Kubernetes' kube-controller-manager
// v1.37.1 (a copy of k8s.io/kubernetes/cmd/kube-controller-manager), built
// from the Go module proxy for the local cluster, so that no binary download
// is needed. Built by hack/build-k8s.sh, which stamps the version.
package main

import (
	"os"
	_ "time/tzdata" // for CronJob Time Zone support

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
