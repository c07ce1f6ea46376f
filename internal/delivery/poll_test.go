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
	"testing"
	"time"
)

func TestPollAndScheduleNames(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tick := time.Date(2026, 3, 2, 4, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name, got, want string
	}{
		{name: "poll delivery id", got: PollDeliveryID("refs/heads/main", sha), want: "poll/refs/heads/main/" + sha},
		{name: "schedule delivery id is the tick in UTC", got: ScheduleDeliveryID(tick), want: "schedule/2026-03-02T03:00:00Z"},
		{name: "schedule run name", got: ScheduleRunName("nightly", tick), want: "nightly-" + ShortHash("schedule/2026-03-02T03:00:00Z", 10)},
		{name: "push run name", got: PushRunName("site", "refs/heads/main", sha), want: "site-" + ShortHash("push\x00refs/heads/main\x00"+sha, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
	if PushRunName("site", "refs/heads/a", sha) == PushRunName("site", "refs/heads/b", sha) {
		t.Errorf("two refs at one sha share a run name")
	}
}
