package rules

import (
	"fmt"
	"time"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/model"
)

// sloRules is the SLO's fast group: event tiles, the ratio and burn rate of
// every window its alerts read, then the alerts, which therefore see this
// evaluation's values.
func (b *builder) sloRules(o model.SLO) []rulefmt.Rule {
	tile := b.svc.EvaluationInterval
	bad, total := b.eventTiles(o, tile)
	rs := []rulefmt.Rule{
		b.record(model.BadEventsRecord(tile), o, bad),
		b.record(model.TotalEventsRecord(tile), o, total),
	}
	for _, w := range b.svc.Windows(o) {
		rs = append(rs, b.windowRules(o, tile, w)...)
	}
	if o.Alerting == model.BudgetAlerting {
		rs = append(rs, b.badCounts(o, tile)...)
	}
	rs = append(rs, b.tierAlerts(o)...)
	rs = append(rs, b.ratioThresholdAlerts(o)...)
	return append(rs, b.absentAlert(o))
}

// eventTiles counts the bad and all events of the last interval from raw
// series. A service that has never failed has no 5xx series at all, so bad
// falls back to 0 rather than leaving the SLI empty. A latency SLI's bad
// count has no fallback: a threshold bucket that stops matching must show as
// missing data, never as a perfect SLI.
func (b *builder) eventTiles(o model.SLO, tile model.Duration) (bad, total string) {
	switch {
	case o.SLI.Events != nil:
		all, failed := b.svc.EventSelectors(o.SLI.Events)
		return b.expr(`%s or vector(0)`, counted(failed, tile)), b.expr(`%s`, counted(all, tile))
	default:
		count, fast := b.svc.HistogramSelectors(o.SLI.Latency)
		return b.expr(`%s - %s`, counted(count, tile), counted(fast, tile)), b.expr(`%s`, counted(count, tile))
	}
}

// bridge is how far back a tile looks for a counter's previous sample:
// Prometheus' default lookback. It must exceed the scrape interval, and it
// lets a tile span a failed scrape (whose staleness markers hide the series
// from an instant selector) without losing or recounting events.
const bridge = model.Duration(5 * time.Minute)

// counted is the number of events the counters of sel saw in the tile that
// ends now: per series, the latest sample minus the latest sample at the
// previous evaluation, summed. Consecutive tiles therefore meet exactly,
// whatever the scrape interval, with no extrapolation (increase() over the
// tile would drop the delta between tiles and scale the rest). Per series:
//   - a counter that went down restarted: its tile counts its value, the
//     events since the restart;
//   - a series with no sample in the bridge before the tile is new (a first
//     5xx, a new instance): its tile counts its whole value;
//   - a series that is stale now (target down) counts nothing until it is
//     back; its tile then counts everything since its last sample, if that
//     is within the bridge, and otherwise its whole value.
func counted(sel string, tile model.Duration) string {
	return fmt.Sprintf(`sum((%[1]s - last_over_time(%[1]s[%[2]s] offset %[3]s)) >= 0 or %[1]s)`, sel, bridge, tile)
}

// ratio divides summed bad tiles by summed total tiles over w. A window with
// no traffic yields no sample (not NaN), so it can neither page nor draw.
func (b *builder) ratio(o model.SLO, tile, w model.Duration) string {
	return b.expr(`sum_over_time(%s[%s]) / (sum_over_time(%s[%s]) > 0)`,
		b.ref(model.BadEventsRecord(tile), o), w, b.ref(model.TotalEventsRecord(tile), o), w)
}

// windowRules records the error ratio and the burn rate over w.
func (b *builder) windowRules(o model.SLO, tile, w model.Duration) []rulefmt.Rule {
	return []rulefmt.Rule{
		b.record(model.ErrorRatioRecord(w), o, b.ratio(o, tile, w)),
		b.record(model.BurnRateRecord(w), o,
			b.expr(`%s / %s`, b.ref(model.ErrorRatioRecord(w), o), model.Decimal(o.BudgetRatio()))),
	}
}

// badCounts records the bad events of every tier window, which budget
// tiers compare with the budget's allowance.
func (b *builder) badCounts(o model.SLO, tile model.Duration) []rulefmt.Rule {
	var rs []rulefmt.Rule
	for _, w := range model.TierWindows(o) {
		if w != tile {
			rs = append(rs, b.record(model.BadEventsRecord(w), o, b.expr(`sum_over_time(%s[%s])`, b.ref(model.BadEventsRecord(tile), o), w)))
		}
	}
	return rs
}

// budgetRate records the bad events per second the budget allows: the
// budget ratio times the average event rate over the part of the period
// that has data. Averaging over the covered part, not the whole period,
// keeps a new deployment (or one after data loss) from seeing a tiny
// budget and paging for days.
func (b *builder) budgetRate(o model.SLO) rulefmt.Rule {
	total := b.ref(model.TotalEventsRecord(model.PeriodTile), o)
	return b.record(model.BudgetRateRecord(o.Period), o, b.expr(`%s * sum_over_time(%s[%s]) / (count_over_time(%s[%s]) * %s)`,
		model.Decimal(o.BudgetRatio()), total, o.Period, total, o.Period, model.Decimal(model.PeriodTile.Std().Seconds())))
}

// periodRules is the SLO's slow group: coarse tiles summed from the fine
// ones, the SLI over the whole period, the budget left, and the SLO's
// constants for dashboards.
func (b *builder) periodRules(o model.SLO) []rulefmt.Rule {
	fine, coarse := b.svc.EvaluationInterval, model.PeriodTile
	rs := []rulefmt.Rule{
		b.record(model.BadEventsRecord(coarse), o, b.expr(`sum_over_time(%s[%s])`, b.ref(model.BadEventsRecord(fine), o), coarse)),
		b.record(model.TotalEventsRecord(coarse), o, b.expr(`sum_over_time(%s[%s])`, b.ref(model.TotalEventsRecord(fine), o), coarse)),
	}
	rs = append(rs, b.windowRules(o, coarse, o.Period)...)
	if o.Alerting == model.BudgetAlerting {
		rs = append(rs, b.budgetRate(o))
	}
	return append(rs,
		b.record(model.BudgetRemainingRecord, o,
			b.expr(`1 - %s / %s`, b.ref(model.ErrorRatioRecord(o.Period), o), model.Decimal(o.BudgetRatio()))),
		b.record(model.ObjectiveRecord, o, b.expr(`vector(%s)`, model.Decimal(o.Objective))),
		b.record(model.ErrorBudgetRecord, o, b.expr(`vector(%s)`, model.Decimal(o.BudgetRatio()))),
		b.record(model.FreezeBelowRecord, o, b.expr(`vector(%s)`, model.Decimal(o.FreezeBelow))),
	)
}
