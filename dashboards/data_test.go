package dashboards_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/dashboards"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/sim"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Six hours of TensorWasm at 20 requests/s with 0.2% failing, and one hour
// in the middle where 5% fail, latency triples and snapshots slow down.
func simulated(t *testing.T) (*evaluator.Evaluator, *sim.Scenario, time.Time) {
	t.Helper()
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	groups, err := rules.Build(svc, s.Version)
	require.NoError(t, err)
	ev, err := evaluator.New(groups.Groups...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ev.Close() })
	scenario := catalog.Simulation(epoch, sim.Constant(20),
		sim.Incident{Start: 3 * time.Hour, Duration: time.Hour, ErrorRatio: 0.05, LatencyFactor: 3, SnapshotFactor: 2})
	scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.002 }
	end := epoch.Add(6 * time.Hour)
	require.NoError(t, ev.Run(context.Background(), epoch, end, 15*time.Second, scenario.Scrape))
	return ev, scenario, end
}

func TestEveryPanelShowsDataOnSimulatedTensorWasm(t *testing.T) {
	ev, _, end := simulated(t)
	ctx := context.Background()
	ds := boards(t, catalog.TensorWasm())
	require.Len(t, ds, 2)
	for path, d := range ds {
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				q := expand(tg.Expr, "1m", "6h")
				if tg.Instant {
					v, err := ev.Query(ctx, q, end)
					require.NoError(t, err, q)
					require.NotEmpty(t, v, "%s: panel %q would say No data: %s", path, p.Title, q)
					if d.UID == model.OverviewUID(catalog.TensorWasm().Name) {
						requireOneSamplePerSLO(t, v, q)
					}
					continue
				}
				m, err := ev.QueryRange(ctx, q, end.Add(-time.Hour), end, time.Minute)
				require.NoError(t, err, q)
				require.NotEmpty(t, m, "%s: panel %q would say No data: %s", path, p.Title, q)
			}
		}
		for _, v := range d.Templating.List[1:] {
			sel := labelValues.FindStringSubmatch(v.Definition)[1]
			got, err := ev.Query(ctx, expand(sel, "1m", "6h"), end)
			require.NoError(t, err)
			require.NotEmpty(t, got, "%s: variable %s would offer nothing", path, v.Name)
		}
	}
}

// panelValue evaluates the first query of the panel titled title.
func panelValue(t *testing.T, ev *evaluator.Evaluator, d board, title string, at time.Time) float64 {
	t.Helper()
	for _, p := range d.Panels {
		if p.Title == title {
			v, err := ev.Query(context.Background(), expand(p.Targets[0].Expr, "1m", "6h"), at)
			require.NoError(t, err)
			require.Len(t, v, 1, title)
			return v[0].F
		}
	}
	t.Fatalf("no panel %q", title)
	return 0
}

func TestSLOSummaryShowsTheSimulatedValues(t *testing.T) {
	ev, scenario, end := simulated(t)
	s := catalog.TensorWasm()
	o, _ := s.Services[0].SLO("availability_http")
	d := boards(t, s)["dashboards/TensorWasm/tensor-wasm-service.json"]

	good, bad := scenario.HTTP.Counts()
	want := good / (good + bad) // (5h x 0.2% + 1h x 5%) / 6h failing: 99% available
	require.InDelta(t, 0.99, want, 1e-9)
	require.InDelta(t, want, panelValue(t, ev, d, dashboards.SLITitle(o), end), 1e-6)

	remaining := 1 - (1-want)/o.BudgetRatio()
	require.InDelta(t, remaining, panelValue(t, ev, d, "availability_http error budget remaining", end), 1e-4)
	require.Less(t, remaining, 0.0, "twice the budget is spent")
	require.Equal(t, 1.0, panelValue(t, ev, d, "availability_http deploy freeze", end), "the freeze indicator is on")
	// The latency SLO's budget is intact: its freeze indicator is off.
	require.Equal(t, 0.0, panelValue(t, ev, d, "latency_http_healthz_P95 deploy freeze", end))
}

// requireOneSamplePerSLO checks that a column of the overview gives each
// TensorWasm SLO one value labelled with service and slo only: what
// Grafana's merge joins into one row per SLO.
func requireOneSamplePerSLO(t *testing.T, v promql.Vector, q string) {
	t.Helper()
	var got, want []string
	for _, o := range catalog.TensorWasm().Services[0].SLOs {
		want = append(want, o.Name)
	}
	for _, smp := range v {
		var names []string
		smp.Metric.Range(func(l labels.Label) { names = append(names, l.Name) })
		require.Equal(t, []string{model.LabelService, model.LabelSLO}, names, q)
		got = append(got, smp.Metric.Get(model.LabelSLO))
	}
	require.ElementsMatch(t, want, got, q)
}
