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
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// Why no go-github (or another SDK) for the payload types: every provider
// here needs the same few fields out of a payload (repository, ref, sha,
// before, sender, clone URL), for every event type, including ones an SDK
// does not know yet. A small struct per provider decodes exactly those and
// ignores the rest, one HMAC helper serves every provider, and the binary
// does not carry a 300-file SDK for a 20-line signature check. The payload
// shapes are pinned by the real-shaped fixtures in testdata/.

// provider is one git host's webhook dialect.
type provider interface {
	// verify reports whether the request was sent by someone who holds one
	// of in.keys. Errors wrap errMissingSignature or errBadSignature.
	verify(in *verifyInput) error
	// normalise reads the delivery out of an authenticated request. An error
	// means the payload is malformed (400).
	normalise(header http.Header, body []byte) (*event, error)
}

// providers is the table of dialects, keyed by spec.source.provider.
var providers = map[v1alpha1.Provider]provider{
	v1alpha1.ProviderGitHub:    githubProvider{},
	v1alpha1.ProviderGitLab:    gitlabProvider{},
	v1alpha1.ProviderGitea:     giteaProvider{},
	v1alpha1.ProviderBitbucket: bitbucketProvider{},
	v1alpha1.ProviderGeneric:   genericProvider{},
}

// verifyInput is what a signature check needs.
type verifyInput struct {
	header    http.Header
	body      []byte
	keys      [][]byte // the current secret, then the previous one
	allowSHA1 bool
	now       time.Time
	tolerance time.Duration
}

var (
	errMissingSignature = errors.New("missing signature")
	errBadSignature     = errors.New("invalid signature")
)

// kind is what a delivery means for matching.
type kind int

const (
	kindOther  kind = iota // any other event: answers to its own name only
	kindPush               // a branch push
	kindTag                // a tag push
	kindDelete             // a branch or tag deletion
	// kindCreate is a "ref created" notice (GitHub's and Gitea's create
	// event). The host also sends the push of the same ref, which is the one
	// that runs: a create answers only to its own name, listed explicitly.
	kindCreate
	// kindEcho is a second notice of a change another delivery of the same
	// host already carries (Gitea sends a deleted tag both as a push with an
	// all-zero sha and as a delete event). It never runs; echo says why.
	kindEcho
	// kindPullRequest is a pull or merge request: it answers to its own name
	// and "pull_request", and carries delivery.pullRequest.
	kindPullRequest
)

// candidate is one normalised delivery. Most payloads give one; a Bitbucket
// push can carry several ref changes, and the first one the template
// matches is run.
type candidate struct {
	delivery v1alpha1.Delivery
	kind     kind
	echo     string // kindEcho: which delivery carries the change instead
	// files are the paths the delivery's commits added, modified or
	// removed, as the payload lists them; filesKnown is false when the
	// payload has no list or the list may be incomplete.
	files      []string
	filesKnown bool
	// filesSource names where a list the payload did not have came from
	// ("the github compare API"); filesNote says why the host could not
	// tell, when it was asked and could not (dry run).
	filesSource, filesNote string
}

// payloadCommit is a commit as GitHub, GitLab and Gitea list it in a push.
type payloadCommit struct {
	ID       string   `json:"id"`
	Message  string   `json:"message"`
	Added    []string `json:"added"`
	Modified []string `json:"modified"`
	Removed  []string `json:"removed"`
}

// maxPayloadCommits is how many commits GitHub, GitLab and Gitea list in a
// push at most: a push that lists as many may have had more.
const maxPayloadCommits = 20

// maxChangedFiles bounds the changed files kept of one delivery; a push
// that changed more is treated as one whose list is incomplete.
const maxChangedFiles = 2000

