package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/report"
	"github.com/tensorwasm/obsbundle/rules"
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
	require.Len(t, cells, 4*len(report.Ratios), "three availability tiers and the /invoke spike")
	require.NoError(t, report.Simulate(context.Background(), svc, groups, report.TensorWasm, cells))
	for _, c := range cells {
		require.True(t, c.Agrees(svc),
			"%s at %g: analysis caught=%v detect=%s reset=%s, replay %+v", c.Tier.Alert, c.Ratio, c.Caught, c.Detect, c.Reset, *c.Simulated)
		require.Equal(t, c.Ratio >= c.Tier.Threshold(c.SLO.BudgetRatio()), c.Simulated.Caught, "%s at %g", c.Tier.Alert, c.Ratio)
	}
	t.Logf("%s", report.Markdown(svc, cells))
}

func TestAnalysisMatchesTheAlertingMath(t *testing.T) {
	s := catalog.TensorWasm()
	cells := report.Analyze(&s.Services[0])
	fast := cells[0] // availability-fast-burn at 100%
	require.Equal(t, "fast", fast.Tier.Name)
	require.Equal(t, 1.0, fast.Ratio)
	require.Equal(t, 4*time.Minute+19*time.Second, fast.Detect, "0.072 x 60m")
	require.InDelta(t, 0.02, fast.BudgetSpent, 1e-12, "the fast tier fires after 2% of the budget, as designed")
	// Burn 0.01 (0.005% of a 0.5% budget) is caught by nothing.
	for _, c := range cells {
		if c.Ratio == 0.00005 {
			require.False(t, c.Caught, c.Tier.Alert)
		}
	}
}
