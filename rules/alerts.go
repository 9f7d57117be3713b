package rules

import (
	"fmt"
	"maps"
	"sort"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/model"
)

// tierAlerts builds one multi-window, multi-burn-rate alert per tier: both
// windows must burn at least as fast as the tier's factor, the long one for
// precision, the short one so the alert resets soon after the errors stop.
// Page tiers also take part in the SLO's incident (incident.go).
func (b *builder) tierAlerts(o model.SLO) []rulefmt.Rule {
	in := b.incident(o)
	// Fastest first: of two tiers that start at one evaluation, the
	// faster opens the incident, as the slower cannot see it yet.
	tiers := append([]model.Tier{}, o.Tiers...)
	sort.SliceStable(tiers, func(i, j int) bool { return tiers[i].Factor > tiers[j].Factor })
	rs := make([]rulefmt.Rule, 0, len(tiers))
	for _, t := range tiers {
		cond, value, description := b.tierCondition(o, t)
		expr := cond
		if t.Severity == model.Page && !b.standalone {
			expr = in.pageExpr(tierPage(t), cond, value)
		}
		labels := b.sloLabels(o)
		labels[model.LabelSeverity] = string(t.Severity)
		labels[model.LabelTier] = t.Name
		// The tier's own labels and annotations, for the routing keys
		// and texts of an imported spec; validation keeps them off the
		// identity labels and the links.
		maps.Copy(labels, t.Labels)
		annotations := b.annotations(t.Alert,
			fmt.Sprintf("%s is burning its %s error budget at %sx the sustainable rate or faster.", o.Name, o.Period, model.Decimal(t.Factor)),
			description)
		maps.Copy(annotations, t.Annotations)
		rs = append(rs, rulefmt.Rule{
			Alert:       t.RuleName(),
			Expr:        b.expr("%s", expr),
			For:         prommodel.Duration(t.For),
			Labels:      labels,
			Annotations: annotations,
		})
	}
	return rs
}

// tierCondition is when tier t burns, with the guards that its windows
// hold enough history and, when set, minEvents; value is its long window's
// measure, the value the alert shows.
func (b *builder) tierCondition(o model.SLO, t model.Tier) (cond, value, description string) {
	var covered string
	if o.Alerting == model.BudgetAlerting {
		cond, covered, value, description = b.budgetTier(o, t)
	} else {
		cond, covered, value, description = b.ratioTier(o, t)
	}
	cond += " and " + covered
	if o.MinEvents > 0 {
		cond += fmt.Sprintf(` and sum_over_time(%s[%s]) >= %s`,
			b.ref(model.TotalEventsRecord(b.svc.EvaluationInterval), o), t.Long, model.Decimal(o.MinEvents))
	}
	return "(" + cond + ")", value, description
}

// ratioTier compares the error ratio of both windows with factor x budget,
// once the long window holds at least the short window's worth of tiles: a
// fresh Prometheus, or one back from data loss, would otherwise judge an
// hour by its first noisy minute.
func (b *builder) ratioTier(o model.SLO, t model.Tier) (cond, covered, value, description string) {
	threshold := model.Decimal(t.Threshold(o.BudgetRatio()))
	value = b.ref(model.ErrorRatioRecord(t.Long), o)
	tile := b.svc.WindowTile(t.Long)
	covered = fmt.Sprintf(`count_over_time(%s[%s]) * %s >= %s`, b.ref(model.TotalEventsRecord(tile), o), t.Long,
		model.Decimal(tile.Std().Seconds()), model.Decimal(t.Short.Std().Seconds()))
	cond = fmt.Sprintf(`%s >= %s and %s >= %s`, value, threshold, b.ref(model.ErrorRatioRecord(t.Short), o), threshold)
	description = fmt.Sprintf("{{ $value | humanizePercentage }} of %s events were bad over the last %s, and at least %s over %s too, against %s allowed. "+
		"Sustained, that spends %s of the %s error budget every %s.",
		o.Name, t.Long, model.Percent(t.Threshold(o.BudgetRatio())), t.Short, model.Percent(o.BudgetRatio()), model.Percent(t.BudgetSpent(o.Period)), o.Period, t.Long)
	return cond, covered, value, description
}

// budgetTier compares the bad events per second of both windows with
// factor x the bad events per second the budget allows over the period.
// Each window's own error ratio must also exceed the budget ratio: only
// then does the window spend budget at all (the budget left is budget
// ratio x events - bad events, which shrinks exactly when bad / events is
// above the budget ratio). Without it, a peak hour at an error ratio within
// the objective reads as a burn, because its traffic is above the period's
// average; with it, a peak-hour incident still pages on its bad events.
func (b *builder) budgetTier(o model.SLO, t model.Tier) (cond, covered, value, description string) {
	allowed := b.ref(model.BudgetRateRecord(o.Period), o)
	window := func(w model.Duration) string {
		bad, total := model.BadEventsWindowRecord(w), model.TotalEventsWindowRecord(w)
		if w == b.svc.EvaluationInterval {
			bad, total = model.BadEventsRecord(w), model.TotalEventsRecord(w)
		}
		return fmt.Sprintf(`%s / %s > %s * %s and %s > %s * %s`, b.ref(bad, o), model.Decimal(w.Std().Seconds()), model.Decimal(t.Factor), allowed,
			b.ref(bad, o), model.Decimal(o.BudgetRatio()), b.ref(total, o))
	}
	// The allowance is an average over the history the period holds; until
	// that history is as long as the tier's long window, the average is
	// noise (a first, partial tile can make it zero), so the tier waits.
	covered = fmt.Sprintf(`count_over_time(%s[%s]) * %s >= %s`, b.ref(model.TotalEventsRecord(model.PeriodTile), o), o.Period,
		model.Decimal(model.PeriodTile.Std().Seconds()), model.Decimal(t.Long.Std().Seconds()))
	cond = window(t.Long) + " and " + window(t.Short)
	long := model.BadEventsWindowRecord(t.Long)
	value = fmt.Sprintf(`%s / %s`, b.ref(long, o), model.Decimal(t.Long.Std().Seconds()))
	description = fmt.Sprintf("{{ $value | humanize }} bad %s events per second over the last %s, and over %s too: more than %sx the %s budget's allowance. "+
		"Sustained, that spends %s of the %s error budget every %s.",
		o.Name, t.Long, t.Short, model.Decimal(t.Factor), o.Period, model.Percent(t.BudgetSpent(o.Period)), o.Period, t.Long)
	return cond, covered, value, description
}

