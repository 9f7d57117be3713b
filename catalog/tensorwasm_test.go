package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
)

// The quick spec is valid and keeps TensorWasm's availability tiers (names,
// alerts, severities, factors, the order of their windows): only the
// windows shrink, so what the end-to-end tests see is what TensorWasm does.
func TestQuickAvailabilityIsTensorWasmsAvailabilityScaledDown(t *testing.T) {
	quick := catalog.QuickAvailability()
	require.NoError(t, quick.Validate())
	full := catalog.TensorWasm()
	want, ok := full.Services[0].SLO("availability_http")
	require.True(t, ok)
	got := quick.Services[0].SLOs
	require.Len(t, got, 1)
	require.Len(t, got[0].Tiers, len(want.Tiers))
	for i, w := range want.Tiers {
		g := got[0].Tiers[i]
		require.Equal(t, []any{w.Name, w.Alert, w.Severity, w.Factor}, []any{g.Name, g.Alert, g.Severity, g.Factor})
		require.Less(t, g.Long, w.Long)
		require.Less(t, g.Short, g.Long)
	}
}
