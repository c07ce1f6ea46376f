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

package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/schedule"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDecideTick(t *testing.T) {
	tests := []struct {
		name     string
		cron     string
		zone     string
		last     string
		now      string
		deadline time.Duration
		wantStr  [3]string // run, missed, next (RFC 3339, "" for zero)
	}{
		{
			name: "before the first tick nothing runs", cron: "0 3 * * *",
			last: "2026-03-01T10:00:00Z", now: "2026-03-02T02:59:59Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"", "", "2026-03-02T03:00:00Z"},
		},
		{
			name: "a tick just past runs", cron: "0 3 * * *",
			last: "2026-03-01T10:00:00Z", now: "2026-03-02T03:00:10Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"2026-03-02T03:00:00Z", "", "2026-03-03T03:00:00Z"},
		},
		{
			name: "after downtime only the latest missed tick runs", cron: "*/5 * * * *",
			last: "2026-03-02T03:00:00Z", now: "2026-03-02T05:01:00Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"2026-03-02T05:00:00Z", "", "2026-03-02T05:05:00Z"},
		},
		{
			name: "a tick older than the deadline is missed", cron: "0 3 * * *",
			last: "2026-03-01T03:00:00Z", now: "2026-03-02T03:06:00Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"", "2026-03-02T03:00:00Z", "2026-03-03T03:00:00Z"},
		},
		{
			name: "the tick already run does not run again", cron: "0 3 * * *",
			last: "2026-03-02T03:00:00Z", now: "2026-03-02T03:01:00Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"", "", "2026-03-03T03:00:00Z"},
		},
		{
			name: "more missed ticks than the walk allows: the latest within the deadline", cron: "* * * * *",
			last: "2026-01-01T00:00:00Z", now: "2026-03-02T03:00:30Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"2026-03-02T03:00:00Z", "", "2026-03-02T03:01:00Z"},
		},
		{
			name: "time zone: 03:00 Berlin is 02:00 UTC in winter", cron: "0 3 * * *", zone: "Europe/Berlin",
			last: "2026-01-01T00:00:00Z", now: "2026-01-01T02:00:05Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"2026-01-01T02:00:00Z", "", "2026-01-02T02:00:00Z"},
		},
		{
			name: "time zone: 03:00 Berlin is 01:00 UTC in summer", cron: "0 3 * * *", zone: "Europe/Berlin",
			last: "2026-07-01T00:00:00Z", now: "2026-07-01T01:00:05Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"2026-07-01T01:00:00Z", "", "2026-07-02T01:00:00Z"},
		},
		{
			name: "DST spring forward: 02:30 Berlin does not exist on 29 March; the next is the day after", cron: "30 2 * * *", zone: "Europe/Berlin",
			last: "2026-03-28T01:30:00Z", now: "2026-03-29T12:00:00Z", deadline: 5 * time.Minute,
			wantStr: [3]string{"", "", "2026-03-30T00:30:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, err := schedule.Parse(&hooksv1alpha1.ScheduleSpec{Cron: tt.cron, TimeZone: tt.zone, Ref: "refs/heads/main"})
			if err != nil {
				t.Fatal(err)
			}
			got := decideTick(sched, mustTime(t, tt.last), mustTime(t, tt.now), tt.deadline)
			str := func(v time.Time) string {
				if v.IsZero() {
					return ""
				}
				return v.UTC().Format(time.RFC3339)
			}
			if diff := cmp.Diff(tt.wantStr, [3]string{str(got.Run), str(got.Missed), str(got.Next)}); diff != "" {
				t.Errorf("run, missed, next (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRepositoryOf(t *testing.T) {
	tests := []struct{ url, want string }{
		{url: "https://github.com/acme/site.git", want: "acme/site"},
		{url: "https://user:token@gitlab.example.com/group/sub/app", want: "group/sub/app"},
		{url: "git@github.com:acme/site.git", want: "acme/site"},
		{url: "ssh://git@host:2222/acme/site.git", want: "acme/site"},
		{url: "git://127.0.0.1:9418/site.git", want: "site"},
		{url: "https://github.com/", want: ""},
	}
	for _, tt := range tests {
		if got := repositoryOf(tt.url); got != tt.want {
			t.Errorf("repositoryOf(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestRedactURLAndSecrets(t *testing.T) {
	if got := redactURL("https://deploy:s3cret@host/acme/site.git"); strings.Contains(got, "s3cret") || strings.Contains(got, "deploy") {
		t.Errorf("redactURL kept the user information: %s", got)
	}
	if got := redactSecrets("auth failed for s3cret", []string{"", "s3cret"}); got != "auth failed for ***" {
		t.Errorf("redactSecrets = %q", got)
	}
}
