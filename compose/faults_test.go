package compose_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/internal/promstack"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/routing"
	"github.com/tensorwasm/obsbundle/simserver"
)

// The fault scenarios of issue 11: the real Prometheus and Alertmanager,
// the simulator as the scraped service, and faults injected as an operator
// meets them (a dead target, restarts, a kill -9, a counter reset, noise on
// a fresh start). Each scenario asserts what the webhook receivers got.
//
// They run a spec of their own, TensorWasm's availability SLO with windows
// of minutes instead of hours and a 15s evaluation interval, so that a
// whole incident (page, hold, resolve) fits in about five minutes; the
// scenarios run concurrently, so the test takes about six.

// faultTiers are the fault spec's tiers, scaled down from TensorWasm's 1h/6h/3d.
var faultTiers = catalog.QuickAvailability().Services[0].SLOs[0].Tiers

// Timing of the fault stacks.
const (
	// faultEvaluation is not a divisor of the demo routing's group_wait
	// (10s): Alertmanager then flushes a group between evaluations, never at
	// one. At 10s every flush fell on an evaluation, and when an incident
	// closed, the flush could come between the fast tier's resolve and the
	// slow tier's (Prometheus sends each rule's alerts after evaluating it):
	// the slow tier, no longer inhibited, went out as a firing page, and the
	// resolve a minute later (seen once in about fifteen closes). Production
	// timers (1m evaluation, 30s group_wait, 5m group_interval) keep them
	// apart too.
	faultEvaluation = catalog.QuickEvaluation
	faultScrape     = 5 * time.Second
	// faultRPS is the simulator's constant request rate: enough requests per
	// 15s tile (about 150) for a full outage to be unmistakable, few enough
	// that Poisson noise on the errors is real.
	faultRPS = 10
	// scenarioTimeout bounds each scenario.
	scenarioTimeout = 9 * time.Minute
	// quietAfterResolve is how long a scenario watches for a second page
	// after the resolve (a slower tier taking over, as in issue 11 item 2).
	quietAfterResolve = 30 * time.Second
)

// faultSpec is catalog.QuickAvailability. The simulator serves
// TensorWasm's metric contract, so the rules read it as is.
func faultSpec(t *testing.T) model.Spec {
	t.Helper()
	s := catalog.QuickAvailability()
	require.NoError(t, s.Validate())
	return s
}

// faultEnv is what every scenario shares: the simulator binary, the spec and
// its rule file; and the Prometheus binary ("": Debian's) and whether it
// scrapes native histograms (Prometheus 3 only).
type faultEnv struct {
	simulator  string
	spec       model.Spec
	rules      string
	prometheus string
	native     bool
}

func newFaultEnv(t *testing.T) faultEnv { t.Helper(); return newEnv(t, faultSpec(t)) }

// newEnv builds the simulator and s's rule file.
func newEnv(t *testing.T, s model.Spec) faultEnv {
	t.Helper()
	dir := t.TempDir()
	b, err := bundle.Build(s)
	require.NoError(t, err)
	content, ok := b.File(model.RuleFile(s.Services[0].Name))
	require.True(t, ok)
	rules := filepath.Join(dir, "faults.rules.yaml")
	require.NoError(t, os.WriteFile(rules, content, 0o644))
	return faultEnv{simulator: buildSimulator(t, dir), spec: s, rules: rules}
}

