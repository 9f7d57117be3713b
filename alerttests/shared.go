package alerttests

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/model"
)

// Tiers may share an alert name (model.Tier.AlertName), within an SLO and
// across SLOs. promtool checks every alert of the tested name at an
// evaluation, so a scenario whose other tiers of that name fire too must
// expect them. This file predicts them by replaying each SLO's tiers over
// what its SLI counts of the scenario, as the rules do, incident included
// (package rules): a page tier does not start while a slower page tier
// fires, nor, when it cools, within its short window after the incident
// ended; once firing it holds while any page tier's condition holds or a
// slower page tier fires. Tiers evaluate fastest first, each seeing the
// alerts of the tiers before it at this evaluation and of the others as of
// the previous one.

// tierTrace is one tier's replay: whether it fires at each evaluation, and
// the value it shows.
type tierTrace struct {
	firing []bool
	value  []float64
}

// replayTiers replays o's tiers over tiles for evaluations 0..n under rg.
func replayTiers(svc *model.Service, o model.SLO, tiles []float64, every time.Duration, n int, rg regime) map[string]tierTrace {
	tiers := append([]model.Tier{}, o.Tiers...)
	sort.SliceStable(tiers, func(i, j int) bool { return tiers[i].Factor > tiers[j].Factor })
	holds := make([]func(int) (bool, float64), len(tiers))
	traces := make([]tierTrace, len(tiers))
	since := make([]int, len(tiers)) // evaluation it became active, or -1
	for i, t := range tiers {
		holds[i] = conditionAt(tierCondition(svc, o, t), tiles, every, rg)
		traces[i] = tierTrace{firing: make([]bool, n+1), value: make([]float64, n+1)}
		since[i] = -1
	}
	page := func(i int) bool { return tiers[i].Severity == model.Page }
	for k := 0; k <= n && k < len(tiles); k++ {
		conds := make([]bool, len(tiers))
		values := make([]float64, len(tiers))
		open := false
		for i := range tiers {
			conds[i], values[i] = holds[i](k)
			open = open || (page(i) && conds[i])
		}
		// seen is whether tier u fires as of evaluation j, seen by tier i at k.
		seen := func(i, u, j int) bool {
			if j == k && u >= i {
				j-- // not evaluated yet at k
			}
			return j >= 0 && traces[u].firing[j]
		}
		for i, t := range tiers {
			expr := conds[i]
			if page(i) {
				excluded, slowerFires, anyFires := false, false, false
				for u := range tiers {
					if !page(u) {
						continue
					}
					anyFires = anyFires || seen(i, u, k)
					if tiers[u].Factor < t.Factor && seen(i, u, k) {
						excluded, slowerFires = true, true
					}
				}
				if o.Cools(t) && !anyFires && firedWithin(tiers, traces, seen, i, k, int(t.Short.Std()/every), rg) {
					excluded = true
				}
				expr = (conds[i] && !excluded) || (seen(i, i, k) && (open || slowerFires))
			}
			switch {
			case !expr:
				since[i] = -1
			case since[i] < 0:
				since[i] = k
			}
			traces[i].firing[k] = since[i] >= 0 && k-since[i] >= steps(t.For.Std(), every)
			traces[i].value[k] = values[i]
		}
	}
	out := map[string]tierTrace{}
	for i, t := range tiers {
		out[t.Name] = traces[i]
	}
	return out
}

// firedWithin says whether a page tier fired within the range of w
// evaluations that max_over_time reads at k, as tier i sees it.
func firedWithin(tiers []model.Tier, traces []tierTrace, seen func(i, u, j int) bool, i, k, w int, rg regime) bool {
	lo := k - w + 1
	if rg.closed {
		lo = k - w
	}
	for u := range tiers {
		if tiers[u].Severity != model.Page {
			continue
		}
		for j := max(lo, 0); j <= k; j++ {
			if seen(i, u, j) {
				return true
			}
		}
	}
	return false
}

