package alerttests

import (
	"fmt"
	"math"
	"time"

	"github.com/tensorwasm/obsbundle/model"
)

// This file predicts, by arithmetic on the model, what the rules of one
// SLO record at every evaluation of a scenario and when an alert fires.
// The rules (package rules) compute, at each evaluation k, one tile per
// series: the counter's increase since evaluation k-1 (its whole value at
// the first); every window is a sum of tiles; ratios divide sums. Test
// inputs hold one sample per evaluation, so a tile is the difference of
// two consecutive samples.
//
// Two evaluation regimes are predicted, and a scenario is only used when
// both agree on the alert's first firing and its value:
//   - promtool 2.42, which runs the test file: range selectors closed on
//     the left ([t-w, t]), every group evaluated at every evaluation
//     interval in file order (group_eval_order), so a fast group reads the
//     period group's results of the previous evaluation;
//   - Prometheus 3's engine as package evaluator replays the same file in
//     the tests: ranges open on the left ((t-w, t]), each rule after the
//     rules it reads at the same timestamp.

// regime is one way of evaluating the rules.
type regime struct {
	// closed: range selectors include their left end.
	closed bool
	// lag: the alerts read the period group's results one evaluation old.
	lag bool
}

var (
	promtool = regime{closed: true, lag: true}
	engine   = regime{closed: false, lag: false}
)

// condition is an alerting rule of an SLO, as arithmetic.
type condition struct {
	budget bool // a budget tier (else a ratio tier or a threshold)
	tier   bool // a ratio tier
	// long and short are the tier's windows; a threshold alert's window
	// is long.
	long, short time.Duration
	// threshold is the error ratio a ratio tier's windows must reach, or
	// a threshold alert's must exceed.
	threshold float64
	factor    float64
	budgetRat float64
	minEvents float64
	period    time.Duration
	// coarse says which windows the rules sum from the period group's 4m
	// tiles (model.Service.WindowTile) instead of the fine ones.
	coarse map[time.Duration]bool
}

// coarseWindows marks the windows of svc that read the 4m tiles.
func coarseWindows(svc *model.Service, ws ...model.Duration) map[time.Duration]bool {
	m := map[time.Duration]bool{}
	for _, w := range ws {
		m[w.Std()] = svc.WindowTile(w) == model.PeriodTile
	}
	return m
}

// coarseAny says whether any window of c reads the 4m tiles.
func (c condition) coarseAny() bool {
	for _, v := range c.coarse {
		if v {
			return true
		}
	}
	return false
}

// tierCondition is the condition of tier t of o.
func tierCondition(svc *model.Service, o model.SLO, t model.Tier) condition {
	c := condition{
		long: t.Long.Std(), short: t.Short.Std(), minEvents: parseDecimal(o.MinEvents),
		factor: parseDecimal(t.Factor), budgetRat: parseDecimal(o.BudgetRatio()), period: o.Period.Std(),
	}
	if o.Alerting != model.BudgetAlerting {
		c.coarse = coarseWindows(svc, t.Long, t.Short)
	}
	if o.Alerting == model.BudgetAlerting {
		c.budget = true
	} else {
		c.tier = true
		c.threshold = parseDecimal(t.Threshold(o.BudgetRatio()))
	}
	return c
}

// thresholdCondition is the condition of a threshold alert on an SLO's
// error ratio.
func thresholdCondition(svc *model.Service, a model.ThresholdAlert) condition {
	return condition{long: a.ErrorRatio.Window.Std(), threshold: parseDecimal(a.Above), coarse: coarseWindows(svc, a.ErrorRatio.Window)}
}

// run is a scenario's tiles and the alert's first firing in it.
type run struct {
	tiles []float64
	at    int // evaluation of the first firing
	value float64
}

// fire lays out tiles (quiet evaluations without events, then rate events
// each) and finds when the alert fires in both regimes. For budget tiers a
// tile is left empty where promtool's closed long window would otherwise
// count one tile more than Prometheus 3's at the firing, so the value both
// report (and the annotation shows) is the same.
func fire(o model.SLO, c condition, every time.Duration, rate float64, quiet int, hold time.Duration) (run, error) {
	forSteps := steps(hold, every)
	n := quiet + forSteps + 8
	tiles := make([]float64, n+3)
	for k := quiet; k < len(tiles); k++ {
		tiles[k] = rate
	}
	at, _, err := agree(c, tiles, every, forSteps, n, false)
	if err != nil {
		return run{}, err
	}
	gap := at - int(c.long/every)
	if !c.budget || gap < quiet {
		_, value, err := agree(c, tiles, every, forSteps, n, true)
		if err != nil {
			return run{}, err
		}
		return run{tiles: tiles[:at+3], at: at, value: value}, nil
	}
	withGap := append([]float64{}, tiles...)
	withGap[gap] = 0
	at2, value, err := agree(c, withGap, every, forSteps, n, true)
	if err == nil && at2 == at {
		return run{tiles: withGap[:at+3], at: at, value: value}, nil
	}
	// A budget tier held (for:) longer than its long window whose short
	// window is one evaluation needs every tile, the boundary one included:
	// no input makes both long windows count the same events. The test
	// then expects what promtool, which runs it, computes; Prometheus 3
	// would fire at the same evaluation with a slightly smaller value.
	_, value, _ = simulate(c, tiles, every, forSteps, n, promtool)
	return run{tiles: tiles[:at+3], at: at, value: value}, nil
}

