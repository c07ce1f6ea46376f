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
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// MaxExpressionCost bounds one evaluation of match.expression (CEL's cost
// units: roughly one per operation, one per list element or string byte
// visited). An expression that needs more is stopped and the delivery
// ignored with the reason.
const MaxExpressionCost = 100_000

// expression is a compiled match.expression.
type expression struct {
	source     string
	program    cel.Program
	compileErr error
}

var (
	celEnvOnce sync.Once
	celEnv     *cel.Env
	celEnvErr  error
)

// expressionEnv is the CEL environment every expression compiles in:
// delivery (the normalised delivery), body (the decoded JSON payload) and
// headers (lower-cased names), plus cel-go's string extensions.
func expressionEnv() (*cel.Env, error) {
	celEnvOnce.Do(func() {
		celEnv, celEnvErr = cel.NewEnv(
			cel.Variable("delivery", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("body", cel.DynType),
			cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)),
			ext.Strings(),
		)
	})
	return celEnv, celEnvErr
}

// compileExpression type-checks src and plans its evaluation. It must
// return a bool.
func compileExpression(src string) (*expression, error) {
	env, err := expressionEnv()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("must return a bool, not %s", t)
	}
	prg, err := env.Program(ast, cel.CostLimit(MaxExpressionCost), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	return &expression{source: src, program: prg}, nil
}

// exprInput is what an expression reads of the request besides the
// delivery. The body is decoded once, on first use.
type exprInput struct {
	document []byte
	header   http.Header

	once    sync.Once
	body    any
	headers map[string]string
	err     error
}

func (in *exprInput) values() (any, map[string]string, error) {
	if in == nil {
		return map[string]any{}, map[string]string{}, nil
	}
	in.once.Do(func() {
		in.headers = exprHeaders(in.header)
		if len(in.document) == 0 {
			in.body = map[string]any{}
			return
		}
		var doc any
		if err := json.Unmarshal(in.document, &doc); err != nil {
			in.err = fmt.Errorf("payload is not JSON: %w", err)
			return
		}
		in.body = celValue(doc)
	})
	return in.body, in.headers, in.err
}

// celValue converts a decoded JSON document into CEL values once, so that
// an expression walking a large payload does not convert it again on every
// access (which its cost limit would not count).
func celValue(v any) ref.Val {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[ref.Val]ref.Val, len(x))
		for k, e := range x {
			m[types.String(k)] = celValue(e)
		}
		return types.NewRefValMap(types.DefaultTypeAdapter, m)
	case []any:
		l := make([]ref.Val, len(x))
		for i, e := range x {
			l[i] = celValue(e)
		}
		return types.NewRefValList(types.DefaultTypeAdapter, l)
	case string:
		return types.String(x)
	case float64:
		return types.Double(x)
	case bool:
		return types.Bool(x)
	default:
		return types.NullValue
	}
}

// exprHeaders are the request's headers as an expression sees them:
// lower-cased names, values of a repeated header joined with ", ", and
// without the headers that carry a signature, token or credentials.
func exprHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		lower := strings.ToLower(name)
		if secretHeader(lower) {
			continue
		}
		out[lower] = strings.Join(values, ", ")
	}
	return out
}

func secretHeader(lower string) bool {
	for _, s := range []string{"signature", "token", "authorization", "cookie", "secret"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// deliveryValue is the delivery as an expression sees it: every field
// present (empty when the delivery has none), pullRequest too.
func deliveryValue(d v1alpha1.Delivery) map[string]any {
	var pr v1alpha1.PullRequestDelivery
	if d.PullRequest != nil {
		pr = *d.PullRequest
	}
	return map[string]any{
		"id": d.ID, "provider": string(d.Provider), "event": d.Event, "repository": d.Repository,
		"ref": d.Ref, "sha": d.SHA, "before": d.Before, "sender": d.Sender, "cloneURL": d.CloneURL,
		"message": d.Message,
		"pullRequest": map[string]any{
			"number": pr.Number, "action": string(pr.Action), "baseRef": pr.BaseRef,
			"headRef": pr.HeadRef, "fromFork": pr.FromFork, "title": pr.Title,
		},
	}
}

// evaluate runs match.expression on a delivery. An evaluation error (a
// missing field, a cost overrun, a non-bool result) is a verdict, not a
// server error: the delivery is ignored and the note says why.
func (mt *matcher) evaluate(d v1alpha1.Delivery, in *exprInput) FieldMatch {
	fm := FieldMatch{Patterns: []string{}, Matched: true}
	e := mt.expr
	if e == nil {
		return fm
	}
	fm.Patterns = []string{e.source}
	ok, err := e.eval(d, in)
	if err != nil {
		fm.Matched, fm.Value = false, "error"
		fm.Note = "match.expression failed: " + err.Error()
		return fm
	}
	fm.Matched, fm.Value = ok, strconv.FormatBool(ok)
	if !ok {
		fm.Note = "match.expression returned false"
	}
	return fm
}

func (e *expression) eval(d v1alpha1.Delivery, in *exprInput) (ok bool, err error) {
	if e.compileErr != nil {
		return false, e.compileErr
	}
	body, headers, err := in.values()
	if err != nil {
		return false, err
	}
	defer func() {
		// cel-go reports errors as values; this is a last guard so that no
		// payload can take the server down.
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("evaluation panicked: %v", r)
		}
	}()
	out, _, err := e.program.Eval(map[string]any{"delivery": deliveryValue(d), "body": body, "headers": headers})
	if err != nil {
		return false, err
	}
	b, isBool := out.Value().(bool)
	if !isBool {
		return false, errors.New("did not return a bool, got " + out.Type().TypeName())
	}
	return b, nil
}
