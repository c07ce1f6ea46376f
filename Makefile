# hookrun — build, test and run. Every tool is pinned and installed into bin/.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

K8S_VERSION          ?= 1.37.1
CONTROLLER_TOOLS_VERSION ?= v0.23.0
LOCALBIN             ?= $(CURDIR)/bin
CONTROLLER_GEN       ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
ENVTEST_ASSETS       ?= $(LOCALBIN)/k8s/$(K8S_VERSION)
GO_TEST_FLAGS        ?= -count=1
FUZZTIME             ?= 5s
KUBECONFIG_LOCAL     := $(CURDIR)/.cluster/kubeconfig
# helm and promtool: pinned in their own modules (hack/helm, hack/promtool),
# built by hack/build-tool.sh into bin/<tool>/<version>/.
HELM_VERSION         := $(shell awk '$$1 == "helm.sh/helm/v3" {print $$2; exit}' hack/helm/go.mod)
PROMTOOL_VERSION     := $(shell awk '$$1 == "github.com/prometheus/prometheus" {print $$2; exit}' hack/promtool/go.mod)
HELM                 ?= $(LOCALBIN)/helm/$(HELM_VERSION)/helm
PROMTOOL             ?= $(LOCALBIN)/promtool/$(PROMTOOL_VERSION)/promtool
# What the tests of hack/chartgen and test/observability run.
TEST_TOOLS_ENV       := HOOKRUN_HELM=$(HELM) HOOKRUN_PROMTOOL=$(PROMTOOL)

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the markers; copy them (and the alerts, dashboard) into the Helm chart.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	go run ./hack/crdpatch config/crd/bases
	go run ./hack/chartgen

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: verify
verify: manifests generate $(HELM) ## Fail when generated files are stale, code is unformatted, go.mod/go.sum are not tidy, or the Helm chart renders other RBAC or another Deployment than config/default.
	@go mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit"; go mod tidy -diff; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@git diff --exit-code -- api config charts || { echo "generated files are stale: run 'make manifests generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- api config charts)" || { echo "untracked generated files:"; git status --porcelain -- api config charts; exit 1; }
	$(TEST_TOOLS_ENV) go test $(GO_TEST_FLAGS) ./hack/chartgen

.PHONY: test-control-plane
test-control-plane: ## Build etcd and kube-apiserver for envtest into bin/k8s (cached).
	hack/build-k8s.sh etcd kube-apiserver >/dev/null

.PHONY: tools
tools: $(HELM) $(PROMTOOL) ## Build helm and promtool into bin/ (cached; the first build takes minutes).

.PHONY: test
test: verify vet test-control-plane tools ## Everything CI runs: unit + envtest suites (promtool rule tests included), fuzz smoke, e2e on the local cluster.
	$(TEST_TOOLS_ENV) KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) go test $(GO_TEST_FLAGS) ./...
	$(MAKE) fuzz
	$(MAKE) test-e2e

.PHONY: test-integration
test-integration: test-control-plane tools ## Unit + envtest suites only (no cluster needed).
	$(TEST_TOOLS_ENV) KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) go test $(GO_TEST_FLAGS) ./...

.PHONY: test-e2e
test-e2e: manifests ## End-to-end tests on the local cluster (built from source on first use).
	hack/e2e.sh

.PHONY: test-unit
test-unit: tools ## Only the tests that need no control plane.
	$(TEST_TOOLS_ENV) go test $(GO_TEST_FLAGS) -short ./...

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME.
	@for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    out=$$(go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg 2>&1) && { echo "$$out" | tail -n 2; continue; }; \
	    echo "$$out"; \
	    if echo "$$out" | grep -q 'Failing input written to'; then exit 1; fi; \
	    if echo "$$out" | grep -q 'context deadline exceeded'; then \
	      echo "(go's fuzz coordinator timed out while stopping, no failing input: running $$f once more)"; \
	      go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	    else exit 1; fi; \
	  done; \
	done

BENCH_OUT ?= $(CURDIR)/bin/bench

.PHONY: bench
bench: test-control-plane ## Every benchmark (envtest + local cluster) → docs/performance.md (~30 min).
	mkdir -p $(BENCH_OUT)
	$(MAKE) bench-ingestion
	KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) HOOKRUN_BENCH_OUT=$(BENCH_OUT) go test ./webhookserver -run '^$$' -bench '^BenchmarkIngestion$$' -benchtime=1x -timeout 30m
	$(MAKE) bench-fanout
	go test -short -run '^$$' -bench 'VerifyNormalise|HandleDelivery' -benchmem -count 5 ./webhookserver/ | tee $(BENCH_OUT)/webhook-micro.txt
	KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) HOOKRUN_BENCH_OUT=$(BENCH_OUT) go test ./controllers -run '^$$' -bench 'BenchmarkReconcileTuning|BenchmarkReconcileThroughput|BenchmarkQueueDrain' -benchtime=1x -timeout 60m
	KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) HOOKRUN_BENCH_OUT=$(BENCH_OUT) go test ./test/bench/footprint -run '^$$' -bench '^BenchmarkFootprint$$' -benchtime=1x -timeout 30m
	E2E_TAGS='e2e e2ebench' E2E_RUN=TestBenchEndToEnd HOOKRUN_BENCH_OUT=$(BENCH_OUT) hack/e2e.sh
	$(MAKE) bench-report

