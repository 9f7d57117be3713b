package simulation_test

import (
	"context"
	"strings"
	"testing"

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
