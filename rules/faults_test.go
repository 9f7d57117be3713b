package rules_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/sim"
)

// Alerts under faults, replayed with Prometheus' engine: the SLO's page
// alerts hold one incident (rules/incident.go).

// scraped scrapes scenario as Prometheus scrapes TensorWasm's one target:
// up is 1 and the series are there while it is reachable; while down(t),
// up is 0 and every series it exposed gets a staleness marker, as a failed
// scrape writes.
func scraped(scenario *sim.Scenario, down func(time.Duration) bool) evaluator.Feed {
	up := labels.FromStrings("__name__", model.UpSeries, "job", "tensor-wasm", "instance", "tensor-wasm-0:9464")
	var exposed []labels.Labels
	stale := false
	return func(t time.Time, add func(labels.Labels, float64)) {
		if down(t.Sub(epoch)) {
			add(up, 0)
			if !stale {
				for _, l := range exposed {
					add(l, math.Float64frombits(value.StaleNaN))
				}
				stale = true
			}
			return
		}
		add(up, 1)
		exposed, stale = exposed[:0], false
		scenario.Scrape(t, func(l labels.Labels, v float64) {
			exposed = append(exposed, l)
			add(l, v)
		})
	}
}

// episodes lists the firing and resolving of the page alerts of one SLO.
func episodes(ev *evaluator.Evaluator, slo string) []evaluator.Event {
	var out []evaluator.Event
	for _, e := range ev.Events {
		if e.Labels.Get(model.LabelSLO) == slo && e.Labels.Get(model.LabelSeverity) == string(model.Page) && e.State != evaluator.Pending {
			out = append(out, e)
		}
	}
	return out
}

func describe(es []evaluator.Event) string {
	s := ""
	for _, e := range es {
		s += fmt.Sprintf("\n  %s %s %s", e.At.Sub(epoch), e.Alert, e.State)
	}
	return s
}

// A full outage pages; ten minutes in, the process dies. Its windows empty
// out, but the page stays open while it is down and resolves once, after it
// is back and every page tier has reset.
func TestADeadServiceKeepsItsPageUntilItIsBack(t *testing.T) {
	start := 6 * time.Hour
	outage := sim.Incident{Start: start, Duration: 30 * time.Minute, ErrorRatio: 1}
	downFrom, downTo := start+10*time.Minute, start+50*time.Minute
	scenario := catalog.Simulation(epoch, sim.Constant(20), outage)
	ev := replay(t, tensorWasm(t), scraped(scenario, func(at time.Duration) bool { return at >= downFrom && at < downTo }), start+3*time.Hour)

	es := episodes(ev, "availability_http")
	require.NotEmpty(t, es, "no page")
	first := es[0]
	require.Equal(t, "AvailabilityFastBurn", first.Alert, describe(es))
	require.Equal(t, evaluator.Firing, first.State)
	require.LessOrEqual(t, first.At.Sub(epoch.Add(start)), 5*time.Minute, "pages within 5m")
	resolved, ok := firstEvent(ev, first.Alert, evaluator.Resolved)
	require.True(t, ok, "never resolved:%s", describe(es))
	require.False(t, resolved.At.Before(epoch.Add(downTo)), "resolved at %s while the service was down:%s", resolved.At.Sub(epoch), describe(es))
	for _, e := range es {
		// The slow tier may fire under the fast one (Alertmanager
		// inhibits it); nothing else pages, and the fast tier, which
		// paged, resolves last.
		require.Contains(t, []string{"AvailabilityFastBurn", "AvailabilitySlowBurn"}, e.Alert, describe(es))
		if e.State == evaluator.Resolved {
			require.False(t, e.At.After(resolved.At), describe(es))
		}
	}
	for _, slo := range []string{"latency_http_invoke", "latency_http_healthz_P95"} {
		for _, e := range episodes(ev, slo) {
			// The other SLOs go unmeasured too; Alertmanager holds those
			// back under the open page (routing).
			require.Equal(t, model.AlertName(model.UnmeasuredAlert), e.Alert, "%s:%s", slo, describe(episodes(ev, slo)))
		}
	}
}

