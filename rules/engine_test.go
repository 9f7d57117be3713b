package rules_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/sim"
)

// epoch is an arbitrary, minute-aligned start of simulated time.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const scrape = 15 * time.Second

// tensorWasm returns TensorWasm's validated service.
func tensorWasm(t *testing.T) *model.Service {
	t.Helper()
	s := catalog.TensorWasm()
	require.NoError(t, s.Validate())
	return &s.Services[0]
}

// replay builds svc's rules and replays them with Prometheus' engine over
// what feed scrapes, from epoch for length.
func replay(t *testing.T, svc *model.Service, feed evaluator.Feed, length time.Duration) *evaluator.Evaluator {
	t.Helper()
	groups, err := rules.Build(svc, "1.0.0")
	require.NoError(t, err)
	ev, err := evaluator.New(groups.Groups...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ev.Close() })
	require.NoError(t, ev.Run(context.Background(), epoch, epoch.Add(length), scrape, feed))
	return ev
}

// requests simulates TensorWasm's request counter, all on /invoke.
func requests(traffic sim.Profile, incidents ...sim.Incident) *sim.HTTP {
	return &sim.HTTP{
		Requests: catalog.HTTPRequests, RouteLabel: "route",
		Labels:  map[string]string{"job": "tensor-wasm"},
		Routes:  []sim.Route{{Path: "/invoke", Method: "POST", Share: 1}},
		Traffic: traffic, Incidents: incidents, Start: epoch,
	}
}

// firstEvent returns when alert first reached state, or false.
func firstEvent(ev *evaluator.Evaluator, alert string, state evaluator.State) (evaluator.Event, bool) {
	for _, e := range ev.Events {
		if e.Alert == alert && e.State == state {
			return e, true
		}
	}
	return evaluator.Event{}, false
}

// A full outage after a clean history of the slow tier's long window: the
// fast tier pages within five minutes and holds the incident until every
// page tier has reset; the slow tier fires under it (Alertmanager inhibits
// it) and resolves with it, so the incident ends with one resolve.
func TestFullOutagePagesFastAndResolvesOnceEveryPageTierHasReset(t *testing.T) {
	start, length := 6*time.Hour, 30*time.Minute
	req := requests(sim.Constant(20), sim.Incident{Start: start, Duration: length, ErrorRatio: 1})
	ev := replay(t, tensorWasm(t), req.Scrape, start+length+time.Hour)

	firing, ok := firstEvent(ev, "AvailabilityFastBurn", evaluator.Firing)
	require.True(t, ok, "the fast tier never fired on a 100%% error incident; events: %v", ev.Events)
	delay := firing.At.Sub(epoch.Add(start))
	require.Greater(t, delay, time.Duration(0), "fired before the incident")
	require.LessOrEqual(t, delay, 5*time.Minute)
	require.Equal(t, "page", firing.Labels.Get(model.LabelSeverity))
	require.Equal(t, "fast", firing.Labels.Get(model.LabelTier))
	require.Equal(t, "availability_http", firing.Labels.Get(model.LabelSLO))

	fast, ok := firstEvent(ev, "AvailabilityFastBurn", evaluator.Resolved)
	require.True(t, ok, "the fast tier never resolved after the incident")
	slow, ok := firstEvent(ev, "AvailabilitySlowBurn", evaluator.Resolved)
	require.True(t, ok, "the slow tier never resolved after the incident")
	require.Equal(t, slow.At, fast.At, "the page tiers resolve together")
	// The slow tier's 30m window falls under its 3% threshold 30m x (1 -
	// 0.03) after the errors stop, at the next evaluation.
	require.Equal(t, epoch.Add(start+length+30*time.Minute), fast.At)
	for _, e := range ev.Events {
		if e.Labels.Get(model.LabelSLO) == "availability_http" && e.State == evaluator.Firing && e.Labels.Get(model.LabelSeverity) == "page" {
			require.Contains(t, []string{"AvailabilityFastBurn", "AvailabilitySlowBurn"}, e.Alert, "at %s", e.At)
		}
	}
}

func TestPeriodSLIIsTheExactTrafficWeightedRatio(t *testing.T) {
	svc := tensorWasm(t)
	o, _ := svc.SLO("availability_http")
	period := o.Period.Std()
	// Failures arrive at a steady 0.05/s while traffic swings 10x, so the
	// error ratio is 10x higher at night than at the daily peak. The whole
	// contract is simulated, so every SLO is measured.
	scenario := catalog.Simulation(epoch, sim.Diurnal(100, 10))
	req := scenario.HTTP
	req.ErrorRatio = func(at time.Duration) float64 { return 0.05 / req.Traffic(at) }

	end := epoch.Add(period + 2*model.PeriodTile.Std())
	from := end.Add(-period - model.PeriodTile.Std())
	var good0, bad0 float64
	feed := func(at time.Time, add func(labels.Labels, float64)) {
		scenario.Scrape(at, add)
		if at.Equal(end.Add(-period)) {
			good0, bad0 = req.Counts()
		}
	}
	ev := replay(t, svc, feed, end.Sub(epoch))
	require.Equal(t, 0, int(from.Sub(epoch)%model.PeriodTile.Std()), "the end must fall on a period-group evaluation")

	good, bad := req.Counts()
	exact := (bad - bad0) / (good - good0 + bad - bad0)

	ctx := context.Background()
	recorded := queryOne(t, ev, ctx, `slo:sli_error:ratio_rate30d{slo="availability_http"}`, end)
	require.InDelta(t, exact, recorded, 1e-5, "recorded 30d SLI %g, exact %g", recorded, exact)

	// Averaging 5m ratios over the period, as generators commonly do, is
	// not traffic-weighted: night-time ratios count as much as peak ones.
	averaged := queryOne(t, ev, ctx, `avg_over_time((
		sum(rate(tensor_wasm_http_requests_total{status="500"}[5m])) / sum(rate(tensor_wasm_http_requests_total[5m]))
	)[30d:5m])`, end)
	require.Greater(t, math.Abs(averaged-exact), 50*math.Abs(recorded-exact)+1e-4,
		"averaged 5m ratios %g should miss the exact %g by far more than the recorded %g", averaged, exact, recorded)
	t.Logf("exact %.10f, recorded %.10f (off by %.2g), averaged 5m ratios %.10f", exact, recorded, recorded-exact, averaged)

	remaining := queryOne(t, ev, ctx, `slo:error_budget_remaining:ratio{slo="availability_http"}`, end)
	require.InDelta(t, 1-exact/o.BudgetRatio(), remaining, 1e-3)
}

func queryOne(t *testing.T, ev *evaluator.Evaluator, ctx context.Context, q string, at time.Time) float64 {
	t.Helper()
	v, err := ev.Query(ctx, q, at)
	require.NoError(t, err)
	require.Len(t, v, 1, "query %s", q)
	return v[0].F
}
