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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// fixture reads testdata/<name>.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// compact is a fixture as a host sends it (no indentation).
func compact(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("compact fixture: %v", err)
	}
	return buf.Bytes()
}

func hmacHex(newHash func() hash.Hash, key, body []byte) string {
	m := hmac.New(newHash, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func sha256Sig(key, body []byte) string { return "sha256=" + hmacHex(sha256.New, key, body) }

// standardSig is a Standard Webhooks signature header value.
func standardSig(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// headers builds an http.Header from pairs.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// signedHeaders are the headers a host sends for body signed with key.
func signedHeaders(p string, key, body []byte, event, id string) http.Header {
	switch p {
	case "github":
		return headers("X-GitHub-Event", event, "X-GitHub-Delivery", id, "X-Hub-Signature-256", sha256Sig(key, body), "Content-Type", "application/json")
	case "gitlab":
		return headers("X-Gitlab-Event", event, "X-Gitlab-Event-UUID", id, "X-Gitlab-Token", string(key), "Content-Type", "application/json")
	case "gitea":
		return headers("X-Gitea-Event", event, "X-Gitea-Delivery", id, "X-Gitea-Signature", hmacHex(sha256.New, key, body), "Content-Type", "application/json")
	case "bitbucket":
		return headers("X-Event-Key", event, "X-Request-UUID", id, "X-Hub-Signature", sha256Sig(key, body), "Content-Type", "application/json")
	default:
		return headers("X-Hook-Event", event, "X-Hook-Delivery", id, "X-Hub-Signature-256", sha256Sig(key, body), "Content-Type", "application/json")
	}
}
