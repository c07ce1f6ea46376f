//go:build e2e

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

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/gittest"
)

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@hookrun.invalid",
		"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@hookrun.invalid")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// servedSite makes the web site a deploy pulls: a bare repository site.git
// served by git daemon (its URL), a working copy that pushes to it with
// index.html "v1" committed on main (work), and an empty folder for the
// host path the deploy writes to (www).
func servedSite(t *testing.T) (url, www, work string) {
	t.Helper()
	g := NewWithT(t)
	root := t.TempDir()
	bare := filepath.Join(root, "git", "site.git")
	www = filepath.Join(root, "www")
	work = filepath.Join(root, "work")
	for _, dir := range []string{bare, www, work} {
		g.Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	}
	git(t, bare, "init", "--bare", "--initial-branch=main")
	git(t, work, "init", "--initial-branch=main")
	g.Expect(os.WriteFile(filepath.Join(work, "index.html"), []byte("v1\n"), 0o644)).To(Succeed())
	git(t, work, "add", ".")
	git(t, work, "commit", "-m", "v1")
	git(t, work, "remote", "add", "origin", bare)
	git(t, work, "push", "origin", "main")
	return gitDaemon(t, filepath.Join(root, "git")), www, work
}

// gitDaemon serves the folder's bare repository site.git on 127.0.0.1 (git://).
func gitDaemon(t *testing.T, base string) string {
	t.Helper()
	return gittest.Serve(t, base, "site.git")
}

func githubPush(repo, ref, before, after, cloneURL string) []byte {
	return []byte(fmt.Sprintf(`{"ref":%q,"before":%q,"after":%q,"created":false,"deleted":false,"forced":false,
"repository":{"name":"site","full_name":%q,"clone_url":%q,"owner":{"login":"acme","name":"acme"}},
"pusher":{"name":"e2e","email":"e2e@hookrun.invalid"},"sender":{"login":"e2e"},
"head_commit":{"id":%q,"message":"e2e"}}`, ref, before, after, repo, cloneURL, after))
}

// TestDeployPullsTheNewCommit is the seeds' use case: a push to a bare repo,
// a signed GitHub delivery, and a Job that runs `git pull` in a host folder.
func TestDeployPullsTheNewCommit(t *testing.T) {
	g := NewWithT(t)
	ns, secret := namespace(t)
	url, www, work := servedSite(t)
	git(t, www, "clone", url, "site")
	before := git(t, filepath.Join(www, "site"), "rev-parse", "HEAD")

	tmpl := template(ns, "site", hooksv1alpha1.ProviderGitHub, localRunner("cd /www/site && git pull --ff-only && git log -1 --format='deployed %H'"))
	tmpl.Spec.Match = hooksv1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{"acme/site"}, Refs: []string{"refs/heads/main"}}
	pod := &tmpl.Spec.Run.PodTemplate.Spec
	pod.Volumes = []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: www}}}}
	pod.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "www", MountPath: "/www"}}
	createTemplate(t, tmpl)

	g.Expect(os.WriteFile(filepath.Join(work, "index.html"), []byte("v2\n"), 0o644)).To(Succeed())
	git(t, work, "commit", "-am", "v2")
	git(t, work, "push", "origin", "main")
	after := git(t, work, "rev-parse", "HEAD")

	body := githubPush("acme/site", "refs/heads/main", before, after, url)
	answer := send(t, webhookURL, ns, "site", secret, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "e2e-" + after[:12]}, body)
	g.Expect(answer.Status).To(Equal(http.StatusAccepted), "answer: %+v", answer)
	g.Expect(answer.Run).NotTo(BeEmpty())

	run := waitForFinish(t, ns, answer.Run, 2*time.Minute)
	g.Expect(run.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), "reason=%s message=%s", run.Status.Reason, run.Status.Message)
	g.Expect(run.Status.ExitCode).To(Equal(ptr.To[int32](0)))
	g.Expect(run.Status.Attempts).To(Equal(int32(1)))
	g.Expect(git(t, filepath.Join(www, "site"), "rev-parse", "HEAD")).To(Equal(after), "the host folder holds the pushed commit")
	logs := kubectl(t, "-n", ns, "logs", "job/"+run.Status.JobName)
	g.Expect(logs).To(ContainSubstring("Fast-forward"))
	g.Expect(logs).To(ContainSubstring("deployed " + after))

	// A redelivery maps to the same run and starts nothing new.
	again := send(t, webhookURL, ns, "site", secret, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "e2e-" + after[:12]}, body)
	g.Expect(again.Status).To(Equal(http.StatusOK))
	g.Expect(again.Run).To(Equal(answer.Run))
}