// changedFiles is the sorted set of files the commits touched, and whether
// it is the whole list: total is the number of commits the host says the
// push had (0 when it does not say).
func changedFiles(commits []payloadCommit, total int) ([]string, bool) {
	if len(commits) == 0 || len(commits) >= maxPayloadCommits || total > len(commits) {
		return nil, false
	}
	seen := map[string]bool{}
	for _, c := range commits {
		for _, list := range [][]string{c.Added, c.Modified, c.Removed} {
			for _, f := range list {
				if f != "" {
					seen[f] = true
				}
			}
		}
	}
	// No file at all (empty commits, or a host that leaves the lists
	// empty) says nothing about what changed.
	if len(seen) == 0 || len(seen) > maxChangedFiles {
		return nil, false
	}
	return slices.Sorted(maps.Keys(seen)), true
}

// MaxMessageBytes bounds delivery.message.
const MaxMessageBytes = 1024

// commitMessage is a commit message cut to MaxMessageBytes of valid UTF-8.
func commitMessage(msg string) string {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) <= MaxMessageBytes {
		return msg
	}
	cut := MaxMessageBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut]
}

// prTitle is a pull request title cut as a message is.
func prTitle(title string) string { return commitMessage(title) }

// event is a normalised request.
type event struct {
	ping       bool
	candidates []candidate
	// document is the JSON the params are read from (the body, or the
	// payload field of a form-encoded body). It is valid JSON: normalise has
	// decoded it (the handler relies on that to read params in one pass).
	document []byte
	// header is the request's (match.expression reads it).
	header http.Header
	input  *exprInput
	// answers are the hosts' answers about the changed files, by question
	// (ChangedFilesFetcher.Question), for all the templates of the delivery.
	answers map[string]hostAnswer
}

// exprInput is what match.expression reads of the request, decoded once
// for all the templates and candidates of a delivery.
func (ev *event) exprInput() *exprInput {
	if ev.input == nil {
		ev.input = &exprInput{document: ev.document, header: ev.header}
	}
	return ev.input
}

// zeroSHA is what git hosts send as the new sha of a deleted ref.
const zeroSHA = "0000000000000000000000000000000000000000"

func isZeroSHA(s string) bool { return s != "" && strings.Trim(s, "0") == "" }

// refKind is kindTag for refs/tags/*, else kindPush.
func refKind(ref string) kind {
	if strings.HasPrefix(ref, "refs/tags/") {
		return kindTag
	}
	return kindPush
}

// fullRef turns a short branch or tag name (GitHub/Gitea create and delete
// events, Bitbucket Cloud changes) into a full ref.
func fullRef(name, refType string) string {
	if name == "" || strings.HasPrefix(name, "refs/") {
		return name
	}
	switch strings.ToLower(refType) {
	case "tag":
		return "refs/tags/" + name
	case "branch", "named_branch":
		return "refs/heads/" + name
	}
	return name
}

