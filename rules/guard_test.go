package rules_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/sim"
)

func TestWindowsWithoutTrafficGiveNoSampleAndNoAlert(t *testing.T) {
	s := catalog.TensorWasm()
	// An hour of failures, then the service goes quiet: its counters stay
	// flat, so every short window holds zero events.
	busy := sim.Constant(5)
	req := requests(func(at time.Duration) float64 {
		if at < time.Hour {
			return busy(at)
		}
		return 0
	}, sim.Incident{Duration: time.Hour, ErrorRatio: 0.5})
	ev := replay(t, &s.Services[0], req.Scrape, 2*time.Hour)
	end := epoch.Add(2 * time.Hour)

	v, err := ev.Query(context.Background(), `slo:sli_error:ratio_rate5m{slo="availability_http"}`, end)
	require.NoError(t, err)
	require.Empty(t, v, "a window without traffic must have no ratio, not NaN or 0")
	v, err = ev.Query(context.Background(), `{__name__=~"slo:.+"}`, end)
	require.NoError(t, err)
	for _, s := range v {
		require.False(t, math.IsNaN(s.F), "%s is NaN", s.Metric)
	}
	fast, ok := firstEvent(ev, "AvailabilityFastBurn", evaluator.Resolved)
	require.True(t, ok, "the fast tier must resolve once traffic stops")
	// The page tiers share the incident: it ends when the last page
	// tier's short window (the slow tier's 30m) holds no traffic.
	require.Equal(t, epoch.Add(time.Hour+30*time.Minute), fast.At, "resolves when the 30m window holds no traffic")
}

func TestMinEventsKeepsALowTrafficServiceQuiet(t *testing.T) {
	// One request a minute, and for 10 minutes every one of them fails:
	// 10 bad events, a 16% error ratio over the hour.
	incident := sim.Incident{Start: 3 * time.Hour, Duration: 10 * time.Minute, ErrorRatio: 1}
	for _, tc := range []struct {
		minEvents float64
		pages     bool
	}{{0, true}, {100, false}} {
		s := catalog.TensorWasm()
		s.Services[0].SLOs[0].MinEvents = tc.minEvents
		require.NoError(t, s.Validate())
		ev := replay(t, &s.Services[0], requests(sim.Constant(1.0/60), incident).Scrape, 4*time.Hour)
		_, fired := firstEvent(ev, "AvailabilityFastBurn", evaluator.Firing)
		require.Equal(t, tc.pages, fired, "minEvents %v", tc.minEvents)
	}
}

func TestGatewayThresholdAlertHonoursFor(t *testing.T) {
	s := examples.Gateway(t)
	req := &sim.HTTP{
		Requests: "http_requests_total", RouteLabel: "endpoint", Labels: map[string]string{"service": "inference-gateway"},
		Routes:  []sim.Route{{Path: "/v1/infer", Method: "POST", Share: 1}},
		Traffic: sim.Constant(10), Start: epoch,
		Incidents: []sim.Incident{{Start: time.Hour, Duration: time.Hour, ErrorRatio: 0.1}},
	}
	ev := replay(t, &s.Services[0], req.Scrape, 3*time.Hour)

	pending, ok := firstEvent(ev, "HighErrorRate", evaluator.Pending)
	require.True(t, ok)
	firing, ok := firstEvent(ev, "HighErrorRate", evaluator.Firing)
	require.True(t, ok)
	require.Equal(t, 2*time.Minute, firing.At.Sub(pending.At), "for: 2m")
	require.Equal(t, "page", firing.Labels.Get(model.LabelSeverity))
	warning, ok := firstEvent(ev, "ElevatedErrorRate", evaluator.Firing)
	require.True(t, ok)
	require.Equal(t, "ticket", warning.Labels.Get(model.LabelSeverity))
	// At 10% errors the 5m ratio passes 5% once three of its five tiles fail.
	require.Equal(t, epoch.Add(time.Hour+3*time.Minute), pending.At)
}
