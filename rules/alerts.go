package rules

import (
	"fmt"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/model"
)

// tierAlerts builds one multi-window, multi-burn-rate alert per tier: both
// windows must burn at least as fast as the tier's factor, the long one for
// precision, the short one so the alert resets soon after the errors stop.
func (b *builder) tierAlerts(o model.SLO) []rulefmt.Rule {
	rs := make([]rulefmt.Rule, 0, len(o.Tiers))
	for _, t := range o.Tiers {
		expr, description := b.ratioTier(o, t)
		if o.Alerting == model.BudgetAlerting {
			expr, description = b.budgetTier(o, t)
		}
		if o.MinEvents > 0 {
			expr += fmt.Sprintf(` and sum_over_time(%s[%s]) >= %s`,
				b.ref(model.TotalEventsRecord(b.svc.EvaluationInterval), o), t.Long, model.Decimal(o.MinEvents))
		}
		labels := b.sloLabels(o)
		labels[model.LabelSeverity] = string(t.Severity)
		labels[model.LabelTier] = t.Name
		rs = append(rs, rulefmt.Rule{
			Alert:  model.AlertName(t.Alert),
			Expr:   b.expr("%s", expr),
			For:    prommodel.Duration(t.For),
			Labels: labels,
			Annotations: b.annotations(t.Alert,
				fmt.Sprintf("%s is burning its %s error budget at %sx the sustainable rate or faster.", o.Name, o.Period, model.Decimal(t.Factor)),
				description),
		})
	}
	return rs
}

// ratioTier compares the error ratio of both windows with factor x budget.
func (b *builder) ratioTier(o model.SLO, t model.Tier) (expr, description string) {
	threshold := model.Decimal(t.Threshold(o.BudgetRatio()))
	expr = fmt.Sprintf(`%s >= %s and %s >= %s`,
		b.ref(model.ErrorRatioRecord(t.Long), o), threshold, b.ref(model.ErrorRatioRecord(t.Short), o), threshold)
	description = fmt.Sprintf("{{ $value | humanizePercentage }} of %s events were bad over the last %s, and at least %s over %s too, against %s allowed. "+
		"Sustained, that spends %s of the %s error budget every %s.",
		o.Name, t.Long, model.Percent(t.Threshold(o.BudgetRatio())), t.Short, model.Percent(o.BudgetRatio()), model.Percent(t.BudgetSpent(o.Period)), o.Period, t.Long)
	return expr, description
}

// budgetTier compares the bad events per second of both windows with
// factor x the bad events per second the budget allows over the period.
func (b *builder) budgetTier(o model.SLO, t model.Tier) (expr, description string) {
	allowed := b.ref(model.BudgetRateRecord(o.Period), o)
	window := func(w model.Duration) string {
		count := model.BadEventsWindowRecord(w)
		if w == b.svc.EvaluationInterval {
			count = model.BadEventsRecord(w)
		}
		return fmt.Sprintf(`%s / %s > %s * %s`, b.ref(count, o), model.Decimal(w.Std().Seconds()), model.Decimal(t.Factor), allowed)
	}
	// The allowance is an average over the history the period holds; until
	// that history is as long as the tier's long window, the average is
	// noise (a first, partial tile can make it zero), so the tier waits.
	covered := fmt.Sprintf(`count_over_time(%s[%s]) * %s >= %s`, b.ref(model.TotalEventsRecord(model.PeriodTile), o), o.Period,
		model.Decimal(model.PeriodTile.Std().Seconds()), model.Decimal(t.Long.Std().Seconds()))
	expr = window(t.Long) + " and " + window(t.Short) + " and " + covered
	description = fmt.Sprintf("{{ $value | humanize }} bad %s events per second over the last %s, and over %s too: more than %sx the %s budget's allowance. "+
		"Sustained, that spends %s of the %s error budget every %s.",
		o.Name, t.Long, t.Short, model.Decimal(t.Factor), o.Period, model.Percent(t.BudgetSpent(o.Period)), o.Period, t.Long)
	return expr, description
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

// absentAlert fires when the series an SLO reads are gone, which would
// otherwise silence every alert of the SLO. For a latency SLI it watches the
// threshold bucket itself, so a bucket bound that stops matching is caught.
func (b *builder) absentAlert(o model.SLO) rulefmt.Rule {
	var sel string
	if o.SLI.Events != nil {
		sel, _ = b.svc.EventSelectors(o.SLI.Events)
	} else {
		_, sel = b.svc.HistogramSelectors(o.SLI.Latency)
	}
	labels := b.sloLabels(o)
	labels[model.LabelSeverity] = string(model.Ticket)
	return rulefmt.Rule{
		Alert:  model.AlertName(model.AbsentAlert),
		Expr:   b.expr(`absent(%s)`, sel),
		For:    prommodel.Duration(model.AbsentAfter()),
		Labels: labels,
		Annotations: b.annotations(model.AbsentAlert,
			"An SLO cannot be measured because the series it reads are missing.",
			fmt.Sprintf("No series match %s, so %s is not measured and its alerts cannot fire.", sel, o.Name)),
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