// agree finds the first firing under both regimes and fails unless they
// agree on its time (and, if sameValue, its value).
func agree(c condition, tiles []float64, every time.Duration, forSteps, n int, sameValue bool) (int, float64, error) {
	a1, v1, ok1 := simulate(c, tiles, every, forSteps, n, promtool)
	a2, v2, ok2 := simulate(c, tiles, every, forSteps, n, engine)
	switch {
	case !ok1 || !ok2:
		return 0, 0, fmt.Errorf("no firing within %d evaluations (promtool %v, Prometheus 3 %v)", n, ok1, ok2)
	case c.coarseAny() && !c.budget && a2 == a1-1 && (!sameValue || v1 == v2):
		// A window of 4m tiles first holds the traffic one evaluation
		// later under promtool, which reads the period group's tile of the
		// previous evaluation; the test follows promtool, which runs it.
	case a1 != a2 || (sameValue && v1 != v2):
		return 0, 0, fmt.Errorf("promtool fires at evaluation %d with %v, Prometheus 3 at %d with %v", a1, v1, a2, v2)
	case a1 == 0:
		return 0, 0, fmt.Errorf("fires at the first evaluation, so nothing can be checked before it")
	}
	return a1, v1, nil
}

// window sums the samples of xs (one per evaluation, prefix-summed in p:
// p[i] is the sum of xs[:i]) that a range of n evaluations ending at k
// selects, and counts them.
func window(p []float64, k, n int, closed bool, last int) (sum float64, count int) {
	lo := k - n + 1
	if closed {
		lo = k - n
	}
	lo = max(lo, 0)
	hi := min(k, last)
	if hi < lo {
		return 0, 0
	}
	return p[hi+1] - p[lo], hi - lo + 1
}

// withFirst is 1 when a range of n evaluations ending at k holds
// evaluation 0, whose 4m tile the rules never record (its counters have no
// earlier sample), else 0.
func withFirst(k, n int, rg regime) int {
	lo := k - n + 1
	if rg.closed {
		lo = k - n
	}
	if lo <= 0 && k >= 0 {
		return 1
	}
	return 0
}

func prefix(xs []float64) []float64 {
	p := make([]float64, len(xs)+1)
	for i, x := range xs {
		p[i+1] = p[i] + x
	}
	return p
}

// simulate steps the alert through evaluations 0..n and returns its first
// firing and the value it carries then.
func simulate(c condition, tiles []float64, every time.Duration, forSteps, n int, rg regime) (int, float64, bool) {
	holds := conditionAt(c, tiles, every, rg)
	active := -1
	for k := 0; k <= n && k < len(tiles); k++ {
		ok, value := holds(k)
		if !ok {
			active = -1
			continue
		}
		if active < 0 {
			active = k
		}
		if k-active >= forSteps {
			return k, value, true
		}
	}
	return 0, 0, false
}

