package compose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/internal/promstack"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/simserver"
)

// The whole demo stack with real servers: the simulator, Prometheus and
// Debian's Alertmanager, on free loopback ports, with the compose stack's
// configurations. It runs twice at once, on Debian's Prometheus 2.42 and on
// Prometheus 3 (PROMETHEUS3, built by tools/prometheus3), as the demo's
// image runs. A full outage must page through Alertmanager once and resolve
// once after it ends. It takes about twelve minutes: the fast tier waits
// for five minutes of data, and its short window needs five to empty.
func TestDemoStackPagesAndResolvesWithRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end test takes about twelve minutes")
	}
	t.Parallel() // with the fault scenarios (faults_test.go): all of them wait on the clock, not the CPU
	simulator := buildSimulator(t, t.TempDir())
	servers := []struct {
		name       string
		prometheus func(testing.TB) string
	}{
		{"Debian Prometheus 2.42", func(t testing.TB) string { return debian.Binary(t, "prometheus") }},
		{"Prometheus 3", promstack.Prometheus3},
	}
	// Both stacks at once, from goroutines rather than with t.Parallel, as
	// the fault scenarios do: they wait on the clock.
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(func() {
			t.Run(s.name, func(t *testing.T) { demoStack(t, s.prometheus(t), simulator) })
		})
	}
	wg.Wait()
}

// demoStack runs the demo stack with the Prometheus binary prometheus and
// checks one incident: one page, one resolve, no ticket.
func demoStack(t *testing.T, prometheus, simulator string) {
	dir := t.TempDir()
	simAddr, promAddr, amAddr := promstack.FreeAddr(t), promstack.FreeAddr(t), promstack.FreeAddr(t)
	simURL := "http://" + simAddr
	promstack.Start(t, dir, "simulator", simulator, "-listen", simAddr)

	promstack.AlertmanagerAt(t, dir, amAddr, rewrite(t, filepath.Join(bundlePath(t, "alertmanager"), "demo.yml"),
		map[string]string{model.DemoSimulatorURL: simURL}))
	promstack.PrometheusBinaryAt(t, prometheus, dir, promAddr, filepath.Join(dir, "prom-data"), rewrite(t, "prometheus.yml", map[string]string{
		"simulator:9464": simAddr, "alertmanager:9093": amAddr, "localhost:9090": promAddr,
		"/etc/prometheus/rules": bundlePath(t, "rules"),
	}))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	// A full outage from the start: every window holds only failures.
	resp, err := http.Post(simURL+"/incidents?error_ratio=1&duration=1h", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	fast := model.AlertName("availability-fast-burn")
	waitFor(t, ctx, "the fast-burn page to reach the page webhook", func() bool {
		return notified(t, ctx, simURL, model.PageReceiver, fast, "firing")
	})
	page := firingAlert(t, ctx, amAddr, fast)
	require.Equal(t, "page", page.Labels[model.LabelSeverity])
	require.Equal(t, "fast", page.Labels[model.LabelTier])

	// The slower tiers wait for their windows to hold enough data (half an
	// hour and more), so the fast tier's page is the only notification.
	require.Equal(t, 1, notifications(t, ctx, simURL, model.PageReceiver), "page notifications")

	// Recording rules produce values, and every rule is healthy.
	var ratio float64
	waitFor(t, ctx, "the recorded 5m error ratio", func() bool {
		ratio = query(t, ctx, promAddr, `slo:sli_error:ratio_rate5m{slo="availability_http"}`)
		return ratio > 0.9
	})
	waitFor(t, ctx, "every rule evaluated and healthy", func() bool { return allRulesHealthy(t, ctx, promAddr) })

	// The outage ends: five minutes later the short window is clean.
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, simURL+"/incidents", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	waitFor(t, ctx, "the fast-burn page to resolve", func() bool {
		return notified(t, ctx, simURL, model.PageReceiver, fast, "resolved")
	})
	// One incident: one page, one resolve, no ticket.
	require.Equal(t, 2, notifications(t, ctx, simURL, model.PageReceiver), "page notifications")
	require.Zero(t, notifications(t, ctx, simURL, model.TicketReceiver), "ticket notifications")
	t.Logf("5m error ratio during the outage: %g", ratio)
}

// buildSimulator builds cmd/simulator into dir.
func buildSimulator(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "simulator")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/simulator").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// waitFor polls cond every two seconds until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	began := time.Now()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(2 * time.Second):
		}
	}
	t.Logf("%s after %s", what, time.Since(began).Round(time.Second))
}

func getJSON(t *testing.T, ctx context.Context, url string, v any) bool {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(v) == nil
}

// notified says whether the simulator's receiver got alertname in status.
func notified(t *testing.T, ctx context.Context, simURL, receiver, alertname, status string) bool {
	var ns []simserver.Notification
	if !getJSON(t, ctx, simURL+"/alerts", &ns) {
		return false
	}
	for _, n := range ns {
		for _, a := range n.Alerts {
			if n.Receiver == receiver && a.Labels["alertname"] == alertname && a.Status == status {
				return true
			}
		}
	}
	return false
}

// notifications counts the notifications the receiver got.
func notifications(t *testing.T, ctx context.Context, simURL, receiver string) int {
	var ns []simserver.Notification
	require.True(t, getJSON(t, ctx, simURL+"/alerts", &ns))
	n := 0
	for _, x := range ns {
		if x.Receiver == receiver {
			n++
		}
	}
	return n
}

// amAlert is an alert in Alertmanager's v2 API.
type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

func alertIn(t *testing.T, ctx context.Context, amAddr, alertname string) (amAlert, bool) {
	var alerts []amAlert
	if !getJSON(t, ctx, "http://"+amAddr+"/api/v2/alerts", &alerts) {
		return amAlert{}, false
	}
	for _, a := range alerts {
		if a.Labels["alertname"] == alertname {
			return a, true
		}
	}
	return amAlert{}, false
}

func firingAlert(t *testing.T, ctx context.Context, amAddr, alertname string) amAlert {
	t.Helper()
	a, ok := alertIn(t, ctx, amAddr, alertname)
	require.True(t, ok, "%s is not in Alertmanager", alertname)
	require.Equal(t, "active", a.Status.State)
	return a
}

func query(t *testing.T, ctx context.Context, promAddr, q string) float64 {
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if !getJSON(t, ctx, "http://"+promAddr+"/api/v1/query?query="+urlEscape(q), &r) || len(r.Data.Result) == 0 {
		return 0
	}
	var v float64
	_, _ = fmt.Sscan(r.Data.Result[0].Value[1].(string), &v)
	return v
}

func urlEscape(s string) string {
	return strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D", "\"", "%22", " ", "%20", "=", "%3D", "+", "%2B").Replace(s)
}

// allRulesHealthy says whether Prometheus loaded every rule of the bundle
// and each has been evaluated without error (health ok, no last error).
func allRulesHealthy(t *testing.T, ctx context.Context, promAddr string) bool {
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if !getJSON(t, ctx, "http://"+promAddr+"/api/v1/rules", &r) {
		return false
	}
	s := catalog.TensorWasm()
	groups, err := rules.Build(&s.Services[0], s.Version)
	require.NoError(t, err)
	want := 0
	for _, g := range groups.Groups {
		want += len(g.Rules)
	}
	n := 0
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			require.NotEqual(t, "err", rule.Health, "%s: %s", rule.Name, rule.LastError)
			require.Empty(t, rule.LastError, rule.Name)
			if rule.Health != "ok" {
				return false
			}
			n++
		}
	}
	require.LessOrEqual(t, n, want)
	return n == want
}