// TestFaultScenariosWithRealServers runs every scenario at once. The
// subtests are started from goroutines rather than with t.Parallel: they
// wait on the clock, not the CPU, and go test's -parallel (the number of
// CPUs by default) would otherwise run them a few at a time.
func TestFaultScenariosWithRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault scenarios take about six minutes")
	}
	debian.Binary(t, "prometheus")
	debian.Binary(t, "prometheus-alertmanager")
	t.Parallel() // with the demo-stack test
	env := newFaultEnv(t)
	scenarios := []struct {
		name string
		run  func(*testing.T, faultEnv)
	}{
		{"dead target during a full outage holds the page", deadTarget},
		{"Prometheus restart mid-incident pages once", prometheusRestart},
		{"Alertmanager kill -9 re-sends the page once under the same group key", alertmanagerKill},
		{"counter reset raises nothing", counterReset},
		{"fresh start with noise under budget raises nothing", freshStartWithNoise},
		{"full outage then recovery pages once and resolves once", outageThenRecovery},
	}
	began := time.Now()
	var wg sync.WaitGroup
	for _, sc := range scenarios {
		wg.Go(func() { t.Run(sc.name, func(t *testing.T) { sc.run(t, env) }) })
	}
	wg.Wait()
	t.Logf("all scenarios took %s", time.Since(began).Round(time.Second))
}

// stack is one scenario's servers: the simulator, Prometheus and
// Alertmanager, and an in-test webhook receiver that outlives them all.
type stack struct {
	t        *testing.T
	ctx      context.Context
	env      faultEnv
	dir      string
	receiver *simserver.Receiver
	hookURL  string
	simAddr  string
	promAddr string
	amAddr   string
	sim      *promstack.Process
	prom     *promstack.Process
	am       *promstack.Process
	began    time.Time // when Prometheus was ready
	mu       sync.Mutex
	events   []event // what the test did, for the timeline
}

// event is one thing the test did to the stack, at a time.
type event struct {
	at   time.Time
	what string
}

// newStack starts the receiver, Alertmanager and the simulator (with extra
// simulator flags); the scenario starts Prometheus when its set-up is done.
func newStack(t *testing.T, env faultEnv, simArgs ...string) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	t.Cleanup(cancel)
	s := &stack{t: t, ctx: ctx, env: env, dir: t.TempDir(),
		receiver: simserver.NewReceiver(time.Now, slog.New(slog.NewTextHandler(io.Discard, nil))),
		simAddr:  promstack.FreeAddr(t), promAddr: promstack.FreeAddr(t), amAddr: promstack.FreeAddr(t)}
	hook := httptest.NewServer(s.receiver.Handler())
	t.Cleanup(hook.Close)
	s.hookURL = hook.URL
	t.Cleanup(func() { t.Logf("timeline (from Prometheus ready):\n%s", s.timeline()) })

	routes, err := routing.Demo(env.spec, s.hookURL)
	require.NoError(t, err)
	s.am = promstack.AlertmanagerAt(t, s.dir, s.amAddr, string(routes))
	args := append([]string{"-listen", s.simAddr, "-rps", fmt.Sprint(faultRPS), "-swing", "1"}, simArgs...)
	s.sim = promstack.Start(t, s.dir, "simulator", env.simulator, args...)
	s.waitFor("the simulator to serve", func() bool { return s.get("http://"+s.simAddr+"/healthz") == nil })
	return s
}

