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
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

const (
	// maxRunNameLength keeps a run's name a DNS-1123 label, so that its Job
	// (named after it) can label its pods with it.
	maxRunNameLength = 63
	runHashLength    = 10
)

// RunName is the HookRun name of a delivery: `<template>-<first 10 hex
// digits of sha256(delivery id)>`. A redelivery maps to the same name, so the
// API server's AlreadyExists is the lock that keeps one run per delivery.
// The template part is trimmed so that the whole is at most 63 characters
// and a DNS-1123 label (dots become dashes).
func RunName(template, deliveryID string) string {
	sum := sha256.Sum256([]byte(deliveryID))
	suffix := hex.EncodeToString(sum[:])[:runHashLength]

	prefix := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		default:
			return '-'
		}
	}, template)
	if limit := maxRunNameLength - runHashLength - 1; len(prefix) > limit {
		prefix = prefix[:limit]
	}
	prefix = strings.Trim(prefix, "-")
	if prefix == "" {
		return "run-" + suffix
	}
	return prefix + "-" + suffix
}
