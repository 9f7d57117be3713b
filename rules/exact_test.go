package rules_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// The exactness proof. Simulated targets emit counters whose every event has
// a known time; a simulated scraper samples them (with jitter, failed
// scrapes, restarts, series that appear and vanish) and writes the samples
// and staleness markers as Prometheus would; Prometheus' engine then
// replays the generated rules over them. The event tiles summed over 1h, and
// the period SLI, must equal the exact counts.
//
// "Exact" is what any counter-based SLI can know: an event is counted once,
// in the tile of the first sample that shows it (its observing sample). An
// event that happened after a process' last successful scrape and before it
// restarted is in no sample at all; no rule can count it, and the test
// reports such events apart (unobservable) and checks there are as many as
// the scenario put there.
//
// Each case also runs a reference model of the tile expression, written from
// its definition in rules/sli.go. The engine must agree with the model
// exactly, and the tiles must count every observed event except those the
// rules stated in the README give up, each computed apart by
// documentedLoss from what the simulation knows (processes, observing
// samples):
//   - a series' first tile after no sample for the bridge (a new series, or
//     one back after a gap longer than 2m) is its baseline;
//   - a restart inside a tile: the tile counts the new process' value, not
//     what the old process counted earlier in the tile;
//   - a restart the counter outgrows before the next sample shows no
//     decrease in any sample (Prometheus' increase() misses it too).
//
// Exact, to the event, at 1m and 10s evaluations and 15s and 30s scrapes:
// minute-aligned bursts (where increase() per tile counted 0 of 72,000),
// jitter, and failed scrapes, whose staleness markers hide no sample from
// the range selectors.
//
// Run: go test -run TestEventTilesAreExact -v ./rules/

const (
	exactService = "exact"
	exactMetric  = "reqs_total"
	// The 5m lookback of an instant selector.
	lookback = 5 * time.Minute
	// How far before a tile its previous sample is looked for (rules/sli.go).
	bridge = 2 * time.Minute
)

// exactSpec is one service whose availability SLO counts exactMetric: its
// failures, or with good all events less its successes.
func exactSpec(t *testing.T, interval time.Duration, good bool) *model.Service {
	t.Helper()
	s := model.Spec{Name: "exact", Version: "1.0.0", Services: []model.Service{{
		Name:               exactService,
		Selector:           map[string]string{"job": exactService},
		EvaluationInterval: model.Duration(interval),
		RunbookBaseURL:     "https://runbooks.example.com/exact",
		GrafanaURL:         "https://grafana.example.com",
		Metrics:            []model.Metric{{Name: exactMetric, Type: model.Counter, Labels: []string{"status"}}},
		SLOs: []model.SLO{{
			Name: "availability", Objective: 0.99,
			SLI: model.SLI{Events: exactSLI(good)},
			Tiers: []model.Tier{{Name: "fast", Alert: "availability-fast-burn", Severity: model.Page,
				Long: model.Duration(time.Hour), Short: model.Duration(5 * time.Minute), Factor: 14.4}},
		}},
	}}}
	s.SetDefaults()
	require.NoError(t, s.Validate())
	return &s.Services[0]
}

// target is one simulated scrape target: a process (restarted at given
// times) exposing one counter per status, each with its events' times.
type target struct {
	name   string
	jitter time.Duration
	// restarts are the times a new process starts, its counters at zero.
	restarts []int64
	// failAt: the scrapes whose grid time is in [from, to) fail.
	fail [][2]time.Duration
	// events per status label value, unix ms, sorted.
	events map[string][]int64

	samples []int64 // scrape times (after jitter), unix ms
}

// sample is one stored raw sample or staleness marker.
type sample struct {
	t     int64
	v     float64
	stale bool
}

type seriesKey struct{ target, status string }

// scenario is the whole simulated input of one case.
type scenario struct {
	targets []*target
}

