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
	"time"

	"github.com/robfig/cron/v3"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// DefaultStartingDeadline is how late a tick may still run when
// schedule.startingDeadlineSeconds is not set.
const DefaultStartingDeadline = 300 * time.Second

// maxMissedTicks bounds the walk over missed ticks, as the upstream CronJob
// controller does: a schedule that missed more than this many is too late.
const maxMissedTicks = 100

// tickDecision is what a schedule asks for now.
type tickDecision struct {
	// Run is the tick to run now (zero: none).
	Run time.Time
	// Missed is the latest tick that was too late to run (zero: none).
	Missed time.Time
	// Next is the first tick after now.
	Next time.Time
}

// decideTick is the CronJob controller's rule: of the ticks after last
// (the last scheduled tick, or the template's creation) up to now, only the
// latest runs, and only when it is at most deadline old.
func decideTick(sched cron.Schedule, last, now time.Time, deadline time.Duration) tickDecision {
	var latest time.Time
	n := 0
	for t := sched.Next(last); !t.After(now); t = sched.Next(t) {
		latest = t
		n++
		if n > maxMissedTicks {
			// Too many missed ticks to walk: start over from the deadline's
			// beginning, which is all that may still run.
			latest = time.Time{}
			for u := sched.Next(now.Add(-deadline - time.Nanosecond)); !u.After(now); u = sched.Next(u) {
				latest = u
			}
			break
		}
	}
	d := tickDecision{Next: sched.Next(now)}
	if latest.IsZero() {
		return d
	}
	if now.Sub(latest) > deadline {
		d.Missed = latest
		return d
	}
	d.Run = latest
	return d
}

// startingDeadline is schedule.startingDeadlineSeconds as a duration.
func startingDeadline(s *hooksv1alpha1.ScheduleSpec) time.Duration {
	if s.StartingDeadlineSeconds == nil || *s.StartingDeadlineSeconds <= 0 {
		return DefaultStartingDeadline
	}
	return time.Duration(*s.StartingDeadlineSeconds) * time.Second
}
