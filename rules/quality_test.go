package rules_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/sim"
)

// A month at half the sustainable burn, with Poisson noise on every count,
// raises no alert at all: no false positives.
func TestNoAlertInAMonthAtHalfTheSustainableBurn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		traffic sim.Profile
	}{
		{"constant traffic", sim.Constant(20)},
		{"diurnal traffic swinging 10x", sim.Diurnal(50, 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			scenario := catalog.Simulation(epoch, tc.traffic)
			scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.0025 } // burn 0.5 of a 0.5% budget
			scenario.HTTP.Seed = 42
			events := replay(t, tensorWasm(t), scenario.Scrape, 30*24*time.Hour).Events
			require.Empty(t, events, "no alert may fire or even go pending")
			good, bad := scenario.HTTP.Counts()
			require.InDelta(t, 0.0025, bad/(good+bad), 0.0001, "the month really burned at 0.5")
		})
	}
}

// A sustained burn of 1.2 after a clean history: the very-slow tier files
// its ticket within three days (the analysis says 60h).
func TestVerySlowTierCatchesASustainedBurnOf1Point2WithinThreeDays(t *testing.T) {
	start := 3 * 24 * time.Hour
	scenario := catalog.Simulation(epoch, sim.Constant(20), sim.Incident{Start: start, Duration: 4 * 24 * time.Hour, ErrorRatio: 1.2 * 0.005})
	events := replay(t, tensorWasm(t), scenario.Scrape, 6*24*time.Hour+time.Hour).Events
	var caught time.Duration
	for _, e := range events {
		if e.Alert == "AvailabilityVerySlowBurn" && e.State == evaluator.Firing {
			caught = e.At.Sub(epoch.Add(start))
			break
		}
	}
	require.Positive(t, caught, "the very-slow tier never fired")
	require.LessOrEqual(t, caught, 3*24*time.Hour)
	require.InDelta(t, (60 * time.Hour).Minutes(), caught.Minutes(), 1, "0.005 x 72h / 0.006")
	for _, e := range events {
		require.NotEqual(t, "page", e.Labels.Get(model.LabelSeverity), "a 1.2 burn is a ticket, not a page: %s", e.Alert)
	}
}

// One request a minute, and one of them fails: nobody is paged.
func TestOneFailedRequestOnALowTrafficServiceDoesNotPage(t *testing.T) {
	failure := sim.Incident{Start: 26 * time.Hour, Duration: time.Minute, ErrorRatio: 1}
	scenario := catalog.Simulation(epoch, sim.Constant(1.0/60), failure)
	events := replay(t, tensorWasm(t), scenario.Scrape, 30*time.Hour).Events
	_, bad := scenario.HTTP.Counts()
	require.InDelta(t, 1, bad, 1e-9, "exactly one failed request")
	for _, e := range events {
		require.NotEqual(t, "page", e.Labels.Get(model.LabelSeverity), "%s %s at %s", e.Alert, e.State, e.At)
	}
}