// burst adds n events in [off, off+width) after every minute boundary in
// [from, to): a cron-driven client.
func burst(from, to time.Time, n int, off, width time.Duration) []int64 {
	var out []int64
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		for i := range n {
			out = append(out, m.Add(off+time.Duration(i)*width/time.Duration(n)).UnixMilli())
		}
	}
	return out
}

// poisson adds events at a constant rate per second in [from, to).
func poisson(r *rand.Rand, from, to time.Time, rate float64) []int64 {
	var out []int64
	for t := float64(from.UnixMilli()); ; {
		t += r.ExpFloat64() / rate * 1000
		if t >= float64(to.UnixMilli()) {
			return out
		}
		out = append(out, int64(t))
	}
}

// at is a time relative to the epoch.
func at(d time.Duration) time.Time { return epoch.Add(d) }

// process is the start of the process running at t (restart < t), or math.MinInt64.
func (tg *target) process(t int64) int64 {
	start := int64(math.MinInt64)
	for _, r := range tg.restarts {
		if r < t {
			start = r
		}
	}
	return start
}

func (tg *target) failed(grid time.Time) bool {
	for _, f := range tg.fail {
		if !grid.Before(at(f[0])) && grid.Before(at(f[1])) {
			return true
		}
	}
	return false
}

// value is the counter of status at t: the events of t's process up to t.
func (tg *target) value(status string, t int64) float64 {
	ev := tg.events[status]
	start := tg.process(t)
	hi := sort.Search(len(ev), func(i int) bool { return ev[i] > t })
	lo := sort.Search(len(ev), func(i int) bool { return ev[i] > start })
	if hi < lo {
		return 0
	}
	return float64(hi - lo)
}

// lastSampleAtOrBefore returns the last scrape time <= t.
func (tg *target) lastSampleAtOrBefore(t time.Time) int64 {
	i := sort.Search(len(tg.samples), func(i int) bool { return tg.samples[i] > t.UnixMilli() })
	return tg.samples[i-1]
}

// jitterGrid fixes the target's scrape times: a grid from `from` every
// scrape, each moved by up to ±jitter.
func (tg *target) jitterGrid(r *rand.Rand, from, to time.Time, scrape time.Duration) []time.Time {
	var grid []time.Time
	for g := from; !g.After(to); g = g.Add(scrape) {
		j := time.Duration(0)
		if tg.jitter > 0 {
			j = time.Duration(r.Int64N(int64(2*tg.jitter))) - tg.jitter
		}
		grid = append(grid, g)
		tg.samples = append(tg.samples, g.Add(j).UnixMilli())
	}
	return grid
}

// scrapeAll writes what a Prometheus scraping every target would store: a
// sample per existing series per successful scrape (a series exists once
// its process has counted an event), and staleness markers for the series
// of the last successful scrape when a scrape fails or a series is gone.
func scrapeAll(targets []*target, grids map[string][]time.Time) map[seriesKey][]sample {
	out := map[seriesKey][]sample{}
	for _, tg := range targets {
		var statuses []string
		for s := range tg.events {
			statuses = append(statuses, s)
		}
		sort.Strings(statuses)
		live := map[string]bool{}
		for i, ts := range tg.samples {
			if tg.failed(grids[tg.name][i]) {
				for _, s := range statuses {
					if live[s] {
						out[seriesKey{tg.name, s}] = append(out[seriesKey{tg.name, s}], sample{t: ts, stale: true})
					}
				}
				live = map[string]bool{}
				continue
			}
			for _, s := range statuses {
				k := seriesKey{tg.name, s}
				if v := tg.value(s, ts); v > 0 {
					out[k] = append(out[k], sample{t: ts, v: v})
					live[s] = true
				} else if live[s] {
					out[k] = append(out[k], sample{t: ts, stale: true})
					live[s] = false
				}
			}
		}
	}
	return out
}

func seriesLabels(k seriesKey) labels.Labels {
	return labels.FromStrings("__name__", exactMetric, "job", exactService, "instance", k.target, "status", k.status)
}

