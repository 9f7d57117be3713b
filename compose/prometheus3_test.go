package compose_test

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/internal/promstack"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/rules"
)

// Latency SLOs on a native histogram, end to end on Prometheus 3: the
// simulator exposes /invoke's latency as a native histogram beside its
// classic buckets (protobuf), Prometheus 3 scrapes both
// (scrape_native_histograms, always_scrape_classic_histograms), loads the
// bundle's rules, and Debian's Alertmanager routes the page to a webhook.
//
// The spec has three latency SLOs on POST /invoke, each with one fast page
// tier over minutes (5m/1m, 15s evaluations): on the native histogram at
// 700ms, which is no classic bucket bound; on the native histogram at 1s;
// and on the classic buckets at 1s, a bound of both. Every rule must be
// healthy; the native tiles at 1s must equal the classic ones; and 30% of
// requests taking a minute must page the 700ms SLO. It takes about three
// minutes, beside the demo stack's twelve.
func TestPrometheus3NativeHistogramLatencySLOPages(t *testing.T) {
	if testing.Short() {
		t.Skip("the Prometheus 3 end-to-end test takes about three minutes")
	}
	prometheus := promstack.Prometheus3(t)
	debian.Binary(t, "prometheus-alertmanager")
	t.Parallel() // with the demo stack and the fault scenarios

	env := newEnv(t, nativeSpec(t))
	env.prometheus, env.native = prometheus, true
	svc := env.spec.Services[0]
	s := newStack(t, env, "-native-histograms")
	// 30% of /invoke requests take a minute from the start, far above every
	// threshold: each SLO's error ratio is 0.3, above the fast tier's 0.144.
	resp, err := http.Post("http://"+s.simAddr+"/incidents?slow_ratio=0.3&route=/invoke&duration=1h", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	s.mark("slow /invoke requests start (30% take 60s)")
	s.startPrometheus()

	// Prometheus 3 stores the native histogram (and the classic buckets).
	histogram := svc.NativeHistogramSelector(svc.SLOs[0].SLI.Latency)
	s.waitFor("the native histogram scraped", func() bool {
		return len(s.query(fmt.Sprintf(`histogram_count(%s)`, histogram), time.Now())) > 0
	})

	// The native SLO pages through Alertmanager.
	native := svc.SLOs[0]
	alert := model.AlertName(native.Tiers[0].Alert)
	s.waitFor("the native SLO's page", func() bool {
		for _, n := range s.notifications(model.PageReceiver, "firing") {
			for _, a := range n.Alerts {
				if a.Labels["alertname"] == alert {
					return true
				}
			}
		}
		return false
	})
	for _, n := range s.notifications(model.PageReceiver, "firing") {
		for _, a := range n.Alerts {
			if a.Labels["alertname"] == alert {
				require.Equal(t, string(model.Page), a.Labels[model.LabelSeverity])
				require.Equal(t, native.Name, a.Labels[model.LabelSLO])
				require.Equal(t, svc.Name, a.Labels[model.LabelService])
			}
		}
	}

	// Every rule is loaded and healthy (the native functions included).
	groups, err := rules.Build(&svc, env.spec.Version)
	require.NoError(t, err)
	want := 0
	for _, g := range groups.Groups {
		want += len(g.Rules)
	}
	s.waitFor("every rule evaluated and healthy", func() bool { return rulesHealthy(t, s, want) })

	// The recorded error ratio of the native SLO shows the incident.
	ratio := s.query(model.RecordedSelector(model.ErrorRatioRecord(native.Tiers[0].Short), svc.Name, native.Name), time.Now())
	require.Len(t, ratio, 1)
	require.InDelta(t, 0.3, ratio[0].float(), 0.05, "the native SLO's 1m error ratio")

	// At 1s, a bound of both the classic buckets and the native schema, the
	// native tile expressions read what the classic ones read, at every
	// evaluation of the last minute.
	tileExpr := func(slo, record string) string {
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record == record && r.Labels[model.LabelSLO] == slo {
					return r.Expr
				}
			}
		}
		t.Fatalf("no %s for %s", record, slo)
		return ""
	}
	tile := svc.EvaluationInterval
	end := time.Now()
	for _, record := range []string{model.BadEventsRecord(tile), model.TotalEventsRecord(tile)} {
		classic := s.queryRange(tileExpr("invoke_classic_1s", record), end.Add(-time.Minute), end, tile.Std())
		nat := s.queryRange(tileExpr("invoke_native_1s", record), end.Add(-time.Minute), end, tile.Std())
		require.Len(t, classic, len(nat), record)
		for i := range classic {
			require.Equal(t, classic[i][0], nat[i][0], record)
			require.InDelta(t, classic[i][1], nat[i][1], 1e-6*math.Max(1, classic[i][1]), "%s at %v", record, classic[i][0])
		}
		t.Logf("%s at 1s, classic and native: %v", record, classic)
	}
}

// nativeSpec is TensorWasm's contract with three latency SLOs on POST
// /invoke (native at 700ms, native at 1s, classic at 1s), each with a fast
// page tier over minutes, evaluated every faultEvaluation.
func nativeSpec(t *testing.T) model.Spec {
	t.Helper()
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	slo := func(name string, threshold float64, native bool) model.SLO {
		return model.SLO{
			Name: name, Objective: 0.99,
			SLI: model.SLI{Latency: &model.Latency{Metric: catalog.HTTPRequestDuration, Matchers: `route="/invoke",method="POST"`,
				Threshold: threshold, Native: native}},
			Tiers: []model.Tier{{Name: "fast", Alert: strings.ReplaceAll(name, "_", "-") + "-latency-spike", Severity: model.Page,
				Long: faultTiers[0].Long, Short: faultTiers[0].Short, Factor: faultTiers[0].Factor}},
		}
	}
	svc.SLOs = []model.SLO{
		slo("invoke_native_700ms", 0.7, true),
		slo("invoke_native_1s", 1, true),
		slo("invoke_classic_1s", 1, false),
	}
	svc.Alerts = nil
	svc.EvaluationInterval = model.Duration(faultEvaluation)
	s.SetDefaults()
	require.NoError(t, s.Validate())
	return s
}

// rulesHealthy says whether the stack's Prometheus holds want rules, each
// evaluated without error.
func rulesHealthy(t *testing.T, s *stack, want int) bool {
	c, err := promapi.New("Prometheus", "http://"+s.promAddr, promapi.Options{})
	require.NoError(t, err)
	groups, err := c.Rules(s.ctx)
	if err != nil {
		return false
	}
	n := 0
	for _, g := range groups {
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

// queryRange runs a range query on the stack's Prometheus and returns its
// one series' points as (unix seconds, value).
func (s *stack) queryRange(q string, start, end time.Time, step time.Duration) [][2]float64 {
	s.t.Helper()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	u := fmt.Sprintf("http://%s/api/v1/query_range?query=%s&start=%d&end=%d&step=%g", s.promAddr, url.QueryEscape(q),
		start.Unix(), end.Unix(), step.Seconds())
	require.True(s.t, getJSON(s.t, s.ctx, u, &r), "query %s", q)
	require.Equal(s.t, "success", r.Status, "query %s", q)
	require.Len(s.t, r.Data.Result, 1, "query %s", q)
	var out [][2]float64
	for _, v := range r.Data.Result[0].Values {
		at, _ := v[0].(float64)
		var f float64
		str, _ := v[1].(string)
		_, _ = fmt.Sscan(str, &f)
		out = append(out, [2]float64{at, f})
	}
	return out
}