func genericDelivery(t *testing.T, ns, template, secret, id string) string {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"event":"push","repository":"acme/site","ref":"refs/heads/main","sha":"%040d","sender":"e2e"}`, 7))
	answer := send(t, webhookURL, ns, template, secret, map[string]string{"X-Hook-Delivery": id}, body)
	if answer.Status != http.StatusAccepted {
		t.Fatalf("delivery %s: %+v", id, answer)
	}
	return answer.Run
}

func TestFailingCommandReportsExitCodeAndOutput(t *testing.T) {
	g := NewWithT(t)
	ns, secret := namespace(t)
	run := localRunner(`echo "checking out $HOOK_REF"; echo "error: deploy failed" >&2; exit 3`)
	run.Retries = ptr.To[int32](1)
	createTemplate(t, template(ns, "fails", hooksv1alpha1.ProviderGeneric, run))

	name := genericDelivery(t, ns, "fails", secret, "fail-1")
	got := waitForFinish(t, ns, name, 3*time.Minute)
	g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseFailed))
	g.Expect(got.Status.Reason).To(Equal("BackoffLimitExceeded"))
	g.Expect(got.Status.Attempts).To(Equal(int32(2)))
	g.Expect(got.Status.ExitCode).To(Equal(ptr.To[int32](3)))
	g.Expect(got.Status.Message).To(ContainSubstring("error: deploy failed"))
	g.Expect(got.Status.Message).To(ContainSubstring("checking out refs/heads/main"))
}

func TestTimeoutEndsDeadlineExceeded(t *testing.T) {
	g := NewWithT(t)
	ns, secret := namespace(t)
	run := localRunner("echo started; sleep 120")
	run.TimeoutSeconds = ptr.To[int64](3)
	// sh as PID 1 ignores SIGTERM: without this the kill waits 30 s.
	run.PodTemplate.Spec.TerminationGracePeriodSeconds = ptr.To[int64](1)
	createTemplate(t, template(ns, "slow", hooksv1alpha1.ProviderGeneric, run))

	name := genericDelivery(t, ns, "slow", secret, "slow-1")
	got := waitForFinish(t, ns, name, 2*time.Minute)
	g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseFailed))
	g.Expect(got.Status.Reason).To(Equal("DeadlineExceeded"))
}

// TestQueueRunsBurstOneAfterAnother checks on real pods that a burst of
// deliveries under Queue never overlaps.
func TestQueueRunsBurstOneAfterAnother(t *testing.T) {
	g := NewWithT(t)
	ns, secret := namespace(t)
	tmpl := template(ns, "queue", hooksv1alpha1.ProviderGeneric, localRunner("echo start $HOOK_DELIVERY; sleep 2; echo done"))
	tmpl.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue}
	createTemplate(t, tmpl)

	var names []string
	for i := 1; i <= 3; i++ {
		names = append(names, genericDelivery(t, ns, "queue", secret, fmt.Sprintf("burst-%d", i)))
	}
	type span struct{ start, end time.Time }
	var spans []span
	for _, name := range names {
		got := waitForFinish(t, ns, name, 3*time.Minute)
		g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), "run %s: %s", name, got.Status.Message)
		pods := &corev1.PodList{}
		g.Expect(k8s.List(context.Background(), pods, client.InNamespace(ns),
			client.MatchingLabels{hooksv1alpha1.LabelRun: name})).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(1))
		term := pods.Items[0].Status.ContainerStatuses[0].State.Terminated
		g.Expect(term).NotTo(BeNil())
		spans = append(spans, span{term.StartedAt.Time, term.FinishedAt.Time})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	for i := 1; i < len(spans); i++ {
		g.Expect(spans[i].start.Before(spans[i-1].end)).To(BeFalse(),
			"run %d started at %s before run %d finished at %s", i+1, spans[i].start, i, spans[i-1].end)
	}
}