func isBad(status string) bool { return strings.HasPrefix(status, "5") }

// counts is bad and total events.
type counts struct{ bad, total float64 }

func (c *counts) add(status string, n float64) {
	c.total += n
	if isBad(status) {
		c.bad += n
	}
}

// observed returns, per series, the time of the observing sample of each
// event (the first successful sample of the same process at or after it),
// and the events no sample shows.
func observed(tg *target, stored map[seriesKey][]sample) (obs map[string][]int64, unobservable counts) {
	obs = map[string][]int64{}
	for status, evs := range tg.events {
		var good []int64
		for _, s := range stored[seriesKey{tg.name, status}] {
			if !s.stale {
				good = append(good, s.t)
			}
		}
		for _, e := range evs {
			i := sort.Search(len(good), func(i int) bool { return good[i] >= e })
			if i < len(good) && tg.process(good[i]) == tg.process(e) {
				obs[status] = append(obs[status], good[i])
			} else {
				unobservable.add(status, 1)
			}
		}
	}
	return obs, unobservable
}

// exactIn counts the events whose observing sample is in (from, to].
func exactIn(obs map[seriesKey][]int64, from, to time.Time) counts {
	var c counts
	for k, ts := range obs {
		lo := sort.Search(len(ts), func(i int) bool { return ts[i] > from.UnixMilli() })
		hi := sort.Search(len(ts), func(i int) bool { return ts[i] > to.UnixMilli() })
		c.add(k.status, float64(hi-lo))
	}
	return c
}

// modelTile is the reference model of one series' tile at t, written from
// the expression in rules/sli.go: the latest sample in the tile minus the
// latest sample in the bridge before it (range selectors skip staleness
// markers) when that is not negative; else, when the instant values now and
// at the previous evaluation both exist and went down, the value now.
func modelTile(ss []sample, t time.Time, interval time.Duration) float64 {
	latest := func(from, to int64, skipStale bool) (sample, bool) {
		for i := len(ss) - 1; i >= 0; i-- {
			s := ss[i]
			if s.t > to || (skipStale && s.stale) {
				continue
			}
			if s.t <= from {
				break
			}
			return s, true
		}
		return sample{}, false
	}
	instant := func(at int64) (sample, bool) {
		s, ok := latest(at-lookback.Milliseconds(), at, false)
		return s, ok && !s.stale
	}
	now, prevAt := t.UnixMilli(), t.UnixMilli()-interval.Milliseconds()
	cur, okCur := latest(prevAt, now, true)
	prev, okPrev := latest(prevAt-bridge.Milliseconds(), prevAt, true)
	if okCur && okPrev && cur.v >= prev.v {
		return cur.v - prev.v
	}
	x, okX := instant(now)
	before, okBefore := instant(prevAt)
	if okX && okBefore && x.v < before.v {
		return x.v
	}
	return 0
}

// modelIn sums the model's tiles of the evaluations in (from, to].
func modelIn(stored map[seriesKey][]sample, start, from, to time.Time, interval time.Duration) counts {
	var c counts
	for t := start; !t.After(to); t = t.Add(interval) {
		if !t.After(from) {
			continue
		}
		for k, ss := range stored {
			c.add(k.status, modelTile(ss, t, interval))
		}
	}
	return c
}

// relDiff is |a-b| relative to b (absolute when b is 0).
func relDiff(a, b float64) float64 {
	if b == 0 {
		return math.Abs(a)
	}
	return math.Abs(a-b) / math.Abs(b)
}

