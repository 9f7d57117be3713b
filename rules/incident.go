package rules

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/tensorwasm/obsbundle/model"
)

// An SLO's page alerts are its page tiers and, when it has any, its
// UnmeasuredAlert. Together they open and close one incident, so that one
// outage pages once and resolves once, whatever the tiers do meanwhile:
//
//   - Hold: a page alert that fires keeps firing while any page tier's
//     condition holds or the SLO cannot be measured. A dead service
//     therefore keeps its page (its windows empty out, which would resolve
//     a tier), and the first tier to fire stays until every page tier has
//     reset, instead of handing the incident to a slower tier that
//     Alertmanager would deliver as a new page. A page tier also holds
//     while a slower page tier fires, so the slower resolves first: at one
//     evaluation, Alertmanager could flush between the two resolves and
//     deliver the slower, no longer inhibited, as a new page.
//   - Exclusion: a page tier does not start while a slower page tier (a
//     lower factor) or UnmeasuredAlert fires, and UnmeasuredAlert does not
//     start while a page tier fires. Whoever opened the incident holds it.
//     A faster tier may start while a slower one has not fired: it is the
//     more urgent page, and Alertmanager inhibits the slower tiers under it.
//   - Cooling: a page tier with a faster page tier does not start within
//     its short window after the incident ended. Its windows may still hold
//     the errors just paged: a fresh Prometheus lifts a slower tier's
//     warm-up guard only once its long window holds its short window's
//     length of data, which can be after the faster tier paged and
//     resolved.
//
// Both read the ALERTS series Prometheus writes for the rules' own alerts;
// rules of one group see the alerts of the rules before them at the same
// evaluation, and those after them as of the previous one.
type incident struct {
	svc      *model.Service
	o        model.SLO
	tiers    []model.Tier // page tiers, fastest first
	conds    []string     // their conditions
	identity string       // the service and slo matchers of ALERTS
	// shared is true when tiers of the SLO share an alert name, which
	// then no longer picks one alert.
	shared bool
	// unmeasured is true (one sample) when every target of the service is
	// down or the SLI's series are gone; measuredSelector is those series.
	unmeasured, measuredSelector string
}

// incident gathers the page alerts of o.
func (b *builder) incident(o model.SLO) incident {
	in := incident{svc: b.svc, o: o, identity: fmt.Sprintf(`%s=%q,%s=%q`, model.LabelService, b.svc.Name, model.LabelSLO, o.Name)}
	for _, t := range o.Tiers {
		if t.Severity == model.Page {
			in.tiers = append(in.tiers, t)
		}
	}
	sort.SliceStable(in.tiers, func(i, j int) bool { return in.tiers[i].Factor > in.tiers[j].Factor })
	names := map[string]bool{}
	for _, t := range o.Tiers {
		in.shared = in.shared || names[t.RuleName()]
		names[t.RuleName()] = true
	}
	for _, t := range in.tiers {
		// With the warm-up guard: without it, a fresh Prometheus would
		// hold a short outage's page for the slow tier's whole short
		// window, which its thin long window overstates.
		cond, _, _ := b.tierCondition(o, t)
		in.conds = append(in.conds, cond)
	}
	in.measuredSelector = b.measuredSelector(o)
	in.unmeasured = fmt.Sprintf(`absent(%s)`, in.measuredSelector)
	if len(b.svc.Selector) > 0 {
		in.unmeasured = fmt.Sprintf(`(max(%s) == 0 or on () %s)`, b.svc.Series(model.UpSeries), in.unmeasured)
	}
	return in
}

// measuredSelector is the series whose absence means o is not measured:
// the SLI's events, or for a latency SLI the threshold bucket itself, so a
// bucket bound that stops matching is caught, or the native histogram (a
// Prometheus that scrapes it as a classic one has none).
func (b *builder) measuredSelector(o model.SLO) string {
	if o.SLI.Events != nil {
		sel, _ := b.svc.EventSelectors(o.SLI.Events)
		return sel
	}
	if o.SLI.Latency.Native {
		return b.svc.NativeHistogramSelector(o.SLI.Latency)
	}
	_, sel := b.svc.HistogramSelectors(o.SLI.Latency)
	return sel
}

// pageAlert is one page alert of an incident: a page tier, or the SLO's
// UnmeasuredAlert, which has no tier label.
type pageAlert struct{ name, tier string }