// A 4h burn at 5% fires the slow tier (3% over 6h, after 3.6h) but not the
// fast one (7.2%).
// When it escalates to a full outage, the slow tier already holds the
// incident: the fast tier does not page a second time.
func TestASlowerTierThatPagedFirstHoldsTheIncident(t *testing.T) {
	start := 6 * time.Hour
	scenario := catalog.Simulation(epoch, sim.Constant(20),
		sim.Incident{Start: start, Duration: 4 * time.Hour, ErrorRatio: 0.05},
		sim.Incident{Start: start + 4*time.Hour, Duration: 20 * time.Minute, ErrorRatio: 1})
	ev := replay(t, tensorWasm(t), scenario.Scrape, start+6*time.Hour)

	es := episodes(ev, "availability_http")
	require.Len(t, es, 2, "one page, one resolve:%s", describe(es))
	require.Equal(t, "AvailabilitySlowBurn", es[0].Alert, describe(es))
	require.Equal(t, evaluator.Firing, es[0].State)
	require.Equal(t, evaluator.Resolved, es[1].State)
	require.True(t, es[1].At.After(epoch.Add(start+4*time.Hour+20*time.Minute)), "held through the outage:%s", describe(es))
	_, paged := firstEvent(ev, "AvailabilityFastBurn", evaluator.Firing)
	require.False(t, paged, "the fast tier paged a second time")
}

// Fresh Prometheus servers, clean traffic at 0.1% errors (burn 0.2) with
// Poisson noise on a quiet service: no tier fires on the first noisy
// minutes, because a tier waits until its long window holds its short
// window's length of data.
func TestFreshStartsWithNoiseRaiseNoAlert(t *testing.T) {
	runs, length := 200, 40*time.Minute
	if testing.Short() {
		runs = 20
	}
	svc := tensorWasm(t)
	for i := range runs {
		scenario := catalog.Simulation(epoch, sim.Constant(2))
		scenario.HTTP.Seed = uint64(i + 1)
		scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.001 }
		ev := replay(t, svc, scraped(scenario, func(time.Duration) bool { return false }), length)
		for _, e := range ev.Events {
			if e.State == evaluator.Firing {
				t.Fatalf("run %d: %s fired at %s", i, e.Alert, e.At.Sub(epoch))
			}
		}
	}
}

// openings counts the times a page alert of the SLO fired while none of
// its page alerts was firing: the pages Alertmanager delivers. A resolve
// and a fire at one evaluation count as a new page, as Alertmanager sees
// the fired alert no longer inhibited.
func openings(es []evaluator.Event) int {
	firing, n := map[string]bool{}, 0
	for i, e := range es {
		if e.State != evaluator.Firing {
			delete(firing, e.Alert)
			continue
		}
		open := len(firing) > 0
		for _, r := range es[i+1:] {
			if r.At.Equal(e.At) && r.State == evaluator.Resolved && firing[r.Alert] {
				open = len(firing) > 1
			}
		}
		if !open {
			n++
		}
		firing[e.Alert] = true
	}
	return n
}

// Right after a fresh start a slower tier's long window holds too little
// data to fire; when its guard lifts, its windows still hold an outage
// the faster tier paged and resolved. That outage must not page again,
// whenever it fell in the first half hour.
func TestAnOutageInTheFirstHalfHourPagesOnce(t *testing.T) {
	svc := tensorWasm(t)
	step := 2 * time.Minute
	if testing.Short() {
		step = 6 * time.Minute
	}
	for start := 2 * time.Minute; start <= 30*time.Minute; start += step {
		for _, length := range []time.Duration{5 * time.Minute, 12 * time.Minute} {
			scenario := catalog.Simulation(epoch, sim.Constant(20), sim.Incident{Start: start, Duration: length, ErrorRatio: 1})
			ev := replay(t, svc, scenario.Scrape, start+length+2*time.Hour)
			es := episodes(ev, "availability_http")
			require.Equal(t, 1, openings(es), "outage at %s for %s:%s", start, length, describe(es))
		}
	}
}