// exactScenarios are the inputs, each built for an evaluation interval and a
// scrape interval. Scrapes start 10m before the first evaluation (epoch)
// and events run until the end.
func exactScenarios(interval, scrape time.Duration) map[string]func(r *rand.Rand, grids map[string][]time.Time, end time.Time) scenario {
	begin := at(-10 * time.Minute)
	mk := func(r *rand.Rand, grids map[string][]time.Time, end time.Time, tg *target) *target {
		// Scrapes go on a minute past the end, so every event is scraped
		// unless a restart loses it.
		grids[tg.name] = tg.jitterGrid(r, begin, end.Add(time.Minute), scrape)
		return tg
	}
	return map[string]func(*rand.Rand, map[string][]time.Time, time.Time) scenario{
		// A cron-driven client: every event in the first 3 seconds of each
		// minute, scraped on the minute: increase() over a 1m tile sees two
		// equal samples and counts nothing.
		"minute-aligned bursts": func(r *rand.Rand, grids map[string][]time.Time, end time.Time) scenario {
			tg := mk(r, grids, end, &target{name: "cron", events: map[string][]int64{
				"200": burst(begin, end, 1188, 200*time.Millisecond, 2600*time.Millisecond),
				"500": burst(begin, end, 12, 300*time.Millisecond, 2400*time.Millisecond),
			}})
			return scenario{targets: []*target{tg}}
		},
		// Jittered scrapes, the first 5xx an hour in (a new series), and a
		// process restart just after a scrape that closes a tile: the 5xx
		// series vanishes with the old process and comes back later.
		"jitter, a first 5xx, a restart right after a tile's last scrape": func(r *rand.Rand, grids map[string][]time.Time, end time.Time) scenario {
			tg := &target{name: "jitter", jitter: 3 * time.Second, events: map[string][]int64{
				"200": poisson(r, begin, end, 4),
				"500": append(poisson(r, at(25*time.Minute), at(70*time.Minute), 0.2), poisson(r, at(80*time.Minute), end, 0.05)...),
			}}
			mk(r, grids, end, tg)
			tg.restarts = []int64{tg.lastSampleAtOrBefore(at(70*time.Minute)) + 500}
			return scenario{targets: []*target{tg}}
		},
		// Failed scrapes: Prometheus writes staleness markers for every
		// series of the target, and the series are back one scrape later.
		// The first fails mid-tile (15s scrapes); the second is the last
		// scrape before an evaluation, so the markers are what that
		// evaluation sees.
		"failed scrapes": func(r *rand.Rand, grids map[string][]time.Time, end time.Time) scenario {
			tg := mk(r, grids, end, &target{name: "flaky", jitter: 3 * time.Second,
				events: map[string][]int64{
					"200": poisson(r, begin, end, 4),
					"500": poisson(r, begin, end, 0.1),
				}})
			last := tg.lastSampleAtOrBefore(at(50 * time.Minute))
			lastGrid := grids[tg.name][slices.Index(tg.samples, last)].Sub(epoch)
			tg.fail = [][2]time.Duration{{40*time.Minute + 30*time.Second, 40*time.Minute + 31*time.Second}, {lastGrid, lastGrid + time.Millisecond}}
			return scenario{targets: []*target{tg}}
		},
		// A target gone for 7 minutes (staleness markers), restarted
		// meanwhile: it comes back with new counters.
		"a target gone and back after a restart": func(r *rand.Rand, grids map[string][]time.Time, end time.Time) scenario {
			tg := &target{name: "gone", jitter: 3 * time.Second,
				fail: [][2]time.Duration{{85*time.Minute + 20*time.Second, 92 * time.Minute}},
				events: map[string][]int64{
					"200": poisson(r, begin, end, 4),
					"500": poisson(r, begin, end, 0.1),
				}}
			mk(r, grids, end, tg)
			tg.restarts = []int64{at(88 * time.Minute).UnixMilli()}
			return scenario{targets: []*target{tg}}
		},
		// A restart after a scrape inside a tile: the tile sees only its
		// endpoints, the old process' last sample is in neither.
		"a restart after a scrape inside the tile": func(r *rand.Rand, grids map[string][]time.Time, end time.Time) scenario {
			tg := &target{name: "restart", jitter: 3 * time.Second, events: map[string][]int64{
				"200": poisson(r, begin, end, 4),
				"500": poisson(r, begin, end, 0.1),
			}}
			mk(r, grids, end, tg)
			tg.restarts = []int64{tg.lastSampleAtOrBefore(at(50*time.Minute+40*time.Second)) + 500}
			return scenario{targets: []*target{tg}}
		},
		// A quiet 5xx counter that restarts and, before the next scrape,
		// counts more than before the restart: the tile sees no decrease.
		"a restart the counter recovers from before the next scrape": func(r *rand.Rand, grids map[string][]time.Time, end time.Time) scenario {
			tg := &target{name: "recover", jitter: 3 * time.Second, events: map[string][]int64{
				"200": poisson(r, begin, end, 4),
			}}
			mk(r, grids, end, tg)
			restart := tg.lastSampleAtOrBefore(at(60*time.Minute)) + 500
			tg.restarts = []int64{restart}
			var bad []int64
			for _, d := range []time.Duration{10 * time.Minute, 20 * time.Minute, 30 * time.Minute} {
				bad = append(bad, at(d).UnixMilli())
			}
			for i := range 5 {
				bad = append(bad, restart+int64(100*(i+1)))
			}
			tg.events["500"] = bad
			return scenario{targets: []*target{tg}}
		},
	}
}

