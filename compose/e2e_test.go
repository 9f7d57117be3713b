package compose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/simserver"
)

// The whole demo stack with real servers: the simulator, Debian's
// Prometheus and Alertmanager, on free loopback ports, with the compose
// stack's configurations. A full outage must page through Alertmanager
// (the slower tiers inhibited) and resolve once it ends. It takes about
// ten minutes: the fast tier's short window needs five to empty.
func TestDemoStackPagesAndResolvesWithRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end test takes about ten minutes")
	}
	prometheus, alertmanager := debian.Binary(t, "prometheus"), debian.Binary(t, "prometheus-alertmanager")
	dir := t.TempDir()
	simPort, promPort, amPort := freePort(t), freePort(t), freePort(t)
	simURL := "http://" + simPort

	simulator := filepath.Join(dir, "simulator")
	out, err := exec.Command("go", "build", "-o", simulator, "../cmd/simulator").CombinedOutput()
	require.NoError(t, err, "%s", out)
	start(t, dir, "simulator", simulator, "-listen", simPort)

	amConfig := filepath.Join(dir, "alertmanager.yml")
	require.NoError(t, os.WriteFile(amConfig, []byte(rewrite(t, filepath.Join(bundlePath(t, "alertmanager"), "demo.yml"),
		map[string]string{model.DemoSimulatorURL: simURL})), 0o644))
	start(t, dir, "alertmanager", alertmanager, "--config.file="+amConfig, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+amPort, "--cluster.listen-address=")

	promConfig := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(promConfig, []byte(rewrite(t, "prometheus.yml", map[string]string{
		"simulator:9464": simPort, "alertmanager:9093": amPort, "localhost:9090": promPort,
		"/etc/prometheus/rules": bundlePath(t, "rules"),
	})), 0o644))
	start(t, dir, "prometheus", prometheus, "--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promPort)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	waitFor(t, ctx, "Prometheus ready", func() bool { return get(ctx, "http://"+promPort+"/-/ready") == nil })
	waitFor(t, ctx, "Alertmanager ready", func() bool { return get(ctx, "http://"+amPort+"/-/ready") == nil })

	// A full outage from the start: every window holds only failures.
	resp, err := http.Post(simURL+"/incidents?error_ratio=1&duration=1h", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	fast := model.AlertName("availability-fast-burn")
	waitFor(t, ctx, "the fast-burn page to reach the page webhook", func() bool {
		return notified(t, ctx, simURL, model.PageReceiver, fast, "firing")
	})
	page := firingAlert(t, ctx, amPort, fast)
	require.Equal(t, "page", page.Labels[model.LabelSeverity])
	require.Equal(t, "fast", page.Labels[model.LabelTier])

	// The slower tiers wait for their windows to hold enough data (half an
	// hour and more), so the fast tier's page is the only notification.
	require.Equal(t, 1, notifications(t, ctx, simURL, model.PageReceiver), "page notifications")

	// Recording rules produce values, and every rule is healthy.
	var ratio float64
	waitFor(t, ctx, "the recorded 5m error ratio", func() bool {
		ratio = query(t, ctx, promPort, `slo:sli_error:ratio_rate5m{slo="availability_http"}`)
		return ratio > 0.9
	})
	waitFor(t, ctx, "every rule evaluated and healthy", func() bool { return allRulesHealthy(t, ctx, promPort) })

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

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// start runs a process until the test ends, then stops it; its output goes
// to a log file shown if the test fails.
func start(t *testing.T, dir, name, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start(), name)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- %s log (last 3000 bytes):\n%s", name, tail(b, 3000))
		}
	})
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
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

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
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
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
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

func alertIn(t *testing.T, ctx context.Context, amPort, alertname string) (amAlert, bool) {
	var alerts []amAlert
	if !getJSON(t, ctx, "http://"+amPort+"/api/v2/alerts", &alerts) {
		return amAlert{}, false
	}
	for _, a := range alerts {
		if a.Labels["alertname"] == alertname {
			return a, true
		}
	}
	return amAlert{}, false
}

func firingAlert(t *testing.T, ctx context.Context, amPort, alertname string) amAlert {
	t.Helper()
	a, ok := alertIn(t, ctx, amPort, alertname)
	require.True(t, ok, "%s is not in Alertmanager", alertname)
	require.Equal(t, "active", a.Status.State)
	return a
}

func query(t *testing.T, ctx context.Context, promPort, q string) float64 {
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if !getJSON(t, ctx, "http://"+promPort+"/api/v1/query?query="+urlEscape(q), &r) || len(r.Data.Result) == 0 {
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
// and each has been evaluated without error.
func allRulesHealthy(t *testing.T, ctx context.Context, promPort string) bool {
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
	if !getJSON(t, ctx, "http://"+promPort+"/api/v1/rules", &r) {
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
			if rule.Health != "ok" {
				return false
			}
			n++
		}
	}
	require.LessOrEqual(t, n, want)
	return n == want
}
