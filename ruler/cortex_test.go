package ruler_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/internal/promstack"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/internal/rulertool"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/ruleset"
	"github.com/tensorwasm/obsbundle/targets"
	"github.com/tensorwasm/obsbundle/verify"
)

// The bundle's ruler namespaces in a real distributed ruler: Cortex's
// single binary (distributor, ingester, querier, ruler, blocks storage on
// the filesystem), fed by Debian's Prometheus over remote write, one
// tenant per case, the namespace file loaded through the ruler's API as
// cortextool and mimirtool load it. Two tenants run at once:
//
//   - "steady": TensorWasm's built-in bundle on constant traffic. Every
//     group must load and evaluate healthy, and every series the rules
//     record must have the value Debian's Prometheus records from the same
//     data with the same bundle's rule file.
//   - "incident": TensorWasm's availability SLO with windows of minutes
//     (as in compose/faults_test.go) and a full outage injected in the
//     simulator: the fast-burn page must fire in Cortex's ruler.
//
// It takes five to seven minutes, most of it waiting for the 4m period
// groups' first evaluation (anywhere in their first 4 minutes) and the 1m
// groups' next one, which sum the period groups' tiles.

// cortexEnv names the environment variable holding the path of the Cortex
// binary (tools/cortex/build.sh builds it and prints the path).
const cortexEnv = "OBSBUNDLE_CORTEX"

// queryOffset is the ruler's query offset: rules read the data as it
// stood this long before each evaluation. The bundle's event tiles count
// the change between the latest samples of two evaluations; a sample that
// is still in the remote-write queue at one evaluation and present at the
// next makes the tiles skip the events between it and the sample before
// it. The offset must exceed the ingestion delay (here a second or two;
// Cortex's default offset is 0).
const queryOffset = 30 * time.Second

// testTimeout bounds the whole test: a 4m group first evaluates anywhere
// in its first 4 minutes.
const testTimeout = 8 * time.Minute

// cortexBinary returns the Cortex binary named by OBSBUNDLE_CORTEX. In CI
// (.ci/run builds it) a missing one fails the test; elsewhere it is skipped.
func cortexBinary(t *testing.T) string {
	t.Helper()
	path := os.Getenv(cortexEnv)
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; .ci/run builds Cortex with tools/cortex/build.sh", cortexEnv)
		}
		t.Skipf("%s not set (export %s=$(tools/cortex/build.sh); the first build takes several minutes)", cortexEnv, cortexEnv)
	}
	_, err := os.Stat(path)
	require.NoError(t, err, "%s", cortexEnv)
	return path
}

func TestCortexRulerEvaluatesTheBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("the Cortex ruler test takes five to seven minutes")
	}
	bin := cortexBinary(t)
	debian.Binary(t, "prometheus")
	t.Parallel() // it waits on the clock, not the CPU
	began := time.Now()
	dir := t.TempDir()
	e := env{simulator: buildSimulator(t, dir), cortex: startCortex(t, dir, bin)}
	t.Run("steady traffic: every group healthy, values equal to Prometheus'", func(t *testing.T) {
		t.Parallel()
		steady(t, e)
	})
	t.Run("a full outage fires the fast-burn page", func(t *testing.T) {
		t.Parallel()
		incident(t, e)
	})
	t.Cleanup(func() { t.Logf("took %s", time.Since(began).Round(time.Second)) })
}

// env is what the cases share: the simulator binary and Cortex's URL.
type env struct {
	simulator string
	cortex    string
}

