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
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/client-go/util/jsonpath"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// MaxParamValueBytes caps one param's value. Linux refuses to start a
// process with an environment string over 128 KiB, so a larger value could
// never reach the container anyway.
const MaxParamValueBytes = 64 << 10

// reservedPrefix is kept for the variables hookrun sets itself.
const reservedPrefix = "HOOK_"

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CompiledParams are a template's params, checked and ready to be read out of
// payloads.
type CompiledParams struct {
	params []compiledParam
	// roots are the top-level payload fields the paths read; only those are
	// decoded (a full decode of a big payload into maps costs more than the
	// rest of a delivery). nil means the whole payload is needed.
	roots map[string]bool
}

type compiledParam struct {
	name string
	expr string // the path in client-go's template syntax, braces included
}

// CompileParams checks a template's params: each name must be a valid,
// unreserved, unique environment variable name and each path a valid
// client-go JSONPath expression (`{.pusher.name}`; a path without braces such
// as `.pusher.name` is read as `{.pusher.name}`, as kubectl's sort-by does).
// It has no side effects; the HookTemplate reconciler calls it to report
// InvalidParam.
func CompileParams(params []v1alpha1.ParamSpec) (*CompiledParams, error) {
	out := &CompiledParams{params: make([]compiledParam, 0, len(params)), roots: map[string]bool{}}
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		switch {
		case !envNameRE.MatchString(p.Name):
			return nil, fmt.Errorf("param %q: not a valid environment variable name", p.Name)
		case strings.HasPrefix(p.Name, reservedPrefix):
			return nil, fmt.Errorf("param %q: names starting with %s are reserved", p.Name, reservedPrefix)
		case seen[p.Name]:
			return nil, fmt.Errorf("param %q: listed twice", p.Name)
		}
		seen[p.Name] = true
		expr := relaxPath(p.Path)
		if _, err := parsePath(p.Name, expr); err != nil {
			return nil, fmt.Errorf("param %q: path %q: %w", p.Name, p.Path, err)
		}
		out.params = append(out.params, compiledParam{name: p.Name, expr: expr})
		if out.roots != nil {
			out.roots = addRoots(out.roots, p.Name, expr)
		}
	}
	return out, nil
}

// addRoots adds the top-level fields an expression reads to roots, or
// returns nil when it may read anything (recursive descent, wildcards,
// unions, or any shape not recognised here).
func addRoots(roots map[string]bool, name, expr string) (out map[string]bool) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	p, err := jsonpath.Parse(name, expr)
	if err != nil {
		return nil
	}
	for _, n := range p.Root.Nodes {
		switch n := n.(type) {
		case *jsonpath.TextNode:
		case *jsonpath.ListNode:
			nodes := n.Nodes
			if len(nodes) > 0 {
				if id, ok := nodes[0].(*jsonpath.IdentifierNode); ok {
					if id.Name != "range" && id.Name != "end" {
						return nil
					}
					nodes = nodes[1:]
				}
			}
			if len(nodes) == 0 {
				continue
			}
			switch first := nodes[0].(type) {
			case *jsonpath.TextNode: // a quoted literal such as {","}
			case *jsonpath.FieldNode:
				if first.Value == "" {
					return nil
				}
				// Inside a {range} a path is relative to the element; adding
				// its first field too only decodes a little more.
				roots[first.Value] = true
			default:
				return nil
			}
		default:
			return nil
		}
	}
	return roots
}

// Len is the number of params.
func (c *CompiledParams) Len() int {
	if c == nil {
		return 0
	}
	return len(c.params)
}

// Evaluate reads every param out of a JSON payload. A path that finds nothing
// gives an empty value; only a payload that is not JSON is an error.
func (c *CompiledParams) Evaluate(payload []byte) (map[string]string, error) {
	if c.Len() == 0 {
		return nil, nil
	}
	doc, err := c.decode(payload)
	if err != nil {
		return nil, err
	}
	return c.evaluate(doc), nil
}

// decode decodes what the params read of a payload: the top-level fields
// they name, or everything.
func (c *CompiledParams) decode(payload []byte) (any, error) {
	if c.roots != nil && !json.Valid(payload) {
		return decodeDocument(payload) // the error
	}
	return c.decodeValid(payload)
}

// decodeValid is decode for a payload known to be valid JSON: an event's
// document, which its provider has already decoded. The top-level fields the
// params name are found in one pass that decodes nothing it skips: decoding
// a 10 KB push payload twice was the largest part of a delivery's cost.
func (c *CompiledParams) decodeValid(payload []byte) (any, error) {
	if c.roots == nil {
		return decodeDocument(payload)
	}
	top, ok := topLevelFields(payload, c.roots)
	if !ok {
		return decodeDocument(payload) // not an object: decode it as it is
	}
	doc := make(map[string]any, len(top))
	for k, raw := range top {
		v, err := decodeDocument(raw)
		if err != nil {
			return nil, err
		}
		doc[k] = v
	}
	return doc, nil
}

