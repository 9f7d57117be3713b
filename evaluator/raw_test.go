package evaluator_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/sim"
)

// A replay reading its raw series from a Raw store, an hour at a time and
// dropping what no later evaluation reads, must record the same values and
// raise the same alerts as one reading them from the TSDB; and a
// range query, cut into parts evaluated at once, must give what instant
// queries give at each of its steps.
func TestRawStoreReplayEqualsTSDBReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("replays three hours twice")
	}
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	groups, err := rules.Build(svc, s.Version)
	require.NoError(t, err)
	ctx := context.Background()
	epoch := time.Unix(0, 0).UTC()
	end := epoch.Add(3 * time.Hour)
	const scrape = 15 * time.Second
	scenario := func() *sim.Scenario {
		return catalog.Simulation(epoch, sim.Constant(5),
			sim.Incident{Start: time.Hour, Duration: 40 * time.Minute, ErrorRatio: 0.3},
			sim.Incident{Start: 90 * time.Minute, Duration: 20 * time.Minute, SlowRatio: 0.5, Routes: []string{"/invoke"}})
	}

	want, err := evaluator.New(groups.Groups...)
	require.NoError(t, err)
	defer want.Close()
	require.NoError(t, want.Scrape(ctx, epoch, end, scrape, scenario().Scrape))
	for from := epoch; from.Before(end); from = from.Add(time.Hour) {
		require.NoError(t, want.Evaluate(ctx, from, from.Add(time.Hour)))
	}

	got, err := evaluator.New(groups.Groups...)
	require.NoError(t, err)
	defer got.Close()
	raw := evaluator.NewRaw()
	got.ReadRaw(raw)
	reach, ok := got.Reach()
	require.True(t, ok)
	require.Less(t, reach, time.Hour, "the rules read raw series minutes back, not the SLO period")
	sc := scenario()
	scraped := epoch
	for from := epoch; from.Before(end); from = from.Add(time.Hour) {
		to := from.Add(time.Hour)
		for ; !scraped.After(to); scraped = scraped.Add(scrape) {
			sc.Scrape(scraped, func(l labels.Labels, v float64) {
				raw.Append(l, []promql.FPoint{{T: scraped.UnixMilli(), F: v}})
			})
		}
		require.NoError(t, got.Evaluate(ctx, from, to))
		raw.Trim(to.Add(-reach).UnixMilli())
	}

	require.NotEmpty(t, want.Events)
	require.Equal(t, want.Events, got.Events)
	for _, q := range []string{`{__name__=~"slo:.+"}`, `ALERTS`} {
		w, err := want.QueryRange(ctx, q, epoch, end, time.Minute)
		require.NoError(t, err)
		g, err := got.QueryRange(ctx, q, epoch, end, time.Minute)
		require.NoError(t, err)
		require.Equal(t, w, g, q)
		require.NotEmpty(t, w, q)
		// Range results against instant queries, step by step.
		steps := 0
		for _, s := range w {
			steps += len(s.Floats)
		}
		perStep := 0
		for at := epoch; !at.After(end); at = at.Add(time.Minute) {
			v, err := got.Query(ctx, q, at)
			require.NoError(t, err)
			perStep += len(v)
			for _, smp := range v {
				found := false
				for _, s := range g {
					if labels.Equal(s.Metric, smp.Metric) {
						for _, p := range s.Floats {
							if p.T == at.UnixMilli() {
								require.Equal(t, p.F, smp.F, "%s at %s", smp.Metric, at)
								found = true
							}
						}
					}
				}
				require.True(t, found, "%s at %s", smp.Metric, at)
			}
		}
		require.Equal(t, steps, perStep, q)
	}
}

func TestRawStoreKeepsTimeOrderAndTrims(t *testing.T) {
	raw := evaluator.NewRaw()
	l := labels.FromStrings("__name__", "x", "job", "a")
	n, isNew := raw.Append(l, []promql.FPoint{{T: 1000, F: 1}, {T: 2000, F: 2}})
	require.Equal(t, 2, n)
	require.True(t, isNew)
	// A read overlapping the last one: the boundary sample comes twice.
	n, isNew = raw.Append(l, []promql.FPoint{{T: 2000, F: 2}, {T: 3000, F: 3}})
	require.Equal(t, 1, n)
	require.False(t, isNew)
	raw.Trim(2000)

	ev, err := evaluator.New()
	require.NoError(t, err)
	defer ev.Close()
	ev.ReadRaw(raw)
	m, err := ev.QueryRange(context.Background(), `x`, time.UnixMilli(0), time.UnixMilli(3000), time.Second)
	require.NoError(t, err)
	require.Len(t, m, 1)
	require.Equal(t, []promql.FPoint{{T: 2000, F: 2}, {T: 3000, F: 3}}, m[0].Floats)
}