// buildSimulator builds cmd/simulator into dir.
func buildSimulator(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "simulator")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/simulator").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// cortexConfig runs every module in one process on loopback ports, with
// in-memory rings and everything on disk under dir.
const cortexConfig = `target: all
auth_enabled: true
server:
  http_listen_address: 127.0.0.1
  http_listen_port: %[2]s
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: %[3]s
  log_level: warn
distributor:
  shard_by_all_labels: true
  pool:
    health_check_ingesters: true
  ring:
    instance_addr: 127.0.0.1
    kvstore:
      store: inmemory
ingester:
  lifecycler:
    address: 127.0.0.1
    min_ready_duration: 0s
    final_sleep: 0s
    num_tokens: 512
    ring:
      kvstore:
        store: inmemory
      replication_factor: 1
blocks_storage:
  backend: filesystem
  filesystem:
    dir: %[1]s/blocks
  tsdb:
    dir: %[1]s/tsdb
  bucket_store:
    sync_dir: %[1]s/tsdb-sync
compactor:
  data_dir: %[1]s/compactor
  sharding_ring:
    instance_addr: 127.0.0.1
    kvstore:
      store: inmemory
store_gateway:
  sharding_ring:
    instance_addr: 127.0.0.1
    kvstore:
      store: inmemory
frontend_worker:
  match_max_concurrent: true
querier:
  active_query_tracker_dir: %[1]s/active-query-tracker
ruler:
  enable_api: true
  rule_path: %[1]s/ruler
  poll_interval: 5s
  ring:
    instance_addr: 127.0.0.1
    kvstore:
      store: inmemory
ruler_storage:
  backend: filesystem
  filesystem:
    dir: %[1]s/rules
alertmanager:
  data_dir: %[1]s/alertmanager
  external_url: http://127.0.0.1/alertmanager
  cluster:
    listen_address: ""
  sharding_ring:
    instance_addr: 127.0.0.1
    kvstore:
      store: inmemory
alertmanager_storage:
  backend: local
  local:
    path: %[1]s/alertmanager-configs
limits:
  ruler_query_offset: %[4]s
`

// startCortex starts Cortex's single binary and returns its base URL once
// it is ready.
func startCortex(t *testing.T, dir, bin string) string {
	t.Helper()
	data := filepath.Join(dir, "cortex")
	require.NoError(t, os.MkdirAll(filepath.Join(data, "alertmanager-configs"), 0o755))
	httpAddr, grpcAddr := promstack.FreeAddr(t), promstack.FreeAddr(t)
	port := func(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }
	conf := filepath.Join(dir, "cortex.yaml")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, cortexConfig, data, port(httpAddr), port(grpcAddr), model.Duration(queryOffset)), 0o644))
	promstack.Start(t, data, "cortex", bin, "-config.file="+conf) // in data: no module writes into the repository
	base := "http://" + httpAddr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for get(ctx, base+"/ready") != nil {
		select {
		case <-ctx.Done():
			t.Fatalf("Cortex not ready after a minute")
		case <-time.After(time.Second):
		}
	}
	return base
}

// tenant is one tenant's stack: its simulator and the Prometheus that
// scrapes it and remote-writes to Cortex.
type tenant struct {
	t      *testing.T
	ctx    context.Context
	id     string
	dir    string
	spec   model.Spec
	bundle *bundle.Bundle
	groups []rulefmt.RuleGroup // the groups loaded into Cortex
	simURL string
	prom   *promapi.Client // Debian's Prometheus
	cortex *promapi.Client // Cortex's Prometheus API, as the tenant
}

