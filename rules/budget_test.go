package rules_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/sim"
)

// alertingAs returns TensorWasm's spec with availability_http alerted in mode.
func alertingAs(t *testing.T, mode model.AlertingMode) *model.Service {
	t.Helper()
	s := catalog.TensorWasm()
	s.Services[0].SLOs[0].Alerting = mode
	require.NoError(t, s.Validate())
	return &s.Services[0]
}

// fired says whether alert reached firing in a replay of scenario.
func fired(t *testing.T, svc *model.Service, scenario *sim.Scenario, length time.Duration, alert string) bool {
	t.Helper()
	_, ok := firstEvent(replay(t, svc, scenario.Scrape, length), alert, evaluator.Firing)
	return ok
}

// A peak-hour incident failing 5% of requests stays under the 14.4x ratio
// line (7.2%), yet at peak traffic it spends the budget faster than 14.4x
// the month's average allowance.
func TestBudgetModeCatchesAPeakHourIncidentRatioModeMisses(t *testing.T) {
	peak := sim.Incident{Start: 3*24*time.Hour + 13*time.Hour + 30*time.Minute, Duration: time.Hour, ErrorRatio: 0.05}
	for _, tc := range []struct {
		mode  model.AlertingMode
		pages bool
	}{{model.RatioAlerting, false}, {model.BudgetAlerting, true}} {
		scenario := catalog.Simulation(epoch, sim.Diurnal(100, 10), peak)
		require.Equal(t, tc.pages, fired(t, alertingAs(t, tc.mode), scenario, 3*24*time.Hour+16*time.Hour, "AvailabilityFastBurn"), tc.mode)
	}
}

// A five-minute outage at night on a quiet service fails a few hundred
// requests: a high ratio, a negligible share of the month's budget.
func TestBudgetModeStaysQuietOnANightBlipRatioModePages(t *testing.T) {
	blip := sim.Incident{Start: 2*24*time.Hour + 2*time.Hour, Duration: 5 * time.Minute, ErrorRatio: 1}
	for _, tc := range []struct {
		mode  model.AlertingMode
		pages bool
	}{{model.RatioAlerting, true}, {model.BudgetAlerting, false}} {
		scenario := catalog.Simulation(epoch, sim.Diurnal(10, 10), blip)
		require.Equal(t, tc.pages, fired(t, alertingAs(t, tc.mode), scenario, 2*24*time.Hour+4*time.Hour, "AvailabilityFastBurn"), tc.mode)
		good, bad := scenario.HTTP.Counts()
		require.Less(t, bad, 400.0, "a handful of failed requests (%.0f of %.0f)", bad, good+bad)
	}
}

// Right after deployment the period holds a few hours of data. Measured
// against the whole period, the budget would look tiny and page; averaged
// over the covered part, it does not.
func TestBudgetModeWarmUpDoesNotPage(t *testing.T) {
	scenario := catalog.Simulation(epoch, sim.Constant(20))
	scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.0025 } // burn 0.5
	ev := replay(t, alertingAs(t, model.BudgetAlerting), scenario.Scrape, 12*time.Hour)
	for _, e := range ev.Events {
		require.NotEqual(t, "availability_http", e.Labels.Get(model.LabelSLO), "%s %s at %s", e.Alert, e.State, e.At)
	}
	// The unguarded allowance, budget x events so far / 30 days, would page.
	naive, err := ev.Query(context.Background(), `slo:bad_events:window1h{slo="availability_http"} / 3600
		> 14.4 * 0.005 * sum_over_time(slo:total_events:increase4m{slo="availability_http"}[30d]) / 2592000`, epoch.Add(6*time.Hour))
	require.NoError(t, err)
	require.NotEmpty(t, naive, "without the guard, warm-up would page")
}

// A month of 10x day/night traffic at 0.3% errors (burn 0.6), with one 2h
// incident failing 5% of requests before a daily peak. Alerts may start
// during the incident and while its 6h windows still hold it; none may start
// later, in particular no very-slow ticket at the next days' peaks, where a
// 6h window carries 1.74x the mean traffic and burn 0.6 would read as 1.04x
// the allowance in budget mode but for the guard that the window's own
// error ratio be above the budget ratio. Budget mode, and only it, pages on
// the incident (5% stays under the 7.2% ratio line).
func TestDiurnalMonthRaisesNoFalseAlertInEitherMode(t *testing.T) {
	incident := sim.Incident{Start: 20*24*time.Hour + 12*time.Hour, Duration: 2 * time.Hour, ErrorRatio: 0.05}
	month := 30 * 24 * time.Hour
	for _, mode := range []model.AlertingMode{model.RatioAlerting, model.BudgetAlerting} {
		scenario := catalog.Simulation(epoch, sim.Diurnal(100, 10), incident)
		scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.003 }
		ev := replay(t, alertingAs(t, mode), scenario.Scrape, month)
		paged := false
		for _, e := range ev.Events {
			if e.Labels.Get(model.LabelSLO) != "availability_http" || e.State != evaluator.Firing {
				continue
			}
			at := e.At.Sub(epoch)
			require.True(t, at >= incident.Start && at <= incident.Start+incident.Duration+6*time.Hour,
				"%s: %s fired at %s, away from the incident", mode, e.Alert, model.Duration(at))
			paged = paged || e.Labels.Get(model.LabelSeverity) == string(model.Page)
		}
		require.Equal(t, mode == model.BudgetAlerting, paged, "%s pages on the peak-hour incident", mode)
	}
}
