package simulation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/report"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/simulation"
)

// Every cell: the replay of the bundle's rules agrees with the analysis
// within one evaluation interval or 10%, and every ratio at or above a
// tier's threshold is caught by it.
func TestSimulationAgreesWithAnalysisForEveryCell(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	groups, err := rules.Build(svc, s.Version)
	require.NoError(t, err)
	cells := report.Analyze(svc)
	require.Len(t, cells, 7*len(report.Ratios), "every tier of the catalog")
	require.NoError(t, simulation.Simulate(context.Background(), svc, groups, simulation.For(svc), cells))
	for _, c := range cells {
		require.True(t, c.Agrees(svc),
			"%s at %g: analysis caught=%v detect=%s reset=%s, replay %+v", c.Tier.Alert, c.Ratio, c.Caught, c.Detect, c.Reset, *c.Simulated)
		require.Equal(t, c.Ratio >= c.Tier.Threshold(c.SLO.BudgetRatio()), c.Simulated.Caught, "%s at %g", c.Tier.Alert, c.Ratio)
	}
	t.Logf("%s", report.Markdown(svc, cells))
}

// A budget tier of a factor below 1 fires only once its windows' error
// ratio exceeds the budget ratio (each window must spend budget), not at
// factor x budget: under a 2% budget, 1% errors (0.5x) never alert, and a
// full outage alerts after 2% of the long window, not 0.8%.
func TestBudgetTierBelowOneBurnsAtTheBudgetRatio(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	o := &svc.SLOs[0]
	o.Alerting, o.Objective = model.BudgetAlerting, 0.98
	o.Tiers = []model.Tier{{Name: "slow", Alert: "availability-slow-burn", Severity: model.Ticket,
		Long: model.Duration(32 * time.Minute), Short: model.Duration(2 * time.Minute), Factor: 0.4}}
	svc.SLOs, svc.Alerts = svc.SLOs[:1], nil
	require.NoError(t, s.Validate())
	groups, err := rules.Build(svc, s.Version)
	require.NoError(t, err)
	cells := report.Analyze(svc)
	require.NoError(t, simulation.Simulate(context.Background(), svc, groups, simulation.For(svc), cells))
	for _, c := range cells {
		require.True(t, c.Agrees(svc),
			"%s at %g: analysis caught=%v detect=%s reset=%s, replay %+v", c.Tier.Alert, c.Ratio, c.Caught, c.Detect, c.Reset, *c.Simulated)
	}
	require.Equal(t, 0.02, report.Threshold(*o, o.Tiers[0]))
	require.False(t, cells[3].Caught, "1%% errors are within a 2%% budget")
	require.Equal(t, 38*time.Second, cells[0].Detect, "0.02 x 32m")
}

// The same for TensorWasm's /healthz latency SLO read from a native
// histogram, at 7ms, which no classic bucket bounds: the replay feeds the
// simulation's native histograms to the engine. (/healthz alone: its one
// tier's hour of history keeps the replays of 170-bucket histograms short.)
func TestSimulationOfANativeHistogramSLOAgreesWithAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("replays every cell of a native-histogram SLO")
	}
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	var healthz []model.SLO
	for _, o := range svc.SLOs {
		if l := o.SLI.Latency; l != nil && strings.Contains(l.Matchers, "/healthz") {
			l.Native, l.Threshold = true, 0.007
			healthz = append(healthz, o)
		}
	}
	svc.SLOs, svc.Alerts = healthz, nil
	require.NoError(t, s.Validate())
	groups, err := rules.Build(svc, s.Version)
	require.NoError(t, err)
	cells := report.Analyze(svc)
	require.Len(t, cells, len(report.Ratios), "the one tier")
	require.NoError(t, simulation.Simulate(context.Background(), svc, groups, simulation.For(svc), cells))
	for _, c := range cells {
		require.True(t, c.Agrees(svc),
			"%s at %g: analysis caught=%v detect=%s reset=%s, replay %+v", c.Tier.Alert, c.Ratio, c.Caught, c.Detect, c.Reset, *c.Simulated)
		require.Equal(t, c.Ratio >= c.Tier.Threshold(c.SLO.BudgetRatio()), c.Simulated.Caught, "%s at %g", c.Tier.Alert, c.Ratio)
	}
}

// An availability SLO that reads its bad or its good events from a counter
// of their own (errors_total beside requests_total, as Sloth and OpenSLO
// files often do): the simulated service counts them there too, and the
// replay agrees with the analysis for every page tier and ratio.
func TestSimulationOfTwoCounterSLIsAgreesWithAnalysis(t *testing.T) {
	for _, style := range []string{"badMetric", "goodMetric"} {
		t.Run(style, func(t *testing.T) {
			s := catalog.TensorWasm()
			svc := &s.Services[0]
			o := svc.SLOs[0]
			o.Tiers = o.Tiers[:2] // the page tiers: six hours of history
			counter := model.Metric{Name: "tensorwasm_http_" + style + "_total", Type: model.Counter, Help: "Requests counted apart.",
				Labels: svc.Metrics[0].Labels}
			e := *o.SLI.Events
			if style == "badMetric" {
				e.BadMetric = counter.Name
			} else {
				e.Bad, e.Good, e.GoodMetric = "", `status=~"[1-4].."`, counter.Name
			}
			o.SLI.Events = &e
			svc.Metrics = append(svc.Metrics, counter)
			svc.SLOs, svc.Alerts = []model.SLO{o}, nil
			require.NoError(t, s.Validate())
			groups, err := rules.Build(svc, s.Version)
			require.NoError(t, err)
			cells := report.Analyze(svc)
			require.Len(t, cells, 2*len(report.Ratios))
			require.NoError(t, simulation.Simulate(context.Background(), svc, groups, simulation.For(svc), cells))
			for _, c := range cells {
				require.True(t, c.Agrees(svc),
					"%s at %g: analysis caught=%v detect=%s reset=%s, replay %+v", c.Tier.Alert, c.Ratio, c.Caught, c.Detect, c.Reset, *c.Simulated)
				require.Equal(t, c.Ratio >= c.Tier.Threshold(c.SLO.BudgetRatio()), c.Simulated.Caught, "%s at %g", c.Tier.Alert, c.Ratio)
			}
		})
	}
}