// newTenant builds the spec's bundle with the Mimir target, starts the
// simulator with simArgs and a Prometheus scraping it every scrape that
// remote-writes the raw series to Cortex as the tenant (and evaluates the
// bundle's rule file itself when local is set), then loads the bundle's
// ruler namespace into Cortex.
func newTenant(t *testing.T, e env, id string, s model.Spec, scrape time.Duration, local bool, simArgs ...string) *tenant {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	b, err := bundle.Build(s, targets.Mimir)
	require.NoError(t, err)
	tn := &tenant{t: t, ctx: ctx, id: id, dir: t.TempDir(), spec: s, bundle: b}

	simAddr, promAddr := promstack.FreeAddr(t), promstack.FreeAddr(t)
	tn.simURL = "http://" + simAddr
	promstack.Start(t, tn.dir, "simulator", e.simulator, append([]string{"-listen", simAddr, "-swing", "1"}, simArgs...)...)
	tn.waitFor("the simulator to serve", func() bool { return get(ctx, tn.simURL+"/healthz") == nil })

	svc := s.Services[0]
	ruleFiles := "[]"
	if local {
		content, ok := b.File(model.RuleFile(svc.Name))
		require.True(t, ok)
		path := filepath.Join(tn.dir, filepath.Base(model.RuleFile(svc.Name)))
		require.NoError(t, os.WriteFile(path, content, 0o644))
		ruleFiles = fmt.Sprintf("[%q]", path)
	}
	// The series Prometheus records stay out of Cortex, which records its own.
	conf := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  evaluation_interval: %[2]s
rule_files: %[3]s
scrape_configs:
  - job_name: %[4]q
    static_configs:
      - targets: [%[5]q]
remote_write:
  - url: %[6]q
    queue_config:
      batch_send_deadline: 1s
    write_relabel_configs:
      - source_labels: [__name__]
        regex: "slo:.*|ALERTS|ALERTS_FOR_STATE"
        action: drop
`, model.Duration(scrape), svc.EvaluationInterval, ruleFiles, svc.Selector["job"], simAddr, tenantProxy(t, e.cortex, id)+"/api/v1/push")
	promstack.PrometheusAt(t, tn.dir, promAddr, filepath.Join(tn.dir, "prom-data"), conf)
	tn.prom, err = promapi.New("Prometheus", "http://"+promAddr, promapi.Options{NoCompression: true})
	require.NoError(t, err)
	tn.cortex, err = promapi.New("Cortex", e.cortex+"/prometheus", promapi.Options{NoCompression: true,
		Headers: http.Header{"X-Scope-Orgid": {id}}})
	require.NoError(t, err)

	ns, ok := b.File(model.MimirFile(svc.Name))
	require.True(t, ok, "the bundle has no ruler namespace")
	tn.groups = loadNamespace(t, ctx, e.cortex, id, ns)
	return tn
}

// tenantProxy returns the URL of a proxy to Cortex that sends every
// request as the tenant. Debian's Prometheus 2.42 accepts remote_write's
// headers setting but sends no such header (checked: it posts only its
// own), so the tenant's X-Scope-OrgID is added here.
func tenantProxy(t *testing.T, cortex, tenant string) string {
	t.Helper()
	target, err := url.Parse(cortex)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	direct := proxy.Director
	proxy.Director = func(r *http.Request) {
		direct(r)
		r.Header.Set("X-Scope-OrgID", tenant)
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}

// loadNamespace does what `cortextool rules load` and `mimirtool rules
// load` do with a namespace file: read its namespace and groups, encode
// each group again with yaml.v3's defaults and send it to the ruler's
// configuration API. It returns the groups, read strictly with the
// generator's types.
func loadNamespace(t *testing.T, ctx context.Context, base, tenant string, content []byte) []rulefmt.RuleGroup {
	t.Helper()
	var ns struct {
		Namespace string              `yaml:"namespace"`
		Groups    []rulefmt.RuleGroup `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&ns))
	require.NotEmpty(t, ns.Namespace)
	require.NotEmpty(t, ns.Groups)
	groups, err := rulertool.Groups(content)
	require.NoError(t, err)
	for _, g := range groups {
		body, err := yaml.Marshal(&g)
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/rules/"+url.PathEscape(ns.Namespace), bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/yaml")
		req.Header.Set("X-Scope-OrgID", tenant)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode, "loading group %s of namespace %s: %s", g.Name, ns.Namespace, msg)
	}
	return ns.Groups
}

func (tn *tenant) waitFor(what string, cond func() bool) {
	tn.t.Helper()
	began := time.Now()
	for !cond() {
		select {
		case <-tn.ctx.Done():
			tn.t.Fatalf("tenant %s: timed out waiting for %s", tn.id, what)
		case <-time.After(2 * time.Second):
		}
	}
	tn.t.Logf("tenant %s: %s after %s", tn.id, what, time.Since(began).Round(time.Second))
}

func get(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return nil
}

// healthy says whether Cortex has loaded every group of the bundle and
// evaluated every rule in it without error; an error fails the test.
func (tn *tenant) healthy() bool {
	tn.t.Helper()
	groups, err := tn.cortex.Rules(tn.ctx)
	if err != nil {
		return false
	}
	rules := map[string]int{}
	for _, g := range groups {
		for _, rule := range g.Rules {
			require.Empty(tn.t, rule.LastError, "group %s rule %s", g.Name, rule.Name)
			if rule.Health != "ok" {
				return false
			}
		}
		rules[g.Name] = len(g.Rules)
	}
	for _, g := range tn.groups {
		if rules[g.Name] != len(g.Rules) {
			return false
		}
	}
	return len(rules) == len(tn.groups)
}

// recorded returns the series the rules recorded, by labels (name
// included), at now.
func recorded(t *testing.T, ctx context.Context, c *promapi.Client) map[string]float64 {
	t.Helper()
	es, err := c.Query(ctx, `{__name__=~"slo:.+"}`, time.Time{})
	require.NoError(t, err)
	out := map[string]float64{}
	for _, e := range es {
		out[labels.FromMap(e.Metric).String()] = e.Value
	}
	return out
}

// recordedSeries is the number of series the bundle's recording rules
// record: each rule one, aggregated to the rule's labels.
func recordedSeries(b *bundle.Bundle, svc string) int {
	content, _ := b.File(model.RuleFile(svc))
	return strings.Count(string(content), "- record: ")
}

// steady: the built-in bundle on constant traffic with a 0.1% error ratio
// and exact counts (no Poisson noise), so every window's ratio is the same
// wherever it starts and ends, and the two engines, evaluating at their
// own times, must agree.
func steady(t *testing.T, e env) {
	s := catalog.TensorWasm()
	tn := newTenant(t, e, "steady", s, 15*time.Second, true, "-rps", "20", "-error-ratio", "0.001", "-seed", "0")
	tn.waitFor("every group loaded in Cortex and every rule evaluated healthy", tn.healthy)
	want := recordedSeries(tn.bundle, s.Services[0].Name)
	var inCortex, inPrometheus map[string]float64
	tn.waitFor(fmt.Sprintf("all %d recorded series in both Cortex and Prometheus", want), func() bool {
		inCortex, inPrometheus = recorded(t, tn.ctx, tn.cortex), recorded(t, tn.ctx, tn.prom)
		return len(inCortex) == want && len(inPrometheus) == want
	})

	names := make([]string, 0, len(inPrometheus))
	for k := range inPrometheus {
		names = append(names, k)
	}
	sort.Strings(names)
	var report strings.Builder
	for _, k := range names {
		p := inPrometheus[k]
		c, ok := inCortex[k]
		require.True(t, ok, "Cortex did not record %s", k)
		fmt.Fprintf(&report, "  %-100s Prometheus %-12.6g Cortex %.6g\n", k, p, c)
		if !strings.Contains(k, ":increase4m") {
			assert.InDelta(t, p, c, tolerance(k, p), "%s: Prometheus recorded %g, Cortex %g", k, p, c)
			continue
		}
		// A 4m tile sums the 1m tiles its window holds: one to four of
		// them while the first 4 minutes fill (at the period group's
		// first evaluation, each engine has its own count), four after.
		tile := inCortex[strings.Replace(k, ":increase4m", ":increase1m", 1)]
		n := c / tile
		assert.InDelta(t, math.Round(n), n, 0.05, "%s: %g is not a whole number of Cortex's 1m tiles (%g)", k, c, tile)
		assert.True(t, n > 0.95 && n < 4.05, "%s: %g holds %.2f of Cortex's 1m tiles (%g)", k, c, n, tile)
	}
	t.Logf("recorded series, Debian's Prometheus 2.42 against Cortex:\n%s", report.String())

	// verify reads Cortex as it reads a Prometheus: the contract's series
	// are there, and its rules are the bundle's.
	set, err := ruleset.FromSpec("cortex", s)
	require.NoError(t, err)
	vr, err := verify.Run(tn.ctx, verify.Config{Set: set, Prometheus: tn.cortex})
	require.NoError(t, err)
	var out strings.Builder
	vr.Text(&out)
	t.Logf("verify against Cortex:\n%s", out.String())
	require.Empty(t, vr.Findings, out.String())
	require.Contains(t, out.String(), "without build information")
}

// tolerance is how far Cortex's value of a recorded series may be from
// Prometheus'. Ratios are exact: with exact counts every tile of the bad
// and total events has the same ratio. A 1m event tile depends on where
// each engine's evaluations fall between scrapes: it holds four 15s
// scrapes either way, give or take a few milliseconds.
func tolerance(series string, v float64) float64 {
	if strings.Contains(series, ":increase") {
		return math.Abs(v) * 0.02
	}
	return 1e-9 * math.Max(1, math.Abs(v))
}

// incidentSpec is catalog.QuickAvailability: an outage pages in minutes.
func incidentSpec(t *testing.T) model.Spec {
	t.Helper()
	s := catalog.QuickAvailability()
	require.NoError(t, s.Validate())
	return s
}

// apiAlerts is /api/v1/alerts.
type apiAlerts struct {
	Alerts []struct {
		Labels   map[string]string `json:"labels"`
		State    string            `json:"state"`
		ActiveAt time.Time         `json:"activeAt"`
	} `json:"alerts"`
}

// incident: a full outage from the start; the fast tier must fire in
// Cortex with the bundle's labels, its ALERTS series must be queryable,
// and every group must evaluate healthy.
func incident(t *testing.T, e env) {
	s := incidentSpec(t)
	tn := newTenant(t, e, "incident", s, 5*time.Second, false, "-rps", "10")

	resp, err := http.Post(tn.simURL+"/incidents?error_ratio=1&duration=1h", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	outage := time.Now()

	fast := model.AlertName("availability-fast-burn")
	var firing map[string]string
	tn.waitFor(fast+" firing in Cortex's ruler", func() bool {
		var r apiAlerts
		if err := tn.cortex.API(tn.ctx, "/api/v1/alerts", nil, &r); err != nil {
			return false
		}
		for _, a := range r.Alerts {
			if a.Labels["alertname"] == fast && a.State == "firing" {
				firing = a.Labels
				return true
			}
		}
		return false
	})
	t.Logf("tenant %s: %s fired %s after the outage began", tn.id, fast, time.Since(outage).Round(time.Second))
	require.Equal(t, string(model.Page), firing[model.LabelSeverity])
	require.Equal(t, "fast", firing[model.LabelTier])
	require.Equal(t, s.Services[0].Name, firing[model.LabelService])
	require.Equal(t, "availability_http", firing[model.LabelSLO])

	tn.waitFor("the ALERTS series of the page in Cortex", func() bool {
		es, err := tn.cortex.Query(tn.ctx, fmt.Sprintf(`ALERTS{alertname=%q,alertstate="firing"}`, fast), time.Time{})
		return err == nil && len(es) == 1
	})
	ratio, err := tn.cortex.Query(tn.ctx, model.RecordedSelector("slo:sli_error:ratio_rate1m", s.Services[0].Name, "availability_http"), time.Time{})
	require.NoError(t, err)
	require.Len(t, ratio, 1)
	require.Greater(t, ratio[0].Value, 0.9, "the 1m error ratio during a full outage")
	tn.waitFor("every group loaded in Cortex and every rule evaluated healthy", tn.healthy)
}
