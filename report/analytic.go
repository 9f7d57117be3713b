// Package report answers, for every alert tier, the on-call engineer's
// question: which failures does it catch, how fast, at what cost in budget,
// and how soon does it reset. Times come from the alerting math and are
// checked against the bundle's own rules replayed by Prometheus' engine.
package report

import (
	"math"
	"time"

	"github.com/tensorwasm/obsbundle/model"
)

// Ratios are the constant error ratios the report covers, from a full
// outage to a burn far below 1.
var Ratios = []float64{1, 0.33, 0.1, 0.01, 0.002, 0.001, 0.00005}

// Cell is one tier facing one constant error ratio.
type Cell struct {
	SLO   model.SLO
	Tier  model.Tier
	Ratio float64
	// Caught says whether the tier ever fires; Detect is the time from the
	// start of the errors to firing, Reset from their end to resolution.
	Caught        bool
	Detect, Reset time.Duration
	// BudgetSpent is the fraction of the period's budget gone at firing.
	BudgetSpent float64
	// HeldBy names the slower page tier that fired first and holds the
	// incident, so this one never fires at this ratio.
	HeldBy string
	// Simulated holds the replay's answer, when one was run.
	Simulated *Outcome
}

// Outcome is what a replay of the rules observed.
type Outcome struct {
	Caught        bool
	Detect, Reset time.Duration
}

// Analyze computes every tier of every SLO of svc against every ratio, for
// constant traffic after a clean history at least as long as the tier's
// long window. A window W holds a ratio E x t / W after t of errors, so it
// reaches the threshold at t = threshold x W / E, or never if E is below the
// threshold; the tier fires once both windows have, plus its `for`. After
// the errors stop, the short window falls back under the threshold first,
// after short x (1 - threshold / E).
func Analyze(svc *model.Service) []Cell {
	var cells []Cell
	for _, o := range svc.SLOs {
		first := len(cells)
		for _, t := range o.Tiers {
			for _, e := range Ratios {
				cells = append(cells, analyze(o, t, e))
			}
		}
		for _, e := range Ratios {
			hold(cells[first:], e)
		}
	}
	return cells
}

// hold applies the incident an SLO's page tiers share (package rules) to
// its cells at ratio e: a page tier does not fire while a slower page tier
// that fired first holds the incident, and the page tier that fires stays
// until every page tier's condition has cleared.
func hold(cells []Cell, e float64) {
	var page []*Cell
	var last time.Duration
	for i := range cells {
		c := &cells[i]
		if c.Ratio == e && c.Tier.Severity == model.Page && c.Caught {
			page = append(page, c)
			last = max(last, c.Reset)
		}
	}
	for _, c := range page {
		for _, s := range page {
			if s.Tier.Factor < c.Tier.Factor && s.Detect < c.Detect {
				c.HeldBy = s.Tier.Name
			}
		}
	}
	for _, c := range page {
		if c.HeldBy != "" {
			c.Caught, c.Detect, c.Reset, c.BudgetSpent = false, 0, 0, 0
			continue
		}
		c.Reset = last
	}
}

func analyze(o model.SLO, t model.Tier, e float64) Cell {
	c := Cell{SLO: o, Tier: t, Ratio: e}
	theta := Threshold(o, t)
	if e < theta || (o.Alerting == model.BudgetAlerting && e == theta) {
		return c
	}
	c.Caught = true
	detect := reach(theta, t.Long, e) + t.For.Std().Seconds()
	c.Detect = seconds(detect)
	c.Reset = seconds(t.Short.Std().Seconds() * (1 - theta/e))
	c.BudgetSpent = e * detect / (o.BudgetRatio() * o.Period.Std().Seconds())
	return c
}

// Threshold is the constant error ratio tier t of o must reach to fire
// (exceed, for a budget tier), on constant traffic. A ratio tier's is
// factor x budget ratio. A budget tier compares bad events per second with
// factor x the allowance, the budget ratio times the event rate, and also
// wants each window's error ratio above the budget ratio (package rules):
// on constant traffic that is max(factor, 1) x budget ratio, so a tier of a
// factor below 1 fires at the budget ratio, not below it.
func Threshold(o model.SLO, t model.Tier) float64 {
	if o.Alerting == model.BudgetAlerting && t.Factor < 1 {
		return o.BudgetRatio()
	}
	return t.Threshold(o.BudgetRatio())
}

// reach is when, in seconds, a window of width w first holds the threshold.
func reach(theta float64, w model.Duration, e float64) float64 {
	return theta * w.Std().Seconds() / e
}

func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s)) * time.Second
}

// Burn is the ratio as a multiple of the SLO's budget.
func (c Cell) Burn() float64 { return c.Ratio / c.SLO.BudgetRatio() }

// Agrees says whether the replay matches the analysis on svc's rules: the
// same verdict, and times within one tile of the tier's windows or 10%,
// whichever is larger. The analysis treats windows as sliding continuously;
// the rules move them a tile at a time, and a window of 6h or more by a
// coarse tile (model.Service.WindowTile).
func (c Cell) Agrees(svc *model.Service) bool {
	interval := max(svc.WindowTile(c.Tier.Long), svc.WindowTile(c.Tier.Short)).Std()
	s := c.Simulated
	if s == nil || s.Caught != c.Caught {
		return false
	}
	if !c.Caught {
		return true
	}
	near := func(a, b time.Duration) bool {
		d := a - b
		if d < 0 {
			d = -d
		}
		return d <= max(interval, time.Duration(0.1*float64(b)))
	}
	return near(s.Detect, c.Detect) && near(s.Reset, c.Reset)
}
