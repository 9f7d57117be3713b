package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/promstack"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/ruleset"
	"github.com/tensorwasm/obsbundle/sim"
)

// stack is what one verify case runs against.
type stack struct {
	// rules edits the bundle's groups before Prometheus loads them.
	rules func([]rulefmt.RuleGroup) []rulefmt.RuleGroup
	// scenario edits the simulated service; rename renames metrics.
	scenario func(*sim.Scenario)
	rename   map[string]string
	// alertmanager edits the bundle's demo routing.
	alertmanager func(string) string
}

// start writes half an hour of simulated TensorWasm up to now, imports it,
// and starts Prometheus with the (edited) bundle rules and Alertmanager
// with the (edited) demo routing.
func (s stack) start(t *testing.T) (prom, am string) {
	dir := t.TempDir()
	set, err := ruleset.Builtin()
	require.NoError(t, err)
	groups := set.Groups
	if s.rules != nil {
		groups = s.rules(slices.Clone(groups))
	}
	out, err := rules.Render(rulefmt.RuleGroups{Groups: groups})
	require.NoError(t, err)
	ruleFile := filepath.Join(dir, "tensor-wasm.rules.yaml")
	require.NoError(t, os.WriteFile(ruleFile, out, 0o644))

	end := time.Now().UTC().Truncate(15 * time.Second)
	start := end.Add(-30 * time.Minute)
	scenario := catalog.Simulation(start, sim.Constant(20))
	scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.001 }
	if s.scenario != nil {
		s.scenario(scenario)
	}
	om := filepath.Join(dir, "history.om")
	require.NoError(t, promstack.WriteOpenMetrics(om, start, end, 15*time.Second, scenario.Scrape, s.rename))
	data := filepath.Join(dir, "data")
	promstack.Import(t, om, data)
	prom = promstack.Prometheus(t, dir, data, ruleFile)

	demo, err := os.ReadFile("../../examples/bundles/tensor-wasm/1.0.0/alertmanager/demo.yml")
	require.NoError(t, err)
	conf := string(demo)
	if s.alertmanager != nil {
		conf = s.alertmanager(conf)
	}
	am = promstack.Alertmanager(t, dir, conf)
	return prom, am
}

// fakeGrafana serves the bundle's dashboards with the tag of version.
func fakeGrafana(t *testing.T, version string) string {
	set, err := ruleset.Builtin()
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/health" {
			_, _ = w.Write([]byte(`{"database":"ok","version":"10.4.0"}`))
			return
		}
		uid := strings.TrimPrefix(r.URL.Path, "/api/dashboards/uid/")
		if !slices.Contains(set.Dashboards, uid) {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"dashboard": map[string]any{"uid": uid, "tags": []string{model.Generator, "bundle-" + version}}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func verifyCLI(t *testing.T, args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"verify"}, args...), &stdout, &stderr)
	t.Logf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	return code, stdout.String() + stderr.String()
}

func dropGroup(name string) func([]rulefmt.RuleGroup) []rulefmt.RuleGroup {
	return func(gs []rulefmt.RuleGroup) []rulefmt.RuleGroup {
		return slices.DeleteFunc(gs, func(g rulefmt.RuleGroup) bool { return g.Name == name })
	}
}

// verify against Debian's real Prometheus and Alertmanager: the clean
// stack passes; each kind of drift is found, named, and exits 1.
func TestVerifyAgainstRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and Alertmanager")
	}
	svc := catalog.TensorWasm().Services[0].Name
	healthz := model.GroupName(svc, "latency_http_healthz_P95")
	cases := []struct {
		name  string
		stack stack
		want  []string // substrings of the findings
	}{
		{name: "a stack deployed from the bundle passes"},
		{
			name: "an edited alert threshold is rule drift",
			stack: stack{rules: func(gs []rulefmt.RuleGroup) []rulefmt.RuleGroup {
				g := gs[0]
				g.Rules = slices.Clone(g.Rules)
				for i, r := range g.Rules {
					if r.Alert == "AvailabilityFastBurn" {
						g.Rules[i].Expr = strings.ReplaceAll(r.Expr, "0.072", "0.08")
					}
				}
				gs[0] = g
				return gs
			}},
			want: []string{"rules: group tensor-wasm-availability_http rule", "(AvailabilityFastBurn): expression differs", "0.08"},
		},
		{
			name:  "a group Prometheus has not loaded is missing",
			stack: stack{rules: dropGroup(healthz)},
			want:  []string{"rules: group " + healthz + ": missing"},
		},
		{
			name:  "a renamed metric has no series",
			stack: stack{rename: map[string]string{catalog.HTTPRequests: "tensor_wasm_http_requests"}},
			want:  []string{`contract: tensor_wasm_http_requests_total{job="tensor-wasm"}: no series`},
		},
		{
			name: "a latency threshold that is not a bucket bound",
			stack: stack{scenario: func(s *sim.Scenario) {
				s.HTTP.Buckets = slices.DeleteFunc(slices.Clone(s.HTTP.Buckets), func(b float64) bool { return b == 1 })
			}},
			want: []string{`le=~"1|1\\.0" is not a bucket bound`, "latency threshold 1 is not a bucket bound", "le 0.001, 0.0025"},
		},
		{
			name: "a severity Alertmanager does not route",
			stack: stack{alertmanager: func(c string) string {
				// Every page route (SLOUnmeasured's has one of its own).
				return strings.ReplaceAll(c, "        - severity=\"page\"\n      receiver: page", "        - severity=\"pager\"\n      receiver: page")
			}},
			want: []string{`alertmanager: severity "page"`, `falls through to the default receiver "ticket"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prom, am := c.stack.start(t)
			code, out := verifyCLI(t, "-prometheus", prom, "-alertmanager", am, "-grafana", fakeGrafana(t, "1.0.0"))
			if len(c.want) == 0 {
				require.Equal(t, exitOK, code, out)
				require.Contains(t, out, "no findings")
				backtestCLI(t, prom)
				return
			}
			require.Equal(t, exitFindings, code, out)
			for _, w := range c.want {
				require.Contains(t, out, w)
			}
		})
	}
}

// backtestCLI runs the backtest command over the stack's half hour and
// checks it writes its four reports.
func backtestCLI(t *testing.T, prom string) {
	dir := t.TempDir()
	to := time.Now().UTC()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"backtest", "-prometheus", prom, "-read", "remote",
		"-from", to.Add(-30 * time.Minute).Format(time.RFC3339), "-to", to.Format(time.RFC3339), "-out", dir}, &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())
	require.Contains(t, stdout.String(), "built-in TensorWasm spec 1.0.0: 0 pages (0.0/week), 0 tickets (0.0/week)")
	require.Contains(t, stderr.String(), "fetching")
	for _, f := range []string{"backtest.md", "backtest.json", "timeline-tensor-wasm-availability_http.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		require.NotEmpty(t, b, f)
	}
}
