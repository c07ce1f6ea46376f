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

package benchutil

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Median of the values (0 for none).
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MinMax of the values (0, 0 for none).
func MinMax(v []float64) (lo, hi float64) {
	if len(v) == 0 {
		return 0, 0
	}
	return slices.Min(v), slices.Max(v)
}

// Spread formats the values' median and range: "2.31 (2.10–2.90)".
func Spread(v []float64, format string) string {
	lo, hi := MinMax(v)
	return fmt.Sprintf(format+" ("+format+"–"+format+")", Median(v), lo, hi)
}

// EnvInt reads an integer setting, or def.
func EnvInt(name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", name, s, err))
	}
	return n
}

// EnvInts reads a comma-separated list of integers, or def.
func EnvInts(name string, def []int) []int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			panic(fmt.Sprintf("%s=%q: %v", name, s, err))
		}
		out = append(out, n)
	}
	return out
}

// EnvString reads a setting, or def.
func EnvString(name, def string) string {
	if s := os.Getenv(name); s != "" {
		return s
	}
	return def
}
