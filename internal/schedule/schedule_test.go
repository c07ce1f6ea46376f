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

package schedule

import (
	"strings"
	"testing"
	"time"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		spec    hooksv1alpha1.ScheduleSpec
		wantErr string // "" for a schedule that parses
		next    string // with wantErr "": the tick after 2026-03-01T00:00:00Z
	}{
		{name: "five fields in UTC", spec: hooksv1alpha1.ScheduleSpec{Cron: "0 3 * * *"}, next: "2026-03-01T03:00:00Z"},
		{name: "five fields in Berlin", spec: hooksv1alpha1.ScheduleSpec{Cron: "0 3 * * *", TimeZone: "Europe/Berlin"}, next: "2026-03-01T02:00:00Z"},
		{name: "descriptor", spec: hooksv1alpha1.ScheduleSpec{Cron: "@hourly"}, next: "2026-03-01T01:00:00Z"},
		{name: "names and steps", spec: hooksv1alpha1.ScheduleSpec{Cron: "*/15 9-17 * MAR mon-fri"}, next: "2026-03-02T09:00:00Z"},
		{name: "bad cron", spec: hooksv1alpha1.ScheduleSpec{Cron: "61 * * * *"}, wantErr: `schedule.cron "61 * * * *"`},
		{name: "six fields", spec: hooksv1alpha1.ScheduleSpec{Cron: "0 0 3 * * *"}, wantErr: `schedule.cron "0 0 3 * * *"`},
		{name: "@every", spec: hooksv1alpha1.ScheduleSpec{Cron: "@every 1s"}, wantErr: `give five fields or a descriptor`},
		{name: "zone prefix", spec: hooksv1alpha1.ScheduleSpec{Cron: "CRON_TZ=Europe/Berlin 0 3 * * *"}, wantErr: `the time zone goes in schedule.timeZone`},
		{name: "unknown zone", spec: hooksv1alpha1.ScheduleSpec{Cron: "@daily", TimeZone: "Mars/Olympus"}, wantErr: `schedule.timeZone "Mars/Olympus" is not an IANA time zone`},
		{name: "the manager's Local zone", spec: hooksv1alpha1.ScheduleSpec{Cron: "@daily", TimeZone: "Local"}, wantErr: `schedule.timeZone "Local" is not an IANA time zone`},
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, err := Parse(&tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Parse = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := sched.Next(from).UTC().Format(time.RFC3339); got != tt.next {
				t.Errorf("next tick = %s, want %s", got, tt.next)
			}
		})
	}
}