// bodyID is the delivery id of a request that carries none: the same body
// gives the same id, so a retry of it is recognised as a duplicate.
func bodyID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// deliveryID is the first non-empty header value, else the body's hash.
func deliveryID(body []byte, headerValues ...string) string {
	if id := firstNonEmpty(headerValues...); id != "" {
		return id
	}
	return bodyID(body)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// decodeJSON decodes a payload into a provider's struct.
func decodeJSON(doc []byte, v any) error {
	if len(bytes.TrimSpace(doc)) == 0 {
		return errors.New("empty body")
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
}

// formDocument returns the JSON of a request: the body, or for
// application/x-www-form-urlencoded (GitHub, Gitea and Gogs offer it) its
// `payload` field. Signatures always cover the raw body.
func formDocument(header http.Header, body []byte) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("malformed form body: %w", err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return nil, errors.New("form body has no payload field")
	}
	return []byte(payload), nil
}

// macEqual reports whether want is the HMAC of msg under one of keys. Every
// key is tried (no early exit) and compared in constant time.
func macEqual(newHash func() hash.Hash, want, msg []byte, keys [][]byte) bool {
	ok := 0
	for _, k := range keys {
		if hmac.Equal(macOf(newHash, k, msg), want) {
			ok = 1
		}
	}
	return ok == 1
}

// macOf is the HMAC of msg under key: what a sender signs (Sign) and what
// verification recomputes (macEqual).
func macOf(newHash func() hash.Hash, key, msg []byte) []byte {
	mac := hmac.New(newHash, key)
	mac.Write(msg)
	return mac.Sum(nil)
}

// verifyHexMAC checks a hex HMAC of body, with an optional algorithm prefix
// such as "sha256=" (compared case-insensitively).
func verifyHexMAC(newHash func() hash.Hash, prefix, header string, body []byte, keys [][]byte) bool {
	sig := strings.TrimSpace(header)
	if prefix != "" {
		if len(sig) < len(prefix) || !strings.EqualFold(sig[:len(prefix)], prefix) {
			return false
		}
		sig = sig[len(prefix):]
	}
	want, err := hex.DecodeString(sig)
	if err != nil || len(want) != newHash().Size() {
		return false
	}
	return macEqual(newHash, want, body, keys)
}

// tokenEqual compares a plain token with the keys in constant time. Both
// sides are hashed first so that the comparison does not leak the length.
func tokenEqual(token string, keys [][]byte) bool {
	given := sha256.Sum256([]byte(token))
	ok := 0
	for _, k := range keys {
		want := sha256.Sum256(k)
		ok |= subtle.ConstantTimeCompare(given[:], want[:])
	}
	return ok == 1
}

// Standard Webhooks (https://www.standardwebhooks.com): GitLab's signing
// tokens and the generic provider.
const (
	hdrWebhookID        = "Webhook-Id"
	hdrWebhookTimestamp = "Webhook-Timestamp"
	hdrWebhookSignature = "Webhook-Signature"
	whsecPrefix         = "whsec_"
)

func hasStandardSignature(h http.Header) bool { return h.Get(hdrWebhookSignature) != "" }

// standardKeys derives the HMAC keys of a Standard Webhooks secret: a
// `whsec_<base64>` secret is the base64-decoded key (the spec's form, and
// GitLab's signing tokens); any other secret is used as written and, when it
// is valid base64, also decoded (what the spec's libraries do).
func standardKeys(secrets [][]byte) [][]byte {
	var keys [][]byte
	for _, s := range secrets {
		str := string(s)
		if rest, ok := strings.CutPrefix(str, whsecPrefix); ok {
			if k, err := base64.StdEncoding.DecodeString(rest); err == nil && len(k) > 0 {
				keys = append(keys, k)
			}
			continue
		}
		keys = append(keys, s)
		if k, err := base64.StdEncoding.DecodeString(str); err == nil && len(k) > 0 {
			keys = append(keys, k)
		}
	}
	return keys
}

// verifyStandard checks `webhook-signature: v1,<base64 HMAC-SHA256 of
// "{webhook-id}.{webhook-timestamp}.{body}">` (several space-separated
// signatures may be sent) and that the timestamp is within tolerance of now,
// which stops a captured delivery from being replayed later.
func verifyStandard(in *verifyInput) error {
	id := in.header.Get(hdrWebhookID)
	ts := in.header.Get(hdrWebhookTimestamp)
	sigs := in.header.Get(hdrWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("%w: Standard Webhooks needs webhook-id, webhook-timestamp and webhook-signature", errMissingSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp is not a Unix time", errBadSignature)
	}
	if d := in.now.Sub(time.Unix(sec, 0)); d > in.tolerance || d < -in.tolerance {
		return fmt.Errorf("%w: webhook-timestamp is more than %s away from the server's clock", errBadSignature, in.tolerance)
	}
	msg := standardMessage(id, ts, in.body)
	keys := standardKeys(in.keys)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue // v1a (ed25519) and unknown versions are not ours to check
		}
		want, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(want) != sha256.Size {
			continue
		}
		if macEqual(sha256.New, want, msg, keys) {
			return nil
		}
	}
	return fmt.Errorf("%w: webhook-signature does not match", errBadSignature)
}

// standardMessage is what a Standard Webhooks signature covers:
// "{webhook-id}.{webhook-timestamp}.{body}".
func standardMessage(id, ts string, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(ts)+len(body)+2)
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = append(msg, ts...)
	msg = append(msg, '.')
	return append(msg, body...)
}

// bearerToken is the token of an `Authorization: Bearer <token>` header.
func bearerToken(h http.Header) (string, bool) {
	auth := h.Get("Authorization")
	if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(auth[7:]), true
}