// TestEventTilesAreExact replays every scenario for evaluation intervals of
// 1m and 10s and scrapes of 15s and 30s, and compares the 1h sums of the
// tiles (every 5m over the second hour) and the period SLI with the exact
// counts and with the reference model.
func TestEventTilesAreExact(t *testing.T) {
	for _, interval := range []time.Duration{time.Minute, 10 * time.Second} {
		for _, scrape := range []time.Duration{15 * time.Second, 30 * time.Second} {
			for name, build := range exactScenarios(interval, scrape) {
				t.Run(fmt.Sprintf("%s/eval %s/scrape %s", name, model.Duration(interval), model.Duration(scrape)), func(t *testing.T) {
					t.Parallel()
					checkExact(t, interval, scrape, build, false)
				})
			}
		}
	}
}

// exactSLI picks the failures, or the successes (the bad events are then
// all events less the good ones).
func exactSLI(good bool) *model.EventRatio {
	if good {
		return &model.EventRatio{Metric: exactMetric, Good: `status!~"5.."`}
	}
	return &model.EventRatio{Metric: exactMetric, Bad: `status=~"5.."`}
}

// TestEventTilesOfAllLessGoodAreExact replays every scenario with an SLI
// that names its successes: all events less the good ones count the
// failures exactly as their own selector does, restarts, gaps and failed
// scrapes included, since each series' tile is the same in both sums.
func TestEventTilesOfAllLessGoodAreExact(t *testing.T) {
	interval, scrape := time.Minute, 15*time.Second
	for name, build := range exactScenarios(interval, scrape) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkExact(t, interval, scrape, build, true)
		})
	}
}

