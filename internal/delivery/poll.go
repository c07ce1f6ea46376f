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

package delivery

import (
	"time"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// PushRunName is the name of the run of a push of ref to sha for a template
// with spec.poll: `<template>-<hash of ref and sha>`. The webhook server and
// the poller both use it, so whichever creates the run second meets
// AlreadyExists and the push runs once.
func PushRunName(template, ref, sha string) string {
	return RunName(template, "push\x00"+ref+"\x00"+sha)
}

// ScheduleRunName is the name of the run of a schedule tick:
// `<template>-<hash of the tick time>`; the name is the lock that keeps one
// run per tick (as the CronJob controller names its Jobs).
func ScheduleRunName(template string, tick time.Time) string {
	return RunName(template, ScheduleDeliveryID(tick))
}

// ScheduleDeliveryID is the delivery id of a schedule tick.
func ScheduleDeliveryID(tick time.Time) string {
	return hooksv1alpha1.ScheduleDeliveryPrefix + tick.UTC().Format(time.RFC3339)
}

// PollDeliveryID is the delivery id of a push the poller saw.
func PollDeliveryID(ref, sha string) string {
	return hooksv1alpha1.PollDeliveryPrefix + ref + "/" + sha
}

// NameForPush is the run name of a push delivery (a branch or tag moved to
// sha, not a deletion) to tmpl: with spec.poll the name of the ref and sha,
// else the name of the delivery id.
func NameForPush(tmpl *hooksv1alpha1.HookTemplate, d hooksv1alpha1.Delivery) string {
	if tmpl.Spec.Poll != nil && d.Ref != "" && d.SHA != "" && d.SHA != hooksv1alpha1.ZeroSHA {
		return PushRunName(tmpl.Name, d.Ref, d.SHA)
	}
	return RunName(tmpl.Name, d.ID)
}
