package evaluator

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/sim"
)

// The ALERTS-reading rules with their raw-series parts memoized must give
// at every step exactly what the rules themselves give, also where those
// parts start and stop yielding: here the service is not scraped for 20
// minutes, so absent() yields, then stops.
func TestMemoizedPartsGiveTheRulesOwnValues(t *testing.T) {
	if testing.Short() {
		t.Skip("replays two hours")
	}
	s := catalog.TensorWasm()
	groups, err := rules.Build(&s.Services[0], s.Version)
	require.NoError(t, err)
	ctx := context.Background()
	epoch := time.Unix(0, 0).UTC()
	end := epoch.Add(2 * time.Hour)
	sc := catalog.Simulation(epoch, sim.Constant(5))
	gapFrom, gapTo := epoch.Add(70*time.Minute), epoch.Add(90*time.Minute)
	e, err := New(groups.Groups...)
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.Run(ctx, epoch, end, 15*time.Second, func(at time.Time, add func(labels.Labels, float64)) {
		if at.Before(gapFrom) || !at.Before(gapTo) {
			sc.Scrape(at, add)
		}
	}))
	var unmeasured bool
	for _, ev := range e.Events {
		unmeasured = unmeasured || ev.Alert == "SLOUnmeasured"
	}
	require.True(t, unmeasured, "the gap raises SLOUnmeasured")

	compared := 0
	for _, g := range e.groups {
		rs := g.alertsReaders()
		if len(rs) == 0 {
			continue
		}
		queries, err := e.memoize(ctx, rs, epoch, end, g.interval)
		require.NoError(t, err)
		for i, r := range rs {
			require.Contains(t, queries[i], memoLabel, r.Name())
			for at := epoch; !at.After(end); at = at.Add(g.interval) {
				want, err := e.Query(ctx, r.Query().String(), at)
				require.NoError(t, err)
				got, err := e.Query(ctx, queries[i], at)
				require.NoError(t, err)
				require.Equal(t, want, got, "%s at %s", r.Name(), at.Sub(epoch))
				compared += len(want)
			}
		}
		clear(e.memo)
	}
	require.Positive(t, compared)
}