// ratioThresholdAlerts builds the plain threshold alerts on this SLO's error
// ratio; they read the windows the SLO group records.
func (b *builder) ratioThresholdAlerts(o model.SLO) []rulefmt.Rule {
	var rs []rulefmt.Rule
	for _, a := range b.svc.Alerts {
		if a.ErrorRatio == nil || a.ErrorRatio.SLO != o.Name {
			continue
		}
		labels := b.sloLabels(o)
		labels[model.LabelSeverity] = string(a.Severity)
		rs = append(rs, rulefmt.Rule{
			Alert:  model.AlertName(a.Alert),
			Expr:   b.expr(`%s > %s`, b.ref(model.ErrorRatioRecord(a.ErrorRatio.Window), o), model.Decimal(a.Above)),
			For:    prommodel.Duration(a.For),
			Labels: labels,
			Annotations: b.annotations(a.Alert, a.Summary,
				fmt.Sprintf("{{ $value | humanizePercentage }} of %s events were bad over the last %s, above the %s threshold.",
					o.Name, a.ErrorRatio.Window, model.Percent(a.Above))),
		})
	}
	return rs
}

// unmeasuredAlert fires when the SLO cannot be measured (incident.go):
// every target of the service is down or the series the SLI reads are gone,
// which would otherwise silence every alert of the SLO. It pages when the
// SLO has a page tier, so a service that dies pages, and as one of the
// SLO's page alerts it holds an incident open while it lasts.
func (b *builder) unmeasuredAlert(o model.SLO) rulefmt.Rule {
	in := b.incident(o)
	sev := model.Ticket
	expr := heldValue + " and on () " + in.unmeasured
	if len(in.tiers) > 0 {
		sev = model.Page
		if !b.standalone {
			expr = in.pageExpr(unmeasuredPage, expr, heldValue)
		}
	}
	labels := b.sloLabels(o)
	labels[model.LabelSeverity] = string(sev)
	return rulefmt.Rule{
		Alert:  model.AlertName(model.UnmeasuredAlert),
		Expr:   b.expr("%s", expr),
		For:    prommodel.Duration(model.UnmeasuredFor(sev)),
		Labels: labels,
		Annotations: b.annotations(model.UnmeasuredAlert,
			"An SLO cannot be measured: its service's targets are down or the series it reads are missing.",
			fmt.Sprintf("Every target of %s is down, or no series match %s, so %s is not measured and its burn-rate alerts cannot fire.",
				b.svc.Series(model.UpSeries), in.measuredSelector, o.Name)),
	}
}

// quantileAlerts builds the service's plain latency-quantile alerts.
func (b *builder) quantileAlerts() []rulefmt.Rule {
	var rs []rulefmt.Rule
	for _, a := range b.svc.Alerts {
		q := a.Quantile
		if q == nil {
			continue
		}
		above := time.Duration(a.Above * float64(time.Second))
		rs = append(rs, rulefmt.Rule{
			Alert: model.AlertName(a.Alert),
			Expr: b.expr(`histogram_quantile(%s, sum by (le) (rate(%s[%s]))) > %s`,
				model.Decimal(q.Quantile), b.svc.QuantileSelector(q), q.Window, model.Decimal(a.Above)),
			For:    prommodel.Duration(a.For),
			Labels: map[string]string{model.LabelService: b.svc.Name, model.LabelSeverity: string(a.Severity)},
			Annotations: b.annotations(a.Alert, a.Summary,
				fmt.Sprintf("P%s of %s over the last %s is {{ $value | humanizeDuration }}, above %s.",
					model.Decimal(q.Quantile*100), b.svc.QuantileSelector(q), q.Window, above)),
		})
	}
	return rs
}

// annotations are the four every alert carries.
func (b *builder) annotations(id, summary, description string) map[string]string {
	return map[string]string{
		model.AnnotationSummary:     summary,
		model.AnnotationDescription: description,
		model.AnnotationRunbook:     b.svc.RunbookURL(id),
		model.AnnotationDashboard:   b.svc.DashboardURL(),
	}
}

// serviceRules is the service's own group: the info series that carries the
// bundle version, and the alerts not tied to one SLO.
func (b *builder) serviceRules(bundleVersion string) []rulefmt.Rule {
	info := rulefmt.Rule{
		Record: model.InfoRecord,
		Expr:   b.expr(`vector(1)`),
		Labels: map[string]string{
			model.LabelService:   b.svc.Name,
			model.LabelVersion:   bundleVersion,
			model.LabelGenerator: model.GeneratorVersion,
		},
	}
	return append([]rulefmt.Rule{info}, b.quantileAlerts()...)
}
