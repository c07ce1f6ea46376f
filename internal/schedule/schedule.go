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

// Package schedule reads a template's spec.schedule: the one parser both
// the poller (which makes the runs) and the readiness check (which shows a
// bad schedule as Ready=False/ScheduleInvalid) use.
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// parser reads five-field expressions and descriptors (@hourly, …).
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse parses schedule.cron in schedule.timeZone (UTC when empty). It
// refuses what the API's patterns let through but robfig/cron reads
// differently from a CronJob: @every (a run every few seconds is one
// typo away), a TZ=/CRON_TZ= prefix (the zone is schedule.timeZone) and
// the manager's Local zone.
func Parse(s *hooksv1alpha1.ScheduleSpec) (cron.Schedule, error) {
	loc := time.UTC
	if s.TimeZone != "" {
		l, err := time.LoadLocation(s.TimeZone)
		if err != nil || s.TimeZone == "Local" {
			return nil, fmt.Errorf("schedule.timeZone %q is not an IANA time zone", s.TimeZone)
		}
		loc = l
	}
	expr := strings.TrimSpace(s.Cron)
	if strings.HasPrefix(expr, "@every") || strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, fmt.Errorf("schedule.cron %q: give five fields or a descriptor such as @daily; the time zone goes in schedule.timeZone", s.Cron)
	}
	sched, err := parser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule.cron %q: %w", s.Cron, err)
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	return sched, nil
}
