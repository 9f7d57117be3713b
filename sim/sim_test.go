package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/sim"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func sprintf(f, a string) string { return fmt.Sprintf(f, a) }

func scrapeAll(s *sim.Scenario, at time.Time) map[string]float64 {
	out := map[string]float64{}
	s.Scrape(at, func(l labels.Labels, v float64) { out[l.String()] = v })
	return out
}

func TestScenariosAreDeterministic(t *testing.T) {
	a := catalog.Simulation(start, sim.Diurnal(50, 10), sim.Incident{Start: time.Hour, Duration: time.Hour, ErrorRatio: 0.3, LatencyFactor: 4})
	b := catalog.Simulation(start, sim.Diurnal(50, 10), sim.Incident{Start: time.Hour, Duration: time.Hour, ErrorRatio: 0.3, LatencyFactor: 4})
	for m := range 180 {
		at := start.Add(time.Duration(m) * time.Minute)
		require.Equal(t, scrapeAll(a, at), scrapeAll(b, at))
	}
}

func TestHistogramBucketsAreCumulativeAndCountsAddUp(t *testing.T) {
	s := catalog.Simulation(start, sim.Constant(10))
	scrapeAll(s, start)
	got := scrapeAll(s, start.Add(10*time.Minute))
	invoke := `{__name__="tensor_wasm_http_request_duration_seconds_bucket", instance="tensor-wasm-0:9464", job="tensor-wasm", le="%s", method="POST", route="/invoke", status="200"}`
	prev := 0.0
	for _, le := range []string{"0.001", "0.01", "0.1", "1", "10", "+Inf"} {
		v, ok := got[sprintf(invoke, le)]
		require.True(t, ok, le)
		require.GreaterOrEqual(t, v, prev)
		prev = v
	}
	// 10 req/s for 600 s, 90% on /invoke, none failing.
	require.InDelta(t, 5400, prev, 1e-6)
	good, bad := s.HTTP.Counts()
	require.InDelta(t, 6000, good, 1e-6)
	require.Zero(t, bad)
}

func TestIncidentsFailAndSlowOnlyWhileActive(t *testing.T) {
	h := catalog.Simulation(start, sim.Constant(1), sim.Incident{Start: time.Hour, Duration: time.Hour, ErrorRatio: 0.25, Routes: []string{"/invoke"}}).HTTP
	require.Zero(t, h.ErrorRatioAt("/invoke", 59*time.Minute))
	require.Equal(t, 0.25, h.ErrorRatioAt("/invoke", 90*time.Minute))
	require.Zero(t, h.ErrorRatioAt("/healthz", 90*time.Minute))
	require.Zero(t, h.ErrorRatioAt("/invoke", 2*time.Hour))
}

func TestDiurnalSwingsBetweenPeakAndTrough(t *testing.T) {
	p := sim.Diurnal(100, 10)
	require.InDelta(t, 100, p(14*time.Hour), 1e-9)
	require.InDelta(t, 10, p(2*time.Hour), 1e-9)
}

func TestSlowRequestsLandAboveEveryBucket(t *testing.T) {
	s := catalog.Simulation(start, sim.Constant(10), sim.Incident{Duration: time.Hour, SlowRatio: 0.25, Routes: []string{"/invoke"}})
	scrapeAll(s, start)
	got := scrapeAll(s, start.Add(10*time.Minute))
	bucket := `{__name__="tensor_wasm_http_request_duration_seconds_bucket", instance="tensor-wasm-0:9464", job="tensor-wasm", le="%s", method="POST", route="/invoke", status="200"}`
	// 5400 /invoke requests; a quarter are slower than the 10s bucket.
	require.InDelta(t, 5400*0.75, got[sprintf(bucket, "10")], 1e-3)
	require.InDelta(t, 5400, got[sprintf(bucket, "+Inf")], 1e-6)
}

func TestSeededNoiseRepeatsAndStaysNearTheMean(t *testing.T) {
	run := func(seed uint64) float64 {
		s := catalog.Simulation(start, sim.Constant(10))
		s.HTTP.Seed = seed
		scrapeAll(s, start)
		scrapeAll(s, start.Add(time.Hour))
		good, _ := s.HTTP.Counts()
		return good
	}
	require.Equal(t, run(7), run(7), "the same seed gives the same counts")
	require.NotEqual(t, run(7), run(8))
	require.InDelta(t, 36000, run(7), 36000*0.03, "within a few percent of 10/s for an hour")
	require.Equal(t, run(7), float64(int(run(7))), "seeded counts are whole requests")
}
