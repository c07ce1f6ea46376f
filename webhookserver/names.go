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

import "github.com/hookrun/hookrun/internal/delivery"

// maxRunNameLength keeps a run's name a DNS-1123 label.
const maxRunNameLength = delivery.MaxNameLength

// RunName is the HookRun name of a delivery (delivery.RunName):
// `<template>-<first 10 hex digits of sha256(delivery id)>`. A redelivery
// maps to the same name, so the API server's AlreadyExists is the lock that
// keeps one run per delivery.
func RunName(template, deliveryID string) string {
	return delivery.RunName(template, deliveryID)
}
