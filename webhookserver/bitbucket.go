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
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// bitbucketProvider covers Bitbucket Cloud (X-Event-Key repo:push,
// X-Request-UUID) and Bitbucket Data Center (X-Event-Key repo:refs_changed,
// X-Request-Id). Both sign the raw body as X-Hub-Signature: sha256=<hex>.
type bitbucketProvider struct{}

func (bitbucketProvider) verify(in *verifyInput) error {
	sig := in.header.Get("X-Hub-Signature")
	if sig == "" {
		return fmt.Errorf("%w: no X-Hub-Signature header (set a secret on the webhook)", errMissingSignature)
	}
	if !verifyHexMAC(sha256.New, "sha256=", sig, in.body, in.keys) {
		return fmt.Errorf("%w: X-Hub-Signature does not match", errBadSignature)
	}
	return nil
}

// bitbucketPayload is the union of the Cloud and the Data Center shapes; the
// fields the two share a name for have the same JSON type in both.
type bitbucketPayload struct {
	// Cloud: repo:push
	Push *struct {
		Changes []struct {
			New *bitbucketCloudRef `json:"new"`
			Old *bitbucketCloudRef `json:"old"`
		} `json:"changes"`
	} `json:"push"`
	// Data Center: repo:refs_changed (and mirror:repo_synchronized)
	Changes []struct {
		Ref struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"ref"`
		RefID    string `json:"refId"`
		FromHash string `json:"fromHash"`
		ToHash   string `json:"toHash"`
		Type     string `json:"type"`
	} `json:"changes"`
	Repository struct {
		FullName string `json:"full_name"` // Cloud
		Slug     string `json:"slug"`      // Data Center
		Project  *struct {
			Key string `json:"key"`
		} `json:"project"` // Data Center (Cloud has a project object without key use)
		Links struct {
			HTML *struct {
				Href string `json:"href"`
			} `json:"html"` // Cloud
			Clone []struct {
				Href string `json:"href"`
				Name string `json:"name"`
			} `json:"clone"` // Data Center
		} `json:"links"`
	} `json:"repository"`
	Actor struct {
		Nickname    string `json:"nickname"`     // Cloud
		DisplayName string `json:"display_name"` // Cloud
		Name        string `json:"name"`         // Data Center
		Slug        string `json:"slug"`         // Data Center
	} `json:"actor"`
	Test bool `json:"test"` // Data Center's "Test connection"
	// Cloud: pullrequest:*
	CloudPR *struct {
		ID          int64            `json:"id"`
		Title       string           `json:"title"`
		Source      bitbucketCloudPR `json:"source"`
		Destination bitbucketCloudPR `json:"destination"`
	} `json:"pullrequest"`
	// Data Center: pr:*
	DCPR *struct {
		ID      int64         `json:"id"`
		Title   string        `json:"title"`
		FromRef bitbucketDCPR `json:"fromRef"`
		ToRef   bitbucketDCPR `json:"toRef"`
	} `json:"pullRequest"`
}

type bitbucketCloudPR struct {
	Branch struct {
		Name string `json:"name"`
	} `json:"branch"`
	Commit struct {
		Hash string `json:"hash"`
	} `json:"commit"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

func (e bitbucketCloudPR) repo() string {
	if e.Repository == nil {
		return ""
	}
	return e.Repository.FullName
}

type bitbucketDCPR struct {
	ID           string `json:"id"`
	LatestCommit string `json:"latestCommit"`
	Repository   *struct {
		Slug    string `json:"slug"`
		Project *struct {
			Key string `json:"key"`
		} `json:"project"`
		Links struct {
			Clone []struct {
				Href string `json:"href"`
				Name string `json:"name"`
			} `json:"clone"`
		} `json:"links"`
	} `json:"repository"`
}

func (e bitbucketDCPR) repo() string {
	r := e.Repository
	if r == nil {
		return ""
	}
	if r.Project != nil && r.Project.Key != "" {
		return r.Project.Key + "/" + r.Slug
	}
	return r.Slug
}

// bitbucketActions map Bitbucket's pull request event keys (Cloud
// pullrequest:*, Data Center pr:*). Cloud's pullrequest:updated is sent for
// new commits and for edits alike; it is taken as synchronize, so that no
// preview misses a push.
var bitbucketActions = map[string]v1alpha1.PullRequestAction{
	"pullrequest:created":   v1alpha1.PullRequestOpened,
	"pullrequest:updated":   v1alpha1.PullRequestSynchronize,
	"pullrequest:fulfilled": v1alpha1.PullRequestMerged,
	"pullrequest:rejected":  v1alpha1.PullRequestClosed,
	"pr:opened":             v1alpha1.PullRequestOpened,
	"pr:from_ref_updated":   v1alpha1.PullRequestSynchronize,
	"pr:modified":           v1alpha1.PullRequestEdited,
	"pr:merged":             v1alpha1.PullRequestMerged,
	"pr:declined":           v1alpha1.PullRequestClosed,
	"pr:deleted":            v1alpha1.PullRequestClosed,
}

func bitbucketAction(name string) v1alpha1.PullRequestAction {
	if a, ok := bitbucketActions[name]; ok {
		return a
	}
	return v1alpha1.PullRequestOther
}

// bitbucketPullRequest is the candidate of a pull request event, or nil.
// Cloud keeps no ref for a pull request: its ref is the source branch's.
// Data Center's is refs/pull-requests/N/from.
func bitbucketPullRequest(name string, p *bitbucketPayload, base v1alpha1.Delivery) *candidate {
	d := base
	switch {
	case p.CloudPR != nil && strings.HasPrefix(name, "pullrequest:"):
		pr := p.CloudPR
		d.Ref, d.SHA = fullRef(pr.Source.Branch.Name, "branch"), pr.Source.Commit.Hash
		d.PullRequest = &v1alpha1.PullRequestDelivery{
			Number: pr.ID, Action: bitbucketAction(name),
			BaseRef:  fullRef(pr.Destination.Branch.Name, "branch"),
			HeadRef:  fullRef(pr.Source.Branch.Name, "branch"),
			FromFork: !strings.EqualFold(pr.Source.repo(), pr.Destination.repo()),
			Title:    prTitle(pr.Title),
		}
		if d.Repository == "" {
			d.Repository = pr.Destination.repo()
		}
	case p.DCPR != nil && strings.HasPrefix(name, "pr:"):
		pr := p.DCPR
		d.Ref = "refs/pull-requests/" + strconv.FormatInt(pr.ID, 10) + "/from"
		d.SHA = pr.FromRef.LatestCommit
		d.PullRequest = &v1alpha1.PullRequestDelivery{
			Number: pr.ID, Action: bitbucketAction(name),
			BaseRef:  fullRef(pr.ToRef.ID, "branch"),
			HeadRef:  fullRef(pr.FromRef.ID, "branch"),
			FromFork: !strings.EqualFold(pr.FromRef.repo(), pr.ToRef.repo()),
			Title:    prTitle(pr.Title),
		}
		if d.Repository == "" {
			d.Repository = pr.ToRef.repo()
		}
		if d.CloneURL == "" && pr.ToRef.Repository != nil {
			for _, c := range pr.ToRef.Repository.Links.Clone {
				if c.Name == "http" || c.Name == "https" {
					d.CloneURL = c.Href
					break
				}
			}
		}
	default:
		return nil
	}
	return &candidate{delivery: d, kind: kindPullRequest}
}

type bitbucketCloudRef struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Target struct {
		Hash string `json:"hash"`
	} `json:"target"`
}

func (bitbucketProvider) normalise(h http.Header, body []byte) (*event, error) {
	name := h.Get("X-Event-Key")
	if name == "" {
		return nil, errors.New("no X-Event-Key header")
	}
	if name == "diagnostics:ping" {
		return &event{ping: true}, nil
	}
	var p bitbucketPayload
	if err := decodeJSON(body, &p); err != nil {
		return nil, err
	}
	base := v1alpha1.Delivery{
		ID:       deliveryID(body, h.Get("X-Request-UUID"), h.Get("X-Request-Id")),
		Provider: v1alpha1.ProviderBitbucket,
		Event:    name,
		Sender:   firstNonEmpty(p.Actor.Nickname, p.Actor.Name, p.Actor.Slug, p.Actor.DisplayName),
	}
	r := p.Repository
	switch {
	case r.FullName != "": // Cloud
		base.Repository = r.FullName
		if r.Links.HTML != nil && r.Links.HTML.Href != "" {
			base.CloneURL = strings.TrimSuffix(r.Links.HTML.Href, "/") + ".git"
		}
	case r.Slug != "": // Data Center: PROJECT/slug
		base.Repository = r.Slug
		if r.Project != nil && r.Project.Key != "" {
			base.Repository = r.Project.Key + "/" + r.Slug
		}
		for _, c := range r.Links.Clone {
			if c.Name == "http" || c.Name == "https" {
				base.CloneURL = c.Href
				break
			}
		}
	}

	var cands []candidate
	if p.Push != nil {
		for _, c := range p.Push.Changes {
			d := base
			k := kindPush
			switch {
			case c.New != nil:
				d.Ref, d.SHA = fullRef(c.New.Name, c.New.Type), c.New.Target.Hash
				k = refKind(d.Ref)
			case c.Old != nil: // a deleted branch or tag: new is null
				d.Ref, d.SHA = fullRef(c.Old.Name, c.Old.Type), zeroSHA
				k = kindDelete
			default:
				continue
			}
			if c.Old != nil {
				d.Before = c.Old.Target.Hash
			}
			cands = append(cands, candidate{delivery: d, kind: k})
		}
	}
	for _, c := range p.Changes {
		d := base
		d.Ref = firstNonEmpty(c.Ref.ID, c.RefID)
		if strings.EqualFold(c.Ref.Type, "TAG") && !strings.HasPrefix(d.Ref, "refs/") {
			d.Ref = fullRef(d.Ref, "tag")
		}
		d.SHA, d.Before = c.ToHash, c.FromHash
		k := refKind(d.Ref)
		if strings.EqualFold(c.Type, "DELETE") || isZeroSHA(c.ToHash) {
			d.SHA = zeroSHA
			k = kindDelete
		}
		cands = append(cands, candidate{delivery: d, kind: k})
	}
	if c := bitbucketPullRequest(name, &p, base); c != nil {
		cands = append(cands, *c)
	}
	if len(cands) == 0 {
		cands = []candidate{{delivery: base, kind: kindOther}}
	}
	return &event{candidates: cands, document: body}, nil
}
