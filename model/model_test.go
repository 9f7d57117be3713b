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

func TestFailuresMayComeFromACounterOfTheirOwn(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	svc.Metrics = append(svc.Metrics, model.Metric{Name: "errors_total", Type: model.Counter, Labels: []string{"kind"}})
	e := svc.SLOs[0].SLI.Events
	e.BadMetric, e.Bad = "errors_total", `kind="timeout"`
	require.NoError(t, s.Validate())
	total, bad := svc.EventSelectors(e)
	require.Equal(t, `errors_total{job="tensor-wasm",kind="timeout"}`, bad)
	require.NotContains(t, total, "kind", "the failures' matchers stay on their counter")

	e.Bad = `status=~"5.."`
	require.ErrorContains(t, s.Validate(), `events.bad: label "status" is not among errors_total's labels`)
	e.Bad, e.BadMetric = "", e.Metric
	require.ErrorContains(t, s.Validate(), "events.badMetric: expected another counter than metric")
}

func TestAnSLIMayNameItsGoodEventsInstead(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	svc.Metrics = append(svc.Metrics, model.Metric{Name: "ok_total", Type: model.Counter, Labels: []string{"kind"}})
	e := svc.SLOs[0].SLI.Events
	e.Bad, e.Good = "", `status!~"5..",status!="429"`
	require.NoError(t, s.Validate())
	require.True(t, e.CountsGood())
	total, bad := svc.EventSelectors(e)
	require.Empty(t, bad, "bad events are total - good, no selector")
	require.Equal(t, total[:len(total)-1]+`,status!~"5..",status!="429"}`, svc.GoodSelector(e), "good events are among the total's")

	e.GoodMetric, e.Good = "ok_total", `kind="served"`
	require.NoError(t, s.Validate())
	require.Equal(t, `ok_total{job="tensor-wasm",kind="served"}`, svc.GoodSelector(e))
	e.Good = ""
	require.NoError(t, s.Validate(), "a counter of successes may count all its series")

	for _, tc := range []struct {
		name             string
		bad, badMetric   string
		good, goodMetric string
		want             string
	}{
		{"bad and good", `status=~"5.."`, "", `status="200"`, "", `events.bad: expected either bad events (bad, badMetric) or good events (good, goodMetric), got both; leave bad out`},
		{"a bad counter and a good one", "", "ok_total", "", "ok_total", `events.badMetric: expected either bad events (bad, badMetric) or good events (good, goodMetric), got both`},
		{"the counter of all events as the good one", "", "", `status="200"`, svc.SLOs[0].SLI.Events.Metric, `events.goodMetric: expected another counter than metric`},
		{"a good counter not in the contract", "", "", "", "nope_total", `events.goodMetric: expected a counter of the service's metric contract, got "nope_total"`},
		{"a good counter that is no counter", "", "", "", svc.SLOs[1].SLI.MetricName(), `events.goodMetric: expected a counter, but the contract declares`},
		{"good matchers on a label the good counter lacks", "", "", `status="200"`, "ok_total", `events.good: label "status" is not among ok_total's labels`},
		{"good matchers that do not parse", "", "", `status=200`, "", `events.good: expected PromQL label matchers`},
		{"no events picked", "", "", "", "", `events.bad: expected matchers that pick the bad events, such as status=~"5.." (or good with matchers that pick the good ones)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := catalog.TensorWasm()
			svc := &s.Services[0]
			svc.Metrics = append(svc.Metrics, model.Metric{Name: "ok_total", Type: model.Counter, Labels: []string{"kind"}})
			e := svc.SLOs[0].SLI.Events
			e.Bad, e.BadMetric, e.Good, e.GoodMetric = tc.bad, tc.badMetric, tc.good, tc.goodMetric
			require.ErrorContains(t, s.Validate(), "services[0].slos[0].sli."+tc.want)
		})
	}
}

func TestOwnLabelsMayNotTakeGeneratedNames(t *testing.T) {
	s := catalog.TensorWasm()
	o := &s.Services[0].SLOs[0]
	o.Labels = map[string]string{"team": "core"}
	o.Tiers[0].Labels = map[string]string{"routing_key": "core"}
	o.Tiers[0].Annotations = map[string]string{"summary": "Too many failures."}
	require.NoError(t, s.Validate())
	o.Labels[model.LabelTier] = "1"
	o.Tiers[0].Annotations[model.AnnotationRunbook] = "https://x"
	err := s.Validate()
	require.ErrorContains(t, err, `labels.tier: the generator sets "tier" itself`)
	require.ErrorContains(t, err, `annotations.runbook_url: the generator derives "runbook_url"`)
}
