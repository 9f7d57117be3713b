package report_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/report"
)

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