.PHONY: bench-ingestion
bench-ingestion: test-control-plane ## Ingestion as users run it: the shipped binary out of process against raw creates (~10 min; HOOKRUN_BENCH_BINARY_PROFILE=file adds a CPU profile).
	mkdir -p $(BENCH_OUT)
	KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) HOOKRUN_BENCH_OUT=$(BENCH_OUT) go test ./test/bench/ingestion -run '^$$' -bench '^BenchmarkIngestionBinary$$' -benchtime=1x -timeout 30m

.PHONY: bench-fanout
bench-fanout: test-control-plane ## Fan-out ingestion: one delivery to a HookSource with 10 matching templates against 10 raw creates (~3-6 min); then make bench-report.
	mkdir -p $(BENCH_OUT)
	KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS) HOOKRUN_BENCH_OUT=$(BENCH_OUT) go test ./webhookserver -run '^$$' -bench '^BenchmarkIngestionFanOut$$' -benchtime=1x -timeout 30m

.PHONY: bench-report
bench-report: ## Regenerate docs/performance.md and docs/perf/*.png from bin/bench; sections without a result file there stay as they are (BENCH_REPORT_FLAGS=-fresh drops them).
	cd hack/bench && go run . -in $(BENCH_OUT) -out ../../docs $(BENCH_REPORT_FLAGS)

##@ Build

.PHONY: build
build: generate ## Build the manager binary.
	CGO_ENABLED=0 go build -o bin/hookrun .

.PHONY: plugin
plugin: ## Build the kubectl plugin (bin/kubectl-hookrun; put it on PATH to use it as kubectl hookrun).
	CGO_ENABLED=0 go build -o bin/kubectl-hookrun ./cmd/kubectl-hookrun

IMAGE_TOOL ?= $(LOCALBIN)/image-builder

.PHONY: image
image: ## Build the manager image as an OCI tarball (bin/images/hookrun.tar), no Docker needed.
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o bin/hookrun .
	cd hack/images && go build -o $(IMAGE_TOOL) .
	mkdir -p bin/images
	$(IMAGE_TOOL) binary --tag hookrun/hookrun:local --name hookrun --binary bin/hookrun --out bin/images/hookrun.tar

.PHONY: image-load
image-load: image ## Import the manager image into the local cluster.
	hack/local-cluster/load-image bin/images/hookrun.tar

.PHONY: deploy
deploy: manifests ## Install hookrun into the cluster in $$KUBECONFIG (kubectl apply -k config/default).
	kubectl apply --server-side --force-conflicts -k config/default

.PHONY: undeploy
undeploy: ## Remove hookrun from the cluster.
	kubectl delete --ignore-not-found -k config/default

.PHONY: run
run: manifests generate ## Run the manager against $$KUBECONFIG (or the local cluster).
	hack/run.sh

.PHONY: samples
samples: ## Apply config/samples to the cluster (on the local cluster: the config/samples/local overlay).
	hack/samples.sh

.PHONY: cluster-up
cluster-up: ## Start the local single-node cluster (builds it on first use).
	hack/local-cluster/up

.PHONY: cluster-status
cluster-status: ## Show the local cluster's processes and node.
	hack/local-cluster/status

.PHONY: down
down: ## Stop Gitea and the local cluster and remove their state.
	hack/local-cluster/down

.PHONY: gitea
gitea: ## Start Gitea (built from source on first use) with a demo repository wired to the demo template.
	hack/gitea/demo

.PHONY: install
install: manifests ## Install the CRDs into the cluster in $$KUBECONFIG.
	kubectl apply --server-side --force-conflicts -f config/crd/bases

.PHONY: uninstall
uninstall: ## Remove the CRDs (and every HookTemplate and HookRun).
	kubectl delete --ignore-not-found -f config/crd/bases

##@ Release

VERSION    ?= $(shell awk '$$1 == "appVersion:" {gsub(/"/, "", $$2); print $$2}' charts/hookrun/Chart.yaml)
IMAGE_REPO ?= hookrun/hookrun
DIST       ?= $(CURDIR)/dist
PLUGIN_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64

.PHONY: release
release: manifests $(HELM) ## dist/: install.yaml, the image tarball, the Helm chart, kubectl-hookrun archives, the krew manifest, SHA256SUMS.
	rm -rf $(DIST) && mkdir -p $(DIST)
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o bin/hookrun .
	cd hack/images && go build -o $(IMAGE_TOOL) .
	$(IMAGE_TOOL) binary --tag $(IMAGE_REPO):$(VERSION) --name hookrun --binary bin/hookrun --out $(DIST)/hookrun-image_$(VERSION).tar
	$(HELM) package charts/hookrun --destination $(DIST) >/dev/null
	for p in $(PLUGIN_PLATFORMS); do \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} go build -trimpath -ldflags '-s -w' \
	    -o $(DIST)/bin/$${p%/*}_$${p#*/}/kubectl-hookrun ./cmd/kubectl-hookrun || exit 1; \
	done
	go run ./hack/release --version $(VERSION) --image $(IMAGE_REPO):$(VERSION) --dist $(DIST)
	rm -rf $(DIST)/bin
	cd $(DIST) && sha256sum -c SHA256SUMS >/dev/null && ls -l

##@ Tools

$(HELM):
	hack/build-tool.sh helm >/dev/null

$(PROMTOOL):
	hack/build-tool.sh promtool >/dev/null

$(CONTROLLER_GEN):
	mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN)/.cg go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/.cg/controller-gen $(CONTROLLER_GEN) && rmdir $(LOCALBIN)/.cg