// namesakes returns the alerts the other tiers named like tier t of o
// raise in t's scenario run, whose input is parts, at its firing and one
// evaluation before: o's own, and those of other SLOs whose SLI sees the
// input (seen).
func (p *planner) namesakes(o model.SLO, t model.Tier, run run, parts []part) (at, before []expAlert, err error) {
	every := p.svc.EvaluationInterval.Std()
	own := replayTiers(p.svc, o, run.tiles, every, run.at, promtool)[t.Name].firing
	if !own[run.at] || own[run.at-1] {
		return nil, nil, fmt.Errorf("the incident replay does not fire tier %s first at evaluation %d", t.Name, run.at)
	}
	for _, o2 := range p.svc.SLOs {
		scale := 1.0
		if o2.Name != o.Name {
			if !slices.ContainsFunc(o2.Tiers, func(u model.Tier) bool { return u.RuleName() == t.RuleName() }) {
				continue
			}
			n, err := p.seen(o2, parts)
			if err != nil {
				return nil, nil, fmt.Errorf("SLO %s, whose tiers are named like %s too: %w", o2.Name, t.RuleName(), err)
			}
			if n == 0 {
				continue
			}
			scale = n
		}
		tiles := make([]float64, len(run.tiles))
		for i, v := range run.tiles {
			tiles[i] = v * scale
		}
		trace := replayTiers(p.svc, o2, tiles, every, run.at, promtool)
		for _, other := range o2.Tiers {
			if other.RuleName() != t.RuleName() || (o2.Name == o.Name && other.Name == t.Name) {
				continue
			}
			a, b, err := p.expected(o2, other, trace[other.Name], run.at)
			if err != nil {
				return nil, nil, err
			}
			at, before = append(at, a...), append(before, b...)
		}
	}
	return at, before, nil
}

// expected is what tier t of o shows at evaluations at-1 and at of its
// promtool replay: the file expects what promtool, which runs it,
// computes. (Prometheus 3 may differ by a tile at a window's boundary, in
// a budget tier's value or a 4m tile's lag; for the tested alert itself
// the scenario is chosen where both agree, see fire.)
func (p *planner) expected(o model.SLO, t model.Tier, trace tierTrace, at int) (now, before []expAlert, err error) {
	r, ok := p.tierRule(o, t)
	if !ok {
		return nil, nil, fmt.Errorf("no rule for tier %s of %s", t.Name, o.Name)
	}
	for _, k := range []int{at - 1, at} {
		if !trace.firing[k] {
			continue
		}
		exp, err := p.expAlert(r, labelsOf(r), sloResult(r), trace.value[k])
		if err != nil {
			return nil, nil, err
		}
		if k == at {
			now = append(now, exp)
		} else {
			before = append(before, exp)
		}
	}
	return now, before, nil
}

// seen says how SLO o2 counts a scenario's input parts, whose events the
// tested SLO counts all as bad: 0 when it counts no bad event (no series
// of it, all good, or none of its threshold bucket), or n when it counts n
// times the scenario's events, all bad. Anything between cannot be
// predicted by the arithmetic and is an error.
func (p *planner) seen(o2 model.SLO, parts []part) (float64, error) {
	count := func(sel string, flat bool) (int, error) {
		n := 0
		for _, pt := range parts {
			m, err := matchesAll(pt.series, sel)
			if err != nil {
				return 0, err
			}
			if m && pt.flat == flat {
				n++
			}
		}
		return n, nil
	}
	var all, bad int
	var err error
	switch l := o2.SLI.Latency; {
	case o2.SLI.Events != nil && o2.SLI.Events.CountsGood():
		total, _ := p.svc.EventSelectors(o2.SLI.Events)
		if all, err = count(total, false); err != nil {
			return 0, err
		}
		var good int
		good, err = count(p.svc.GoodSelector(o2.SLI.Events), false)
		bad = all - good
	case o2.SLI.Events != nil:
		total, failed := p.svc.EventSelectors(o2.SLI.Events)
		if all, err = count(total, false); err != nil {
			return 0, err
		}
		bad, err = count(failed, false)
	case l.Native:
		for _, pt := range parts {
			if m, err := matchesAll(pt.series, p.svc.NativeHistogramSelector(l)); err != nil || m {
				return 0, fmt.Errorf("it reads the scenario's native histogram")
			}
		}
	default:
		countSel, fastSel := p.svc.HistogramSelectors(l)
		if all, err = count(countSel, false); err != nil {
			return 0, err
		}
		var fast, fastFlat int
		if fast, err = count(fastSel, false); err != nil {
			return 0, err
		}
		if fastFlat, err = count(fastSel, true); err != nil {
			return 0, err
		}
		if fast+fastFlat == 0 {
			return 0, nil // no bad events without its bucket (rules.eventTiles)
		}
		bad = all - fast
	}
	switch {
	case err != nil:
		return 0, err
	case all == 0 || bad == 0:
		return 0, nil
	case bad != all:
		return 0, fmt.Errorf("it counts %d of the scenario's %d event series as bad", bad, all)
	}
	return float64(all), nil
}

// tierRule is the alerting rule of tier t of o.
func (p *planner) tierRule(o model.SLO, t model.Tier) (rulefmt.Rule, bool) {
	for _, g := range p.groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == t.RuleName() && r.Labels[model.LabelSLO] == o.Name && r.Labels[model.LabelTier] == t.Name {
				return r, true
			}
		}
	}
	return rulefmt.Rule{}, false
}