func checkExact(t *testing.T, interval, scrape time.Duration, build func(*rand.Rand, map[string][]time.Time, time.Time) scenario, good bool) {
	ctx := context.Background()
	end := at(2 * time.Hour)
	grids := map[string][]time.Time{}
	sc := build(rand.New(rand.NewPCG(1, uint64(interval+scrape))), grids, end)
	stored := scrapeAll(sc.targets, grids)

	svc := exactSpec(t, interval, good)
	groups, err := rules.Build(svc, "1.0.0")
	require.NoError(t, err)
	ev, err := evaluator.New(groups.Groups...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ev.Close() })
	app := ev.Storage().Appender(ctx)
	for k, ss := range stored {
		for _, s := range ss {
			v := s.v
			if s.stale {
				v = math.Float64frombits(value.StaleNaN)
			}
			_, err := app.Append(0, seriesLabels(k), s.t, v)
			require.NoError(t, err)
		}
	}
	require.NoError(t, app.Commit())
	require.NoError(t, ev.Evaluate(ctx, epoch, end))

	obs := map[seriesKey][]int64{}
	var lost, all counts
	for _, tg := range sc.targets {
		o, u := observed(tg, stored)
		for s, ts := range o {
			obs[seriesKey{tg.name, s}] = ts
		}
		lost.bad += u.bad
		lost.total += u.total
		for s, evs := range tg.events {
			all.add(s, float64(len(evs)))
		}
	}
	require.Equal(t, beforeRestarts(sc.targets, grids), lost,
		"the unobservable events must be exactly those between a process' last successful scrape and its restart")
	if lost.total > 0 {
		t.Logf("%g of %g events (%g bad) happened after a process' last scrape and before its restart: no sample shows them", lost.total, all.total, lost.bad)
	}

	sel := fmt.Sprintf(`{service=%q,slo="availability"}`, exactService)
	tile := model.Duration(interval)
	byName := map[string]*target{}
	for _, tg := range sc.targets {
		byName[tg.name] = tg
	}
	causes := map[string]counts{}
	// lossIn is what the documented rules of the tiles lose over the
	// evaluations in (from, to], by cause.
	lossIn := func(from, to time.Time, record bool) counts {
		var c counts
		for e := epoch; !e.After(to); e = e.Add(interval) {
			if !e.After(from) {
				continue
			}
			for k, ss := range stored {
				n, cause := documentedLoss(byName[k.target], obs[k], ss, e, interval)
				c.add(k.status, n)
				if record && n != 0 {
					cc := causes[cause]
					cc.add(k.status, n)
					causes[cause] = cc
				}
			}
		}
		return c
	}
	var worst, oldCounted, exactTotal float64
	for w := at(time.Hour); !w.After(end); w = w.Add(5 * time.Minute) {
		exact := exactIn(obs, w.Add(-time.Hour), w)
		ref := modelIn(stored, epoch, w.Add(-time.Hour), w, interval)
		got := counts{
			bad:   queryOne(t, ev, ctx, fmt.Sprintf(`sum_over_time(%s%s[1h])`, model.BadEventsRecord(tile), sel), w),
			total: queryOne(t, ev, ctx, fmt.Sprintf(`sum_over_time(%s%s[1h])`, model.TotalEventsRecord(tile), sel), w),
		}
		require.Equal(t, ref, got, "at %s the engine disagrees with the reference model of the tiles", w.Sub(epoch))
		loss := lossIn(w.Add(-time.Hour), w, false)
		require.Equal(t, counts{bad: exact.bad - loss.bad, total: exact.total - loss.total}, got,
			"1h to %s: the tiles must count every observed event but those the documented rules lose (%v)", w.Sub(epoch), loss)
		worst = math.Max(worst, math.Max(relDiff(got.total, exact.total), relDiff(got.bad, exact.bad)))
		if w.Equal(at(time.Hour)) {
			// increase() over each tile, as the tiles were written before.
			m, err := ev.QueryRange(ctx, fmt.Sprintf(`sum(increase(%s{job=%q}[%s]))`, exactMetric, exactService, tile), w.Add(-time.Hour+interval), w, interval)
			require.NoError(t, err)
			for _, s := range m {
				for _, p := range s.Floats {
					oldCounted += p.F
				}
			}
			exactTotal = exact.total
		}
	}

	// The period SLI at the end covers every tile since the first evaluation.
	exact := exactIn(obs, epoch.Add(-interval), end)
	ref := modelIn(stored, epoch, epoch.Add(-interval), end, interval)
	period := model.DefaultPeriod
	got := counts{
		bad:   queryOne(t, ev, ctx, fmt.Sprintf(`sum_over_time(%s%s[%s])`, model.BadEventsRecord(model.PeriodTile), sel, period), end),
		total: queryOne(t, ev, ctx, fmt.Sprintf(`sum_over_time(%s%s[%s])`, model.TotalEventsRecord(model.PeriodTile), sel, period), end),
	}
	require.Equal(t, ref, got, "the period's 4m tiles disagree with the reference model")
	loss := lossIn(epoch.Add(-interval), end, true)
	require.Equal(t, counts{bad: exact.bad - loss.bad, total: exact.total - loss.total}, got, "over the period")
	sli := queryOne(t, ev, ctx, fmt.Sprintf(`%s%s`, model.ErrorRatioRecord(period), sel), end)
	want := (exact.bad - loss.bad) / (exact.total - loss.total)
	require.InDelta(t, 0, relDiff(sli, want), 1e-12, "the %s SLI is the ratio of the counted events", period)
	t.Logf("1h windows: worst relative error %.3g; %s SLI %.12f, exact %.12f (relative error %.3g); "+
		"increase() tiles counted %g of %g events in the first hour (%.1f%%)",
		worst, period, sli, exact.bad/exact.total, relDiff(sli, exact.bad/exact.total), oldCounted, exactTotal, 100*oldCounted/exactTotal)
	for _, cause := range slices.Sorted(maps.Keys(causes)) {
		t.Logf("lost by rule, %s: %g events (%g bad)", cause, causes[cause].total, causes[cause].bad)
	}
}

