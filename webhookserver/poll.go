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
	"github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// RefAllowed reports whether match.refs lets ref through, exactly as a
// webhook delivery's ref is judged; the poller uses it so that polling and
// webhooks agree on which refs run.
func RefAllowed(m v1alpha1.MatchSpec, ref string) bool {
	return globAny(m.Refs, ref, false)
}

// runName is the name of the run of delivery d to tmpl. A branch or tag push
// to a template with spec.poll is named after its ref and sha
// (delivery.NameForPush), the name the poller gives the same push, so the
// second of the two is a duplicate; every other delivery is named after its
// id.
func runName(tmpl *v1alpha1.HookTemplate, ev *event, d v1alpha1.Delivery) string {
	for _, c := range ev.candidates {
		if c.delivery.ID == d.ID && c.delivery.Ref == d.Ref && (c.kind == kindPush || c.kind == kindTag) {
			return delivery.NameForPush(tmpl, d)
		}
	}
	return RunName(tmpl.Name, d.ID)
}
