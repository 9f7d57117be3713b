package bundle_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/internal/specgen"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/spec"
)

// minimalSpec is one service with one availability SLO and one tier, the
// smallest spec the generated-spec property test reduces failures towards.
func minimalSpec() model.Spec {
	return model.Spec{Name: "x", Version: "1.0.0", Services: []model.Service{{
		Name: "shop", Selector: map[string]string{"job": "shop"},
		RunbookBaseURL: "https://runbooks.example.com/shop", GrafanaURL: "https://grafana.example.com",
		Metrics: []model.Metric{
			{Name: "http_requests_total", Type: model.Counter, Labels: []string{"route", "status"}},
			{Name: "http_request_duration_seconds", Type: model.Histogram, Labels: []string{"route"}, Buckets: []float64{0.1, 0.5, 1}},
		},
		SLOs: []model.SLO{{Name: "availability", Objective: 0.999,
			SLI: model.SLI{Events: &model.EventRatio{Metric: "http_requests_total", Bad: `status=~"5.."`}},
			Tiers: []model.Tier{{Name: "fast", Alert: "availability-fast-burn", Severity: model.Page,
				Long: model.Duration(time.Hour), Short: model.Duration(5 * time.Minute), Factor: 14.4}}}},
	}}}
}

func dur(s string) model.Duration {
	d, err := model.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestMinimalSpecsTheGeneratorMustHandle holds, one edit each from
// minimalSpec, the smallest specs the property test and the fuzzer found
// failing (December 2026). Each is valid; each must build with unique
// paths, record every series once, and pass promtool.
func TestMinimalSpecsTheGeneratorMustHandle(t *testing.T) {
	slo := func(s *model.Spec) *model.SLO { return &s.Services[0].SLOs[0] }
	for _, tc := range []struct {
		name string
		edit func(*model.Spec)
	}{
		{"a service without SLOs", func(s *model.Spec) { s.Services[0].SLOs = nil }},
		{"two services with the same SLO and tier", func(s *model.Spec) {
			other := s.Services[0]
			other.Name, other.Selector = "cart", map[string]string{"job": "cart"}
			s.Services = append(s.Services, other)
		}},
		{"a budget tier", func(s *model.Spec) { slo(s).Alerting = model.BudgetAlerting }},
		{"a budget tier with a 4m window", func(s *model.Spec) {
			slo(s).Alerting = model.BudgetAlerting
			slo(s).Tiers[0].Long, slo(s).Tiers[0].Short = dur("8m"), dur("4m")
		}},
		{"a budget tier of 2m and 1m windows, for 5m, on a latency SLI", func(s *model.Spec) {
			o := slo(s)
			o.Alerting, o.Objective = model.BudgetAlerting, 0.9955
			o.SLI = model.SLI{Latency: &model.Latency{Metric: "http_request_duration_seconds", Threshold: 0.5}}
			o.Tiers[0].Long, o.Tiers[0].Short, o.Tiers[0].Factor, o.Tiers[0].For = dur("2m"), dur("1m"), 6, dur("5m")
		}},
		{"a budget tier of 13m52s and 1m4s windows, for 4m48s, at a 16s evaluation interval", func(s *model.Spec) {
			s.Services[0].EvaluationInterval = dur("16s")
			o := slo(s)
			o.Alerting, o.Objective = model.BudgetAlerting, 0.9999
			o.Tiers[0].Long, o.Tiers[0].Short, o.Tiers[0].Factor, o.Tiers[0].For = dur("13m52s"), dur("1m4s"), 2.2, dur("4m48s")
		}},
		{"minEvents 10", func(s *model.Spec) { slo(s).MinEvents = 10 }},
		{"a tier with for: 1h", func(s *model.Spec) { slo(s).Tiers[0].For = dur("1h") }},
		{"an error-ratio alert over the whole period", func(s *model.Spec) {
			s.Services[0].Alerts = []model.ThresholdAlert{{Alert: "errors-this-month", Severity: model.Ticket, Summary: "Too many errors this month.",
				ErrorRatio: &model.ErrorRatioOver{SLO: "availability", Window: dur("30d")}, Above: 0.001}}
		}},
		{"a quantile alert over 20s at a 10s evaluation interval", func(s *model.Spec) {
			s.Services[0].EvaluationInterval = dur("10s")
			s.Services[0].Alerts = []model.ThresholdAlert{{Alert: "slow", Severity: model.Page, Summary: "Slow.",
				Quantile: &model.QuantileOver{Metric: "http_request_duration_seconds", Quantile: 0.99, Window: dur("20s")}, Above: 0.5}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			tc.edit(&s)
			s.SetDefaults()
			require.NoError(t, s.Validate(), "the spec must be valid")
			require.NoError(t, build(s))
			require.NoError(t, uniquePaths(s))
			require.NoError(t, recordedOnce(s))
			require.NoError(t, runPromtool(t, debian.Binary(t, "promtool"))(s))
		})
	}
}

// recordedOnce: no two recording rules of a service write the same series
// (name and labels); two groups writing one series conflict on a server.
func recordedOnce(s model.Spec) error {
	for i := range s.Services {
		groups, err := rules.Build(&s.Services[i], s.Version)
		if err != nil {
			return err
		}
		seen := map[string]string{}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record == "" {
					continue
				}
				key := fmt.Sprintf("%s%v", r.Record, r.Labels)
				if prev, ok := seen[key]; ok {
					return fmt.Errorf("service %s, %s in groups %s and %s: one series recorded by two rules", s.Services[i].Name, key, prev, g.Name)
				}
				seen[key] = g.Name
			}
		}
	}
	return nil
}

// TestOutageReplaysTheAnalysisGotWrong replays a full outage on the page
// tiers of specs whose replay the property test's analysis once
// mispredicted; each tier must fire at its analytic time, or never.
func TestOutageReplaysTheAnalysisGotWrong(t *testing.T) {
	s, err := spec.LoadFile("testdata/outage-replays.yaml")
	require.NoError(t, err)
	g := specgen.Generated{Spec: s, Witnesses: [][]specgen.Witness{
		{{Metric: "grpc_server_handled_total", Good: map[string]string{"route": "/", "status": "200"}, Bad: map[string]string{"route": "/", "status": "500"}}},
		{{Metric: "rpc_latency_seconds", Latency: true, Good: map[string]string{"route": "{{ $value }}", "method": "POST"}}},
	}}
	var stats replayStats
	for _, f := range replayOutages(t, g, &stats) {
		t.Errorf("%s", f.err)
	}
	require.Equal(t, 3, stats.tiers)
	require.Equal(t, 1, stats.never, "medium is held by x9")
}