// The causes of lost events, as the README states them.
const (
	lostBaseline = "a series' first tile after no sample for the bridge (new series, or back after a long gap) is its baseline"
	lostRestart  = "a restart inside a tile: the tile counts the new process' value, not what the old one counted in the tile"
	lostUnseen   = "a restart the counter grew past its old value before the next sample: no sample shows the decrease"
	lostStale    = "a restart inside a tile whose instant values are stale: the tile counts nothing"
)

// documentedLoss is what the tile of series ss at t loses, by the rules
// the README states, given the observing-sample times of the series'
// events (obs) and the target's processes.
func documentedLoss(tg *target, obs []int64, ss []sample, t time.Time, interval time.Duration) (float64, string) {
	latest := func(from, to int64, skipStale bool) (sample, bool) {
		for i := len(ss) - 1; i >= 0; i-- {
			if s := ss[i]; s.t <= to && !(skipStale && s.stale) {
				return s, s.t > from
			}
		}
		return sample{}, false
	}
	now, prevAt := t.UnixMilli(), t.UnixMilli()-interval.Milliseconds()
	cur, ok := latest(prevAt, now, true)
	if !ok {
		return 0, "" // no event is observed in a tile without samples
	}
	lo := sort.Search(len(obs), func(i int) bool { return obs[i] > prevAt })
	hi := sort.Search(len(obs), func(i int) bool { return obs[i] > now })
	observed := float64(hi - lo)
	prev, ok := latest(prevAt-bridge.Milliseconds(), prevAt, true)
	switch {
	case !ok:
		return observed, lostBaseline
	case tg.process(cur.t) == tg.process(prev.t):
		return 0, ""
	case cur.v >= prev.v:
		return observed - (cur.v - prev.v), lostUnseen
	}
	x, okX := latest(now-lookback.Milliseconds(), now, false)
	before, okB := latest(prevAt-lookback.Milliseconds(), prevAt, false)
	if okX && okB && !x.stale && !before.stale {
		return observed - x.v, lostRestart
	}
	return observed, lostStale
}

// beforeRestarts counts, for every restart, the events of the old process
// after its last successful scrape: no sample ever shows them.
func beforeRestarts(targets []*target, grids map[string][]time.Time) counts {
	var c counts
	for _, tg := range targets {
		for _, r := range tg.restarts {
			last := int64(math.MinInt64)
			for i, s := range tg.samples {
				if s < r && !tg.failed(grids[tg.name][i]) {
					last = s
				}
			}
			for status, evs := range tg.events {
				for _, e := range evs {
					if e > last && e <= r {
						c.add(status, 1)
					}
				}
			}
		}
	}
	return c
}
