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

package webhookserver

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// Creator stores HookRuns: any controller-runtime client does, and so does
// the one NewCreator returns.
type Creator interface {
	Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error
}

// NewCreator returns a Creator that POSTs HookRuns through a REST client of
// its own (cfg's rate limit applies) and reads the API server's answer for
// its status only. A controller-runtime client also decodes the stored
// object the API server sends back, managedFields included, into the object
// created: about a tenth of the shipped binary's CPU under a load of
// deliveries (test/bench/ingestion), for fields the webhook server never
// reads. Errors are the API server's, as a client's are (AlreadyExists for
// a redelivery).
func NewCreator(cfg *rest.Config, scheme *runtime.Scheme) (Creator, error) {
	cfg = rest.CopyConfig(cfg)
	gv := v1alpha1.GroupVersion
	cfg.GroupVersion = &gv
	cfg.APIPath = "/apis"
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if cfg.UserAgent == "" {
		cfg.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("REST client for HookRuns: %w", err)
	}
	return &restCreator{rest: rc}, nil
}

type restCreator struct {
	rest rest.Interface
}

func (c *restCreator) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	run, ok := obj.(*v1alpha1.HookRun)
	if !ok {
		return fmt.Errorf("the webhook server creates HookRuns, not %T", obj)
	}
	o := (&client.CreateOptions{}).ApplyOptions(opts)
	return c.rest.Post().
		Namespace(run.Namespace).
		Resource("hookruns").
		VersionedParams(o.AsCreateOptions(), metav1.ParameterCodec).
		Body(run).
		Do(ctx).
		Error()
}
