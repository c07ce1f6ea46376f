/*
Copyright 2026 The hookrun Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command kubectl-hookrun is the kubectl plugin of hookrun (`kubectl
// hookrun`): trigger, rerun, follow, cancel and test runs from the terminal.
// --namespace, --context and --kubeconfig work as in kubectl.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(hooksv1alpha1.AddToScheme(scheme))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error: "+oneLine(err.Error()))
		os.Exit(1)
	}
}

// app is what every command shares: the kubectl flags and the output.
type app struct {
	flags  *genericclioptions.ConfigFlags
	out    io.Writer
	errOut io.Writer
}

func newRootCommand(out, errOut io.Writer) *cobra.Command {
	a := &app{flags: genericclioptions.NewConfigFlags(true), out: out, errOut: errOut}
	root := &cobra.Command{
		Use:           "kubectl-hookrun",
		Short:         "Trigger, rerun, follow, cancel and test hookrun runs",
		Long:          "kubectl hookrun works with the HookTemplates and HookRuns of hookrun (https://github.com/hookrun/hookrun).",
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl hookrun",
		},
	}
	root.SetOut(out)
	root.SetErr(errOut)
	a.flags.AddFlags(root.PersistentFlags())
	root.AddCommand(
		a.triggerCommand(),
		a.rerunCommand(),
		a.logsCommand(),
		a.cancelCommand(),
		a.sendCommand(),
		a.whyCommand(),
		a.listCommand(),
	)
	return root
}

// clients is a controller-runtime client, a clientset (pod logs,
// SelfSubjectReview) and the namespace of --namespace or the context.
type clients struct {
	c  client.Client
	cs kubernetes.Interface
	ns string
}

func (a *app) clients() (*clients, error) {
	cfg, err := a.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("no usable kubeconfig (%v): pass --kubeconfig or --context", err)
	}
	ns, _, err := a.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("no namespace (%v): pass -n NAMESPACE", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("cannot reach the cluster (%v): check --context and --kubeconfig", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the cluster (%v): check --context and --kubeconfig", err)
	}
	return &clients{c: c, cs: cs, ns: ns}, nil
}

// template reads a HookTemplate; its errors say what to do.
func (k *clients) template(ctx context.Context, name string) (*hooksv1alpha1.HookTemplate, error) {
	tmpl := &hooksv1alpha1.HookTemplate{}
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: name}, tmpl); err != nil {
		return nil, apiError(err, fmt.Sprintf("template %q in namespace %q", name, k.ns), "kubectl hookrun list -n "+k.ns+" shows the templates")
	}
	return tmpl, nil
}

// run reads a HookRun; its errors say what to do.
func (k *clients) run(ctx context.Context, name string) (*hooksv1alpha1.HookRun, error) {
	run := &hooksv1alpha1.HookRun{}
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: name}, run); err != nil {
		return nil, apiError(err, fmt.Sprintf("run %q in namespace %q", name, k.ns), "kubectl get hookruns -n "+k.ns+" shows the runs")
	}
	return run, nil
}

// apiError turns an API error about what into one line that says what to do.
func apiError(err error, what, notFoundHint string) error {
	switch {
	case meta.IsNoMatchError(err):
		return errors.New("hookrun's CRDs are not installed in this cluster: install them with make install (or kubectl apply -k config/default)")
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s not found: %s", what, notFoundHint)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("not allowed to read %s (%s): ask for RBAC on hooks.hookrun.dev in that namespace", what, apierrors.ReasonForError(err))
	default:
		return fmt.Errorf("read %s: %v (check --context and that the cluster is reachable)", what, err)
	}
}

// printData prints obj as JSON or YAML (-o json|yaml).
func printData(w io.Writer, format string, obj any) error {
	switch format {
	case "json":
		b, err := json.MarshalIndent(obj, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unknown output format %q: use -o json or -o yaml", format)
}

// checkOutput validates -o before anything is done.
func checkOutput(format string, allowed ...string) error {
	if format == "" {
		return nil
	}
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return fmt.Errorf("unknown output format %q: use -o %s", format, strings.Join(allowed, " or -o "))
}

// withKind fills apiVersion and kind, which a typed Get leaves empty.
func withKind(obj client.Object) client.Object {
	gvks, _, err := scheme.ObjectKinds(obj)
	if err == nil && len(gvks) > 0 {
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	return obj
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