// conditionAt returns whether c holds at evaluation k of tiles, and the
// value its expression yields then.
func conditionAt(c condition, tiles []float64, every time.Duration, rg regime) func(k int) (bool, float64) {
	steps := func(w time.Duration) int { return int(w / every) }
	pt := prefix(tiles) // bad and total tiles are equal: every event is bad
	sum := windowSums(tiles, pt, every, rg)
	covered := coverage(len(tiles), every, rg)
	var allowed []float64
	var p4 []float64
	if c.budget {
		// The period group: 4m tiles summed from the fine ones, and the
		// allowance averaged over every 4m tile the period holds.
		n4 := steps(model.PeriodTile.Std())
		t4 := make([]float64, len(tiles))
		for j := range tiles {
			t4[j], _ = window(pt, j, n4, rg.closed, j)
		}
		p4 = prefix(t4)
		allowed = make([]float64, len(tiles))
		for j := range tiles {
			s, cnt := window(p4, j, steps(c.period), rg.closed, j)
			cnt -= withFirst(j, steps(c.period), rg) // evaluation 0 records no tile
			allowed[j] = c.budgetRat * s / (float64(cnt) * model.PeriodTile.Std().Seconds())
			if cnt <= 0 {
				allowed[j] = math.Inf(1) // no allowance recorded: the tier cannot fire
			}
		}
	}
	return func(k int) (bool, float64) {
		switch {
		case c.budget:
			ok, value := budgetTier(c, tiles, pt, p4, allowed, k, every, rg)
			return ok && enough(c, sum(k, c.long, false)), value
		case c.tier:
			long, okL := ratio(sum(k, c.long, c.coarse[c.long]))
			short, okS := ratio(sum(k, c.short, c.coarse[c.short]))
			return okL && okS && long >= c.threshold && short >= c.threshold && enough(c, sum(k, c.long, false)) &&
				covered(k, c.long, c.coarse[c.long]) >= c.short, long
		default:
			r, okR := ratio(sum(k, c.long, c.coarse[c.long]))
			return okR && r > c.threshold, r
		}
	}
}

// windowSums returns the events a window of width w holds at evaluation
// k, summed from the fine tiles or, when coarse, from the period group's 4m
// tiles. Both regimes evaluate every group at every evaluation (promtool
// ignores group intervals; the engine replay of the tests does the same), so
// a 4m tile is recorded at every evaluation; under promtool the fast group
// reads the one of the previous evaluation.
func windowSums(tiles, pt []float64, every time.Duration, rg regime) func(k int, w time.Duration, coarse bool) float64 {
	n4 := int(model.PeriodTile.Std() / every)
	t4 := make([]float64, len(tiles))
	for j := range tiles {
		t4[j], _ = window(pt, j, n4, rg.closed, j)
	}
	p4 := prefix(t4)
	return func(k int, w time.Duration, coarse bool) float64 {
		n := int(w / every)
		if !coarse {
			s, _ := window(pt, k, n, rg.closed, k)
			return s
		}
		last := k
		if rg.lag {
			last = k - 1
		}
		s, _ := window(p4, k, n, rg.closed, last)
		return s
	}
}

// coverage returns the time the tiles in a window of width w cover at
// evaluation k, as a ratio tier's guard counts them: the number of tiles
// recorded in it times their width. Evaluation 0 records no tile (the
// counters have no earlier sample); a 4m tile exists from evaluation 1 too,
// and under promtool the fast group reads the one of the previous
// evaluation (see windowSums).
func coverage(n int, every time.Duration, rg regime) func(k int, w time.Duration, coarse bool) time.Duration {
	recorded := make([]float64, n)
	for j := 1; j < n; j++ {
		recorded[j] = 1
	}
	p := prefix(recorded)
	return func(k int, w time.Duration, coarse bool) time.Duration {
		last, width := k, every
		if coarse {
			width = model.PeriodTile.Std()
			if rg.lag {
				last = k - 1
			}
		}
		c, _ := window(p, k, int(w/every), rg.closed, last)
		return time.Duration(c) * width
	}
}

// ratio is an error-ratio window of total events: no sample without
// traffic, and every event is bad.
func ratio(total float64) (float64, bool) {
	if !(total > 0) {
		return 0, false
	}
	bad := total
	return bad / total, true
}

// enough is the minEvents guard: the long window saw that many events.
func enough(c condition, long float64) bool {
	return c.minEvents <= 0 || long >= c.minEvents
}

// budgetTier is a budget tier at evaluation k: bad events per second over
// both windows above factor x the allowance, history as long as the long
// window, and the minEvents guard.
func budgetTier(c condition, tiles, pt, p4, allowed []float64, k int, every time.Duration, rg regime) (bool, float64) {
	steps := func(w time.Duration) int { return int(w / every) }
	bad := func(w time.Duration) float64 {
		if w == every {
			return tiles[k] // the tile itself, not a window of it
		}
		s, _ := window(pt, k, steps(w), rg.closed, k)
		return s
	}
	j := k
	if rg.lag {
		j = k - 1
	}
	if j < 0 {
		return false, 0
	}
	_, count := window(p4, k, steps(c.period), rg.closed, j)
	count -= withFirst(k, steps(c.period), rg) // evaluation 0 records no tile (see coverage)
	longV := bad(c.long) / c.long.Seconds()
	shortV := bad(c.short) / c.short.Seconds()
	limit := c.factor * allowed[j]
	ok := longV > limit && shortV > limit &&
		float64(count)*model.PeriodTile.Std().Seconds() >= c.long.Seconds()
	return ok, longV
}