// unmeasuredPage is the incident's UnmeasuredAlert.
var unmeasuredPage = pageAlert{name: model.AlertName(model.UnmeasuredAlert)}

// tierPage is page tier t as an alert of the incident.
func tierPage(t model.Tier) pageAlert { return pageAlert{name: t.RuleName(), tier: t.Name} }

// pageExpr is the expression of page alert a, whose own condition is cond
// and whose shown value is value: cond unless an excluding page alert
// fires, or held while the incident lasts.
func (in incident) pageExpr(a pageAlert, cond, value string) string {
	if value != heldValue {
		// The long window may be empty by now (a dead service).
		value = fmt.Sprintf(`(%s or on () %s)`, value, heldValue)
	}
	open := in.open()
	if slower := in.slower(a); len(slower) > 0 {
		open += " or on () " + in.firing(slower)
	}
	excluded := in.firing(in.excluding(a))
	if short, ok := in.cooling(a); ok {
		all := in.firing(in.alerts())
		excluded = fmt.Sprintf(`(%s or on () (max_over_time(%s[%s]) unless on () %s))`, excluded, all, short, all)
	}
	return fmt.Sprintf(`(%s unless on () %s) or on () (%s and on () %s and on () (%s))`,
		cond, excluded, value, in.firing([]pageAlert{a}), open)
}

// cooling returns the short window of page alert a when it cools
// (model.SLO.Cools): for that long after the incident ends, a does not
// start, as its short window still holds the errors that were paged. Only
// a slower tier's guard lifting (a fresh Prometheus) or new errors could
// start it then, since the incident is held while any page tier's
// condition holds; new errors at the faster tiers' rates still page.
func (in incident) cooling(a pageAlert) (model.Duration, bool) {
	for _, t := range in.tiers {
		if tierPage(t) == a {
			return t.Short, in.o.Cools(t)
		}
	}
	return 0, false
}

// alerts lists every page alert of the incident.
func (in incident) alerts() []pageAlert {
	as := []pageAlert{unmeasuredPage}
	for _, t := range in.tiers {
		as = append(as, tierPage(t))
	}
	return as
}

// heldValue is what a held alert shows when it has no measure of its own.
const heldValue = "vector(1)"

// excluding lists the page alerts whose firing keeps a from starting.
func (in incident) excluding(a pageAlert) []pageAlert {
	if a == unmeasuredPage {
		return in.alerts()[1:]
	}
	return append([]pageAlert{unmeasuredPage}, in.slower(a)...)
}

// slower lists the page tiers of lower factor than page alert a (none
// for UnmeasuredAlert).
func (in incident) slower(a pageAlert) []pageAlert {
	factor := -1.0
	for _, t := range in.tiers {
		if tierPage(t) == a {
			factor = t.Factor
		}
	}
	var as []pageAlert
	for _, t := range in.tiers {
		if t.Factor < factor {
			as = append(as, tierPage(t))
		}
	}
	return as
}

// open is true while the incident lasts: a page tier's condition holds or
// the SLO cannot be measured.
func (in incident) open() string {
	return strings.Join(append(append([]string{}, in.conds...), in.unmeasured), " or on () ")
}

// firing selects the firing alerts as of this SLO. Alert names pick them
// unless the SLO's tiers share names (model.Tier.AlertName), when their
// tier labels pick among the alerts of those names too; UnmeasuredAlert,
// which has none, then matches the empty tier.
func (in incident) firing(as []pageAlert) string {
	names, tiers := map[string]bool{}, map[string]bool{}
	for _, a := range as {
		names[a.name], tiers[a.tier] = true, true
	}
	sel := []string{oneOf("alertname", names), `alertstate="firing"`, in.identity}
	if in.shared {
		sel = append(sel, oneOf(model.LabelTier, tiers))
	}
	return "ALERTS{" + strings.Join(sel, ",") + "}"
}

// oneOf matches label against any of values: equal to the one, or a
// regular expression of them all, in order.
func oneOf(label string, values map[string]bool) string {
	vs := slices.Sorted(maps.Keys(values))
	if len(vs) == 1 {
		return fmt.Sprintf(`%s=%q`, label, vs[0])
	}
	return fmt.Sprintf(`%s=~%q`, label, strings.Join(vs, "|"))
}
