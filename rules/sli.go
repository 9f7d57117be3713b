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
		if w != o.Period { // the period group records the period's window
			rs = append(rs, b.windowRules(o, b.svc.WindowTile(w), w)...)
		}
	}
	if o.Alerting == model.BudgetAlerting {
		rs = append(rs, b.badCounts(o)...)
	}
	rs = append(rs, b.tierAlerts(o)...)
	rs = append(rs, b.ratioThresholdAlerts(o)...)
	return append(rs, b.unmeasuredAlert(o))
}

// eventTiles counts the bad and all events of the last interval from raw
// series. A service that has never failed has no 5xx series at all, so bad
// falls back to 0 rather than leaving the SLI empty. A latency SLI's bad
// count has no fallback: a threshold bucket that stops matching must show as
// missing data, never as a perfect SLI.
//
// An events SLI that names its good events counts bad = all - good, the
// latency SLI's shape: each term is an exact tile of its own counters, so
// the difference is exact too, whichever counter restarts. Its good count
// falls back to 0: good series appear only with the first success (a
// labelled counter, or one restarted into a total outage), and an outage
// with none must show every event bad, never vanish. A good selector that
// stops matching therefore shows as every event failing: loud, never a
// perfect SLI. For the same reason its SLOUnmeasured alert watches the
// total's series (measuredSelector), not the good ones': no success yet is
// no missing data. A tile's bad count is not clamped at 0: when the good
// counter is scraped apart from the total and runs a scrape ahead, the
// next tile gives the difference back, and windows summing both stay exact.
func (b *builder) eventTiles(o model.SLO, tile model.Duration) (bad, total string) {
	switch {
	case o.SLI.Events != nil && o.SLI.Events.CountsGood():
		all, _ := b.svc.EventSelectors(o.SLI.Events)
		good := b.svc.GoodSelector(o.SLI.Events)
		return b.expr(`%s - (%s or vector(0))`, counted(all, tile), counted(good, tile)), b.expr(`%s`, counted(all, tile))
	case o.SLI.Events != nil:
		all, failed := b.svc.EventSelectors(o.SLI.Events)
		return b.expr(`%s or vector(0)`, counted(failed, tile)), b.expr(`%s`, counted(all, tile))
	case o.SLI.Latency.Native:
		h := b.svc.NativeHistogramSelector(o.SLI.Latency)
		all, fast := nativeCount, nativeAtOrBelow(o.SLI.Latency.Threshold)
		return b.expr(`%s - %s`, countedBy(all, h, tile), countedBy(fast, h, tile)), b.expr(`%s`, countedBy(all, h, tile))
	default:
		count, fast := b.svc.HistogramSelectors(o.SLI.Latency)
		return b.expr(`%s - %s`, counted(count, tile), counted(fast, tile)), b.expr(`%s`, counted(count, tile))
	}
}

// nativeCount reads the observations a native histogram has counted.
func nativeCount(h string) string { return fmt.Sprintf(`histogram_count(%s)`, h) }

// nativeAtOrBelow reads the observations a native histogram has counted at
// or below threshold: its fraction there times its count. The fraction is
// exact at a bound of the histogram's buckets and interpolated within a
// bucket, by a rule that is linear in the bucket counts: so the difference
// of two readings is the reading of the difference, and tiles of these
// readings add up like tiles of a classic bucket counter. A histogram that
// has counted nothing yet has no fraction (NaN); it has 0 observations
// below the threshold, which its count (0) supplies.
func nativeAtOrBelow(threshold float64) func(string) string {
	return func(h string) string {
		return fmt.Sprintf(`(histogram_fraction(-Inf, %[2]s, %[1]s) * histogram_count(%[1]s) >= 0 or histogram_count(%[1]s))`, h, model.Decimal(threshold))
	}
}

// bridge is how far back before a tile the previous sample of a counter is
// looked for. It must exceed the scrape interval; it lets a tile span failed
// scrapes (whose staleness markers hide the series from an instant selector)
// without losing their events.
const bridge = model.Duration(2 * time.Minute)

// counted is the number of events the counters of sel saw in the tile that
// ends now: per series, the latest sample in the tile minus the latest
// sample before it, summed. Range selectors skip staleness markers, so a
// failed scrape at the end of a tile hides none of the tile's samples. Consecutive tiles therefore meet exactly,
// whatever the scrape and evaluation intervals, with no extrapolation
// (increase() over the tile drops the delta between the last sample of one
// tile and the first of the next, and scales the rest). Per series:
//   - a counter lower than at the previous evaluation restarted: the tile
//     counts its value, the events since the restart;
//   - a series with no sample in the bridge before the tile (new, or back
//     after a gap longer than the bridge) starts counting from its first
//     sample, as increase() does: that sample is its baseline. Counting its
//     whole value instead would add a lifetime of events whenever a target
//     or Prometheus comes back from a long gap;
//   - a stale series (target down, failed scrape) counts nothing until it
//     is back; its first tile then counts every event since its last sample
//     if that is within the bridge.
func counted(sel string, tile model.Duration) string {
	return countedBy(func(x string) string { return x }, sel, tile)
}

// countedBy is counted for the counter that read gives of each series of
// sel (a native histogram's count, say): read applies to every selection of
// sel the tile makes, so the tile counts the read counter exactly as
// counted counts a plain one.
func countedBy(read func(string) string, sel string, tile model.Duration) string {
	return fmt.Sprintf(`sum((%s - %s) >= 0 or %s < %s)`,
		read(fmt.Sprintf(`last_over_time(%s[%s])`, sel, tile)), read(fmt.Sprintf(`last_over_time(%s[%s] offset %s)`, sel, bridge, tile)),
		read(sel), read(fmt.Sprintf(`%s offset %s`, sel, tile)))
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

// badCounts records the bad and all events of every tier window longer
// than a tile, which budget tiers compare with the budget's allowance and
// with each other. They sum the fine tiles, so both windows move with every
// evaluation.
func (b *builder) badCounts(o model.SLO) []rulefmt.Rule {
	var rs []rulefmt.Rule
	tile := b.svc.EvaluationInterval
	for _, w := range model.TierWindows(o) {
		if w != tile {
			rs = append(rs,
				b.record(model.BadEventsWindowRecord(w), o, b.expr(`sum_over_time(%s[%s])`, b.ref(model.BadEventsRecord(tile), o), w)),
				b.record(model.TotalEventsWindowRecord(w), o, b.expr(`sum_over_time(%s[%s])`, b.ref(model.TotalEventsRecord(tile), o), w)))
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
	rs = append(rs, b.windowRules(o, b.svc.WindowTile(o.Period), o.Period)...)
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