// topLevelFields returns the raw values of the wanted fields of a JSON
// object, the last one of a key given twice (as json.Unmarshal does). It
// expects valid JSON and only delimits values; ok is false when data is not
// an object or not shaped as expected (the caller then decodes it all).
func topLevelFields(data []byte, want map[string]bool) (fields map[string][]byte, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	fields = make(map[string][]byte, len(want))
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return fields, true
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		keyStart, end := i, endOfString(data, i)
		if end < 0 {
			return nil, false
		}
		rawKey := data[keyStart+1 : end-1]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		valueEnd := endOfValue(data, i)
		if valueEnd < 0 {
			return nil, false
		}
		// A key with no escapes and valid UTF-8 is its own decoding;
		// json.Unmarshal replaces invalid UTF-8 with U+FFFD, so such a
		// key takes the slow path like an escaped one.
		if bytes.IndexByte(rawKey, '\\') < 0 && utf8.Valid(rawKey) {
			if want[string(rawKey)] { // no allocation for the lookup
				fields[string(rawKey)] = data[i:valueEnd]
			}
		} else {
			var key string
			if err := json.Unmarshal(data[keyStart:end], &key); err != nil {
				return nil, false
			}
			if want[key] {
				fields[key] = data[i:valueEnd]
			}
		}
		i = skipSpace(data, valueEnd)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return fields, true
		default:
			return nil, false
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// endOfString returns the index after the string that starts at data[i]
// (a quote), or -1.
func endOfString(data []byte, i int) int {
	for j := i + 1; ; {
		q := bytes.IndexByte(data[j:], '"')
		if q < 0 {
			return -1
		}
		j += q
		// The quote ends the string unless an odd number of backslashes
		// precede it.
		n := 0
		for k := j - 1; k > i && data[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// endOfValue returns the index after the value that starts at data[i], or
// -1.
func endOfValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return endOfString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end := endOfString(data, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if j == i {
					return -1
				}
				return j
			}
			j++
		}
		return -1
	}
}

// evaluate reads every param out of a decoded JSON document.
func (c *CompiledParams) evaluate(doc any) map[string]string {
	if c.Len() == 0 {
		return nil
	}
	values := make(map[string]string, len(c.params))
	for _, p := range c.params {
		values[p.name] = evalPath(p.name, p.expr, doc)
	}
	return values
}

// decodeDocument decodes JSON keeping numbers as written (json.Number), so
// that 12345678901 does not come out as 1.2345678901e+10.
func decodeDocument(payload []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	return doc, nil
}

// relaxPath accepts `.a.b`, `a.b` and `$.a.b` for `{.a.b}`; anything with a
// brace is taken as a client-go template as written.
func relaxPath(path string) string {
	path = strings.TrimSpace(path)
	if strings.ContainsAny(path, "{}") || path == "" {
		return path
	}
	if strings.HasPrefix(path, "$") || strings.HasPrefix(path, ".") || strings.HasPrefix(path, "[") {
		return "{" + path + "}"
	}
	return "{." + path + "}"
}

// parsePath parses one expression. client-go's parser has panicked on odd
// input in the past; a panic here must not take the server down.
func parsePath(name, expr string) (jp *jsonpath.JSONPath, err error) {
	defer func() {
		if r := recover(); r != nil {
			jp, err = nil, fmt.Errorf("invalid JSONPath: %v", r)
		}
	}()
	if strings.TrimSpace(expr) == "" {
		return nil, fmt.Errorf("empty path")
	}
	jp = jsonpath.New(name).AllowMissingKeys(true)
	if err := jp.Parse(expr); err != nil {
		return nil, err
	}
	return jp, nil
}

// evalPath evaluates one expression against a document. A fresh parser is
// used every time: a JSONPath is not safe for concurrent use, and a {range}
// rewrites its own node list while it runs. Errors and panics give "".
func evalPath(name, expr string, doc any) (value string) {
	defer func() {
		if r := recover(); r != nil {
			value = ""
		}
	}()
	jp, err := parsePath(name, expr)
	if err != nil {
		return ""
	}
	results, err := jp.FindResults(doc)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, node := range results {
		for i, v := range node {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(formatValue(v))
		}
	}
	return b.String()
}

// formatValue prints a JSON value the way a shell script wants it: strings
// and numbers as written, null as "", objects and arrays as compact JSON.
func formatValue(v reflect.Value) string {
	for v.IsValid() && v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return ""
	}
	switch v.Kind() {
	case reflect.String: // also json.Number
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct:
		if (v.Kind() == reflect.Map || v.Kind() == reflect.Slice) && v.IsNil() {
			return ""
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return ""
		}
		return string(b)
	default:
		return fmt.Sprint(v.Interface())
	}
}
