package alerttests

import (
	"fmt"
	"sort"
	"time"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/model"
)

// Tiers may share an alert name (model.Tier.AlertName). promtool checks
// every alert of the tested name at an evaluation, so a scenario whose
// other tiers of that name fire too must expect them. This file predicts
// them by replaying the SLO's tiers as the rules do, incident included
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

// namesakes returns the alerts the other tiers of o named like tier t
// raise in t's scenario run, at its firing and one evaluation before.
// Both regimes must agree on them.
func (p *planner) namesakes(o model.SLO, t model.Tier, run run) (at, before []expAlert, err error) {
	every := p.svc.EvaluationInterval.Std()
	var traces [2]map[string]tierTrace
	for i, rg := range []regime{promtool, engine} {
		traces[i] = replayTiers(p.svc, o, run.tiles, every, run.at, rg)
	}
	if own := traces[0][t.Name].firing; !own[run.at] || own[run.at-1] {
		return nil, nil, fmt.Errorf("the incident replay does not fire tier %s first at evaluation %d", t.Name, run.at)
	}
	for _, other := range o.Tiers {
		if other.Name == t.Name || other.RuleName() != t.RuleName() {
			continue
		}
		r, ok := p.tierRule(o, other)
		if !ok {
			return nil, nil, fmt.Errorf("no rule for tier %s", other.Name)
		}
		for _, k := range []int{run.at - 1, run.at} {
			// The file expects what promtool, which runs it, computes.
			// Prometheus 3 may fire a tier that reads 4m tiles one
			// evaluation sooner (see windowSums), so before the test's
			// alert fires it may show more; nowhere else may they differ.
			a, b := traces[0][other.Name], traces[1][other.Name]
			early := k < run.at && b.firing[k] && !a.firing[k]
			if (a.firing[k] != b.firing[k] && !early) || (a.firing[k] && a.value[k] != b.value[k]) {
				return nil, nil, fmt.Errorf("tier %s, named like %s, fires differently under promtool and Prometheus 3 at evaluation %d", other.Name, t.Name, k)
			}
			if !a.firing[k] {
				continue
			}
			exp, err := p.expAlert(r, labelsOf(r), sloResult(r), a.value[k])
			if err != nil {
				return nil, nil, err
			}
			if k == run.at {
				at = append(at, exp)
			} else {
				before = append(before, exp)
			}
		}
	}
	return at, before, nil
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
