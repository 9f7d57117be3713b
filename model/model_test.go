package model_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
)

func TestDecimalsAreWrittenAsAPersonWould(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{14.4 * (1 - 0.995), "0.072"},
		{1 - 0.995, "0.005"},
		{6 * (1 - 0.999), "0.006"},
		{1, "1"},
		{0.00005, "0.00005"},
	} {
		require.Equal(t, tc.want, model.Decimal(tc.in))
	}
	require.Equal(t, "93.06%", model.Percent(1-1/14.4))
	require.Equal(t, "83.34%", model.PercentAbove(1-1.0/6), "advice rounds up, so following it works")
	require.Equal(t, "0.5%", model.Percent(0.005))
}

func TestAlertNamesAreCamelCaseWithAcronyms(t *testing.T) {
	require.Equal(t, "AvailabilityFastBurn", model.AlertName("availability-fast-burn"))
	require.Equal(t, "SLOUnmeasured", model.AlertName(model.UnmeasuredAlert))
	require.Equal(t, "HealthzSlow", model.AlertName("healthz-slow"))
}

func TestTensorWasmCatalogIsValid(t *testing.T) {
	s := catalog.TensorWasm()
	require.NoError(t, s.Validate())
	svc := s.Services[0]
	o, ok := svc.SLO("availability_http")
	require.True(t, ok)
	require.Equal(t, []model.Duration{300e9, 1800e9, 3600e9, 6 * 3600e9, 72 * 3600e9}, svc.Windows(o))
	require.Equal(t, 0.1, o.Tiers[2].BudgetSpent(o.Period), "1x over 3d spends a tenth of a 30d budget")
}

func TestSelectorsMatchBothSpellingsOfIntegralBuckets(t *testing.T) {
	require.Equal(t, `le=~"1|1\\.0"`, model.LeMatcher(1).String())
	require.True(t, model.LeMatcher(1).Matches("1.0"))
	require.True(t, model.LeMatcher(1).Matches("1"))
	require.Equal(t, `le="0.01"`, model.LeMatcher(0.01).String())
}

func TestAQuantileAlertThatCouldNeverFireIsRefused(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	for i, a := range svc.Alerts {
		if a.Quantile == nil {
			continue
		}
		m, _ := svc.Metric(a.Quantile.Metric)
		svc.Alerts[i].Above = m.Buckets[len(m.Buckets)-1]
		err := s.Validate()
		require.Error(t, err)
		require.Contains(t, err.Error(), "the highest bucket bound of "+m.Name)
		return
	}
	t.Fatal("the catalog has no quantile alert")
}