// prometheusConfig scrapes the simulator as TensorWasm's job, evaluates at
// faultEvaluation and alerts to the stack's Alertmanager. With native
// histograms, Prometheus 3 asks for the protobuf format and keeps the
// classic buckets beside the native histograms.
func (s *stack) prometheusConfig() string {
	native := ""
	if s.env.native {
		native = "    scrape_native_histograms: true\n    always_scrape_classic_histograms: true\n"
	}
	return fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: 4s
  evaluation_interval: %s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: %q
%s    static_configs:
      - targets: [%q]
`, model.Duration(faultScrape), model.Duration(faultEvaluation), s.env.rules, s.amAddr,
		s.env.spec.Services[0].Selector["job"], native, s.simAddr)
}

// startPrometheus starts Prometheus on a fresh data directory; the
// timeline counts from when it is ready.
func (s *stack) startPrometheus(args ...string) {
	s.t.Helper()
	bin := s.env.prometheus
	if bin == "" {
		bin = debian.Binary(s.t, "prometheus")
	}
	s.prom = promstack.PrometheusBinaryAt(s.t, bin, s.dir, s.promAddr, filepath.Join(s.dir, "prom-data"), s.prometheusConfig(), args...)
	s.began = time.Now()
	s.mark("Prometheus ready")
	// Runs before Prometheus stops (cleanups run last first).
	s.t.Cleanup(func() { s.t.Logf("firing in Prometheus (ALERTS, from Prometheus ready):\n%s", s.alertHistory()) })
}

// alertHistory lists, per alert, the spans the ALERTS series shows it
// firing, at the evaluation interval: what Prometheus decided, beside what
// Alertmanager delivered.
func (s *stack) alertHistory() string {
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	u := fmt.Sprintf("http://%s/api/v1/query_range?query=%s&start=%d&end=%d&step=%d", s.promAddr,
		url.QueryEscape(`ALERTS{alertstate="firing"}`), s.began.Unix(), time.Now().Unix(), int(faultEvaluation.Seconds()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !getJSON(s.t, ctx, u, &r) {
		return "  (Prometheus did not answer)"
	}
	var b strings.Builder
	for _, series := range r.Data.Result {
		fmt.Fprintf(&b, "  %s:", series.Metric["alertname"])
		var from, last float64
		for i, v := range series.Values {
			at, _ := v[0].(float64)
			if i > 0 && at-last > faultEvaluation.Seconds() {
				fmt.Fprintf(&b, " %s-%s", s.since(time.Unix(int64(from), 0)), s.since(time.Unix(int64(last), 0)))
				from = at
			}
			if i == 0 {
				from = at
			}
			last = at
		}
		fmt.Fprintf(&b, " %s-%s\n", s.since(time.Unix(int64(from), 0)), s.since(time.Unix(int64(last), 0)))
	}
	return b.String()
}

// mark records what the test just did.
func (s *stack) mark(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, event{time.Now(), what})
	if !s.began.IsZero() {
		s.t.Logf("%s: %s", s.since(time.Now()), what)
	}
}

// since is how long after Prometheus was ready `at` is (negative before).
func (s *stack) since(at time.Time) time.Duration { return at.Sub(s.began).Round(time.Second) }

// timeline merges what the test did with what the receivers got.
func (s *stack) timeline() string {
	s.mu.Lock()
	lines := make([]event, 0, len(s.events))
	lines = append(lines, s.events...)
	s.mu.Unlock()
	for _, n := range s.receiver.Notifications() {
		lines = append(lines, event{n.At, fmt.Sprintf("%s receiver got %s %s (group %s)", n.Receiver, n.Status, describeAlerts(n.Alerts), n.GroupKey)})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "  %7s  %s\n", s.since(l.at), l.what)
	}
	return b.String()
}

func describeAlerts(as []simserver.WebhookAlert) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%s{tier=%q,severity=%q}:%s", a.Labels["alertname"], a.Labels[model.LabelTier], a.Labels[model.LabelSeverity], a.Status))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// waitFor polls cond every two seconds until it holds; the scenario fails
// when its deadline passes first.
func (s *stack) waitFor(what string, cond func() bool) {
	s.t.Helper()
	waitFor(s.t, s.ctx, what, cond)
}

// waitUntil waits until the clock reaches at (at most the scenario's
// deadline).
func (s *stack) waitUntil(at time.Time) {
	s.t.Helper()
	select {
	case <-time.After(time.Until(at)):
	case <-s.ctx.Done():
		s.t.Fatalf("the scenario's deadline passed before %s", s.since(at))
	}
}

// stays checks cond every two seconds for d and fails as soon as it does
// not hold.
func (s *stack) stays(d time.Duration, what string, cond func() bool) {
	s.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		require.True(s.t, cond(), "%s no longer holds at %s", what, s.since(time.Now()))
		select {
		case <-s.ctx.Done():
			s.t.Fatalf("the scenario's deadline passed while checking that %s", what)
		case <-time.After(2 * time.Second):
		}
	}
	require.True(s.t, cond(), "%s no longer holds at %s", what, s.since(time.Now()))
}

func (s *stack) get(u string) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return nil
}

// outage starts a full outage (every request fails) for an hour.
func (s *stack) outage() {
	s.t.Helper()
	resp, err := http.Post("http://"+s.simAddr+"/incidents?error_ratio=1&duration=1h", "", nil)
	require.NoError(s.t, err)
	resp.Body.Close()
	require.Equal(s.t, http.StatusCreated, resp.StatusCode)
	s.mark("full outage starts")
}

// endOutage ends every incident: traffic is clean again.
func (s *stack) endOutage() {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.ctx, http.MethodDelete, "http://"+s.simAddr+"/incidents", nil)
	require.NoError(s.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	resp.Body.Close()
	require.Equal(s.t, http.StatusNoContent, resp.StatusCode)
	s.mark("outage ends")
}

// notifications are what receiver got with the status (firing or resolved).
func (s *stack) notifications(receiver, status string) []simserver.Notification {
	var out []simserver.Notification
	for _, n := range s.receiver.Notifications() {
		if n.Receiver == receiver && n.Status == status {
			out = append(out, n)
		}
	}
	return out
}

// pages and resolves count the page receiver's notifications.
func (s *stack) pages() int    { return len(s.notifications(model.PageReceiver, "firing")) }
func (s *stack) resolves() int { return len(s.notifications(model.PageReceiver, "resolved")) }

// waitForPage waits for the first page and checks it is the fast tier's,
// sent no sooner than the fast tier's coverage guard allows: its long window
// must hold a short window's worth of tiles, so a fresh Prometheus pages
// about one short window (1m) after the outage starts, plus group_wait.
func (s *stack) waitForPage() simserver.Notification {
	s.t.Helper()
	s.waitFor("the page", func() bool { return s.pages() > 0 })
	page := s.notifications(model.PageReceiver, "firing")[0]
	s.checkPage(page)
	fast := faultTiers[0]
	require.Equal(s.t, model.AlertName(fast.Alert), page.Alerts[0].Labels["alertname"], "the fast tier pages first")
	require.Equal(s.t, fast.Name, page.Alerts[0].Labels[model.LabelTier])
	after := page.At.Sub(s.began)
	require.GreaterOrEqual(s.t, after, fast.Short.Std()-faultEvaluation,
		"paged after %s: before the fast tier's long window held %s of tiles (the coverage guard)", after, fast.Short)
	require.LessOrEqual(s.t, after, fast.Short.Std()+time.Minute, "paged after %s: the fast tier should page one short window after the start", after)
	return page
}

// checkPage checks a page notification's group and the labels of its
// alerts: grouped by service and SLO only, so every alert of one SLO's
// incident shares one notification and one group key.
func (s *stack) checkPage(n simserver.Notification) {
	s.t.Helper()
	svc := s.env.spec.Services[0]
	slo := svc.SLOs[0].Name
	require.Equal(s.t, map[string]string{model.LabelService: svc.Name, model.LabelSLO: slo}, n.GroupLabels, "routing groups by service and SLO")
	require.NotEmpty(s.t, n.Alerts)
	for _, a := range n.Alerts {
		require.Equal(s.t, string(model.Page), a.Labels[model.LabelSeverity], "%v", a.Labels)
		require.Equal(s.t, svc.Name, a.Labels[model.LabelService], "%v", a.Labels)
		require.Equal(s.t, slo, a.Labels[model.LabelSLO], "%v", a.Labels)
	}
}

// waitForResolve waits for the page to resolve, then watches a while longer
// for a second page, and checks the resolve came after `notBefore`.
func (s *stack) waitForResolve(notBefore time.Time) simserver.Notification {
	s.t.Helper()
	s.waitFor("the resolve", func() bool { return s.resolves() > 0 })
	resolve := s.notifications(model.PageReceiver, "resolved")[0]
	s.checkPage(resolve)
	require.True(s.t, resolve.At.After(notBefore), "resolved at %s, before %s", s.since(resolve.At), s.since(notBefore))
	pages := s.pages()
	s.stays(quietAfterResolve, "no page after the resolve", func() bool { return s.pages() == pages && s.resolves() == 1 })
	return resolve
}

// noTicketWhilePaged checks that the ticket receiver got nothing from the
// first page until the page's alerts resolved: a page inhibits its SLO's
// tickets. The end is the alerts' end in Alertmanager, not the resolve
// notification, which waits for the group's next flush (group_interval)
// while a ticket no longer inhibited may already go out.
func (s *stack) noTicketWhilePaged(page, resolve simserver.Notification) {
	s.t.Helper()
	var ended time.Time
	for _, a := range resolve.Alerts {
		ended = maxTime(ended, a.EndsAt)
	}
	for _, n := range s.notifications(model.TicketReceiver, "firing") {
		require.False(s.t, n.At.After(page.At) && n.At.Before(ended), "a ticket while the page was open (until %s): %s at %s",
			s.since(ended), describeAlerts(n.Alerts), s.since(n.At))
	}
}

// nothingReceived checks that neither receiver got anything and that no
// alert of the bundle fired at all in Prometheus (inhibited ones included).
func (s *stack) nothingReceived() {
	s.t.Helper()
	require.Empty(s.t, s.receiver.Notifications(), "notifications")
	window := time.Since(s.began).Round(time.Second) + time.Minute
	fired := s.query(fmt.Sprintf(`max_over_time(ALERTS{alertstate="firing"}[%s])`, model.Duration(window)), time.Now())
	require.Empty(s.t, fired, "alerts fired in Prometheus")
}

// firingInPrometheus counts the alerts of a severity that the running
// Prometheus holds as firing (its rule state, not the ALERTS series, which
// a restarted server still reads from before the restart).
func (s *stack) firingInPrometheus(severity model.Severity) int {
	s.t.Helper()
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if !getJSON(s.t, s.ctx, "http://"+s.promAddr+"/api/v1/alerts", &r) {
		return 0
	}
	n := 0
	for _, a := range r.Data.Alerts {
		if a.State == "firing" && a.Labels[model.LabelSeverity] == string(severity) {
			n++
		}
	}
	return n
}

// sample is one series of an instant query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s sample) float() float64 {
	var v float64
	str, _ := s.Value[1].(string)
	_, _ = fmt.Sscan(str, &v)
	return v
}

// query runs an instant query at `at` on the stack's Prometheus.
func (s *stack) query(q string, at time.Time) []sample {
	s.t.Helper()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []sample `json:"result"`
		} `json:"data"`
	}
	u := fmt.Sprintf("http://%s/api/v1/query?query=%s&time=%d", s.promAddr, url.QueryEscape(q), at.Unix())
	require.True(s.t, getJSON(s.t, s.ctx, u, &r), "query %s", q)
	require.Equal(s.t, "success", r.Status, "query %s", q)
	return r.Data.Result
}

// recorded selects a series the bundle records for the SLO.
func (s *stack) recorded(record string) string {
	svc := s.env.spec.Services[0]
	return model.RecordedSelector(record, svc.Name, svc.SLOs[0].Name)
}

// outageThenRecovery: a full outage from the start, ended once the slow
// tier can fire too (its coverage guard needs 2m of tiles): one page, held
// while either page tier's condition is true, one resolve once both short
// windows are clean, and nothing after it.
func outageThenRecovery(t *testing.T, env faultEnv) {
	s := newStack(t, env)
	s.outage()
	s.startPrometheus()
	page := s.waitForPage()
	s.waitUntil(s.began.Add(faultTiers[1].Short.Std() + 15*time.Second))
	s.endOutage()
	ended := time.Now()
	resolve := s.waitForResolve(ended)
	// The slow tier's 2m short window keeps the page open until it is clean.
	require.GreaterOrEqual(t, resolve.At.Sub(ended), faultTiers[1].Short.Std()-2*faultEvaluation,
		"resolved %s after the outage ended, before the slow tier's short window was clean", resolve.At.Sub(ended))
	require.Equal(t, 1, s.pages(), "pages")
	require.Equal(t, 1, s.resolves(), "resolves")
	s.noTicketWhilePaged(page, resolve)
}

// deadTarget: the simulator dies during a full outage, after the page.
// While it is down the SLO cannot be measured, so the page holds; once it is
// back (a fresh process: clean traffic) and the windows are clean, the page
// resolves, once.
func deadTarget(t *testing.T, env faultEnv) {
	s := newStack(t, env)
	s.outage()
	s.startPrometheus()
	page := s.waitForPage()
	s.sim.Stop()
	s.mark("simulator stopped (target down)")
	// Longer than the fast tier's short window and SLOUnmeasured's for: the
	// old alert set resolved here after its 1m window emptied.
	s.stays(150*time.Second, "no resolve while the target is down", func() bool { return s.resolves() == 0 })
	s.sim.Restart()
	s.waitFor("the simulator to serve again", func() bool { return s.get("http://"+s.simAddr+"/healthz") == nil })
	s.mark("simulator restarted (clean traffic)")
	back := time.Now()
	resolve := s.waitForResolve(back)
	require.LessOrEqual(t, resolve.At.Sub(back), 2*time.Minute, "the page should resolve soon after the target is back")
	require.Equal(t, 1, s.pages(), "pages")
	require.Equal(t, 1, s.resolves(), "resolves")
	s.noTicketWhilePaged(page, resolve)
}

// prometheusRestart: Prometheus restarts on the same data directory during
// a full outage, after the page: the alert comes back with the same labels,
// Alertmanager sees the same alert, and no second page is sent.
func prometheusRestart(t *testing.T, env faultEnv) {
	s := newStack(t, env)
	s.outage()
	s.startPrometheus()
	page := s.waitForPage()
	s.prom.Stop()
	s.mark("Prometheus stopped")
	s.prom.Restart()
	promstack.WaitReady(t, "http://"+s.promAddr)
	s.mark("Prometheus restarted on the same data directory")
	s.waitFor("the restarted Prometheus to fire the page again", func() bool { return s.firingInPrometheus(model.Page) > 0 })
	s.waitUntil(maxTime(time.Now(), s.began.Add(faultTiers[1].Short.Std()+15*time.Second)))
	s.endOutage()
	resolve := s.waitForResolve(time.Now())
	require.Equal(t, 1, s.pages(), "pages")
	require.Equal(t, 1, s.resolves(), "resolves")
	s.noTicketWhilePaged(page, resolve)
}

// alertmanagerKill: Alertmanager is killed with SIGKILL after the page and
// restarted on the same storage. Its notification log is written on an
// orderly shutdown and every 15 minutes, so a kill -9 loses it, and when
// Prometheus re-sends the firing alert Alertmanager pages again, once. The
// re-sent page carries the same group key and labels, so PagerDuty, which
// deduplicates on the key, keeps one incident. Then the page resolves once.
//
// Alertmanager keeps no alerts across a restart either: it learns them
// again from Prometheus' re-sends, each alert on its own cycle of
// --rules.alert.resend-delay (1m by default) from when it was last sent.
// With the default, the first flush after the restart (group_wait, 10s)
// can go out with part of the incident: seen, the slow tier alone, which
// had just started while the fast tier's re-send was still due, and the
// fast tier's arrival then makes a third page of the same group. So
// Prometheus re-sends here every evaluation, as we recommend wherever
// Alertmanager may restart: the whole incident is back within one
// evaluation.
func alertmanagerKill(t *testing.T, env faultEnv) {
	s := newStack(t, env)
	s.outage()
	s.startPrometheus("--rules.alert.resend-delay=" + model.Duration(faultEvaluation).String())
	page := s.waitForPage()
	s.am.Kill()
	s.mark("Alertmanager killed (SIGKILL)")
	s.am.Restart()
	promstack.WaitReady(t, "http://"+s.amAddr)
	s.mark("Alertmanager restarted on the same storage")
	s.waitFor("the page re-sent after the restart", func() bool { return s.pages() > 1 })
	resent := s.notifications(model.PageReceiver, "firing")[1]
	s.checkPage(resent)
	require.Equal(t, page.GroupKey, resent.GroupKey, "the re-sent page must carry the incident's group key")
	require.Equal(t, alertLabels(page), alertLabels(resent), "the re-sent page must carry the same alerts")
	s.waitUntil(maxTime(time.Now(), s.began.Add(faultTiers[1].Short.Std()+15*time.Second)))
	s.endOutage()
	resolve := s.waitForResolve(time.Now())
	require.Equal(t, page.GroupKey, resolve.GroupKey)
	require.Equal(t, 2, s.pages(), "the page and its one re-send")
	require.Equal(t, 1, s.resolves(), "resolves")
	s.noTicketWhilePaged(page, resolve)
}

// alertLabels lists the label sets of a notification's alerts, in order.
func alertLabels(n simserver.Notification) []string {
	var out []string
	for _, a := range n.Alerts {
		keys := make([]string, 0, len(a.Labels))
		for k, v := range a.Labels {
			keys = append(keys, k+"="+v)
		}
		sort.Strings(keys)
		out = append(out, strings.Join(keys, ","))
	}
	sort.Strings(out)
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// counterReset: clean traffic, and the simulator restarts quickly (no
// scrape gap to speak of), so every counter drops to zero. The tiles must
// count the new process's events, not a negative delta nor a lifetime, and
// nothing may fire.
func counterReset(t *testing.T, env faultEnv) {
	s := newStack(t, env)
	s.startPrometheus()
	s.waitUntil(s.began.Add(90 * time.Second))
	s.sim.Stop()
	s.sim.Restart()
	s.waitFor("the simulator to serve again", func() bool { return s.get("http://"+s.simAddr+"/healthz") == nil })
	s.mark("simulator restarted (counters reset)")
	reset := time.Now()
	// Past the slow tier's short window after the reset, and past the ticket
	// tier's coverage guard (5m), so every tier has judged windows holding
	// the reset.
	s.waitUntil(maxTime(reset.Add(faultTiers[1].Short.Std()+30*time.Second), s.began.Add(faultTiers[2].Short.Std()+40*time.Second)))

	// Two minutes of tiles around the reset hold two minutes of traffic:
	// 1200 requests at 10/s, less what the old process served after its last
	// scrape (at most a scrape interval's worth).
	total := s.recorded(model.TotalEventsRecord(model.Duration(faultEvaluation)))
	around := s.query(fmt.Sprintf(`sum_over_time(%s[2m])`, total), reset.Add(time.Minute))
	require.Len(t, around, 1)
	want := 120.0 * faultRPS
	got := around[0].float()
	t.Logf("events counted in the 2m around the reset: %g (traffic: %g)", got, want)
	require.InDelta(t, want*0.95, got, want*0.15, "events counted across the counter reset")
	s.nothingReceived()
}

// freshStartWithNoise: a fresh Prometheus on clean traffic with Poisson
// noise on 0.2% errors (burn 0.4 on the 99.5% SLO). On thin windows one
// unlucky tile reads 1% or more, above the 1x ticket's 0.5%; the coverage
// guard keeps every tier quiet until its long window holds its short
// window's worth of tiles. Watched until past the ticket tier's guard (5m).
func freshStartWithNoise(t *testing.T, env faultEnv) {
	s := newStack(t, env, "-error-ratio", "0.002")
	s.startPrometheus()
	s.waitUntil(s.began.Add(faultTiers[2].Short.Std() + 40*time.Second))
	s.nothingReceived()
}
