//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/tensorwasm/obsbundle/model"
)

// sloSummary is the first row: per SLO, the SLI over its period against the
// objective, the budget left and whether deploys are frozen on one line;
// the burn rate of every window its alerts read and the budget over time
// on the next. SLO panels read recorded series only, so they stay cheap
// over 30 days.
func sloSummary(b *page, svc *model.Service) {
	if len(svc.SLOs) == 0 {
		return
	}
	b.row("SLO summary")
	w := sloWidths(svc)
	for _, o := range svc.SLOs {
		links := sloLinks(svc, o)
		slo := []string{o.Name}
		period := []model.Duration{o.Period}
		b.panel(sliStat(svc, o, links).Span(w.sli), Panel{Shows: ShowsSLI, SLOs: slo, Windows: period})
		b.panel(budgetStat(svc, o, links).Span(w.budget), Panel{Shows: ShowsBudget, SLOs: slo, Windows: period})
		b.panel(freezeStat(svc, o, links).Span(w.freeze), Panel{Shows: ShowsFreeze, SLOs: slo, Windows: period})
		b.panel(burnStat(svc, o, links).Span(w.burn), Panel{Shows: ShowsBurnRate, SLOs: slo, Windows: burnWindows(svc, o)})
		b.panel(budgetOverTime(svc, o, links).Span(w.overTime), Panel{Shows: ShowsBudgetOverTime, SLOs: slo, Windows: period})
	}
}

// Titles of an SLO's panels besides its SLI stat.
func budgetTitle(o model.SLO) string   { return o.Name + " error budget remaining" }
func freezeTitle(o model.SLO) string   { return o.Name + " deploy freeze" }
func burnTitle(o model.SLO) string     { return o.Name + " burn rate" }
func overTimeTitle(o model.SLO) string { return o.Name + " error budget over time" }

// sloPanelWidths are the widths of an SLO's panels in grid columns.
type sloPanelWidths struct{ sli, budget, freeze, burn, overTime uint32 }

// sloWidths sizes the SLO panels of a service so every title and every
// burn-rate window fits, the same for every SLO so their panels line up:
// SLI, budget and freeze share one line, burn rate and budget over time
// the next, each line filled to the grid's width.
func sloWidths(svc *model.Service) sloPanelWidths {
	var m [5]uint32
	for _, o := range svc.SLOs {
		for i, need := range []uint32{
			titleColumns(SLITitle(o)), titleColumns(budgetTitle(o)), titleColumns(freezeTitle(o)),
			max(titleColumns(burnTitle(o)), valuesColumns(len(burnWindows(svc, o)))), titleColumns(overTimeTitle(o)),
		} {
			m[i] = max(m[i], need)
		}
	}
	first, second := fill(m[0], m[1], m[2]), fill(m[3], m[4])
	return sloPanelWidths{first[0], first[1], first[2], second[0], second[1]}
}

// burnWindows are the windows a burn-rate panel shows: every window the
// SLO's alerts read, then its period.
func burnWindows(svc *model.Service, o model.SLO) []model.Duration {
	return append(svc.Windows(o), o.Period)
}

// SLITitle is the title of an SLO's headline stat, e.g.
// "availability_http (30d)", the name runbooks refer to.
func SLITitle(o model.SLO) string { return fmt.Sprintf("%s (%s)", o.Name, o.Period) }

func stat1(title, description, unit string, links []cog.Builder[dashboard.DashboardLink]) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).Description(description).Unit(unit).
		Datasource(datasource()).
		Links(links).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValue).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		Orientation(common.VizOrientationAuto).
		Height(5)
}

func sliStat(svc *model.Service, o model.SLO, links []cog.Builder[dashboard.DashboardLink]) *stat.PanelBuilder {
	return stat1(SLITitle(o),
		fmt.Sprintf("%s Good events over the last %s, from the recorded SLI: green at or above the %s objective, red below.",
			o.Description, o.Period, model.Percent(o.Objective)),
		unitRatio, links).
		WithTarget(instantQuery("A", "1 - "+recorded(model.ErrorRatioRecord(o.Period), svc, o), o.Name)).
		Decimals(3).
		Thresholds(steps(red, o.Objective, green))
}

func budgetStat(svc *model.Service, o model.SLO, links []cog.Builder[dashboard.DashboardLink]) *stat.PanelBuilder {
	return stat1(budgetTitle(o),
		fmt.Sprintf("Share of the %s error budget (%s of events) still unspent. Orange below the %s deploy-freeze line, red once overspent.",
			o.Period, model.Percent(o.BudgetRatio()), model.Percent(o.FreezeBelow)),
		unitRatio, links).
		WithTarget(instantQuery("A", recorded(model.BudgetRemainingRecord, svc, o), o.Name)).
		Decimals(1).
		Thresholds(steps(red, 0.0, orange, o.FreezeBelow, green))
}

// Texts of the deploy-freeze indicator.
const (
	FreezeText = "FREEZE non-rollback deploys"
	DeployText = "Deploys allowed"
)

func freezeStat(svc *model.Service, o model.SLO, links []cog.Builder[dashboard.DashboardLink]) *stat.PanelBuilder {
	expr := recorded(model.BudgetRemainingRecord, svc, o) + " < bool " + recorded(model.FreezeBelowRecord, svc, o)
	return stat1(freezeTitle(o),
		fmt.Sprintf("Error-budget policy: below %s of the budget remaining, only rollbacks ship.", model.Percent(o.FreezeBelow)),
		unitNone, links).
		WithTarget(instantQuery("A", expr, o.Name)).
		Mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
			Type: dashboard.MappingTypeValueToText,
			Options: map[string]dashboard.ValueMappingResult{
				"0": {Text: cog.ToPtr(DeployText), Color: cog.ToPtr(green), Index: cog.ToPtr[int32](0)},
				"1": {Text: cog.ToPtr(FreezeText), Color: cog.ToPtr(red), Index: cog.ToPtr[int32](1)},
			},
		}}}).
		Thresholds(steps(green, 1.0, red))
}

// burnStat shows the burn over every window side by side, shortest first,
// at fixed text sizes: sloWidths makes the panel wide enough for them all.
func burnStat(svc *model.Service, o model.SLO, links []cog.Builder[dashboard.DashboardLink]) *stat.PanelBuilder {
	p := stat1(burnTitle(o),
		"How many times faster than sustainable the budget is being spent, over each window the alerts read and over the period. 1x spends exactly the budget in the period.",
		unitBurn, links).
		TextMode(common.BigValueTextModeValueAndName).
		Orientation(common.VizOrientationVertical).
		Text(common.NewVizTextDisplayOptionsBuilder().TitleSize(statTitleSize).ValueSize(statValueSize)).
		Decimals(2).
		Thresholds(steps(green, 1.0, orange, fastest(o), red))
	for i, w := range burnWindows(svc, o) {
		p.WithTarget(instantQuery(ref(i), recorded(model.BurnRateRecord(w), svc, o), w.String()))
	}
	return p
}

// fastest is the highest burn factor of the SLO's tiers, where the burn
// turns red. Without tiers it is 1, and steps keeps red from 1x.
func fastest(o model.SLO) float64 {
	f := 1.0
	for _, t := range o.Tiers {
		f = max(f, t.Factor)
	}
	return f
}

func budgetOverTime(svc *model.Service, o model.SLO, links []cog.Builder[dashboard.DashboardLink]) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(overTimeTitle(o)).
		Description(fmt.Sprintf("Budget remaining over the rolling %s; the lines mark the deploy freeze and an empty budget.", o.Period)).
		Unit(unitRatio).
		Datasource(datasource()).
		Links(links).
		WithTarget(rangeQuery("A", recorded(model.BudgetRemainingRecord, svc, o), "remaining")).
		Thresholds(steps(red, 0.0, orange, o.FreezeBelow, green)).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine)).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(false)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone)).
		Height(5)
}

// sloLinks point from an SLO's panels to the runbook and the Grafana alert
// entry of every alert that guards it.
func sloLinks(svc *model.Service, o model.SLO) []cog.Builder[dashboard.DashboardLink] {
	var ids []string
	for _, t := range o.Tiers {
		ids = append(ids, t.Alert)
	}
	for _, a := range svc.Alerts {
		if a.Guards(o) {
			ids = append(ids, a.Alert)
		}
	}
	var links []cog.Builder[dashboard.DashboardLink]
	for _, id := range ids {
		links = append(links,
			link("Runbook: "+id, svc.RunbookURL(id)),
			link("Alert: "+svc.AlertNameOf(id), svc.AlertListURL(id)))
	}
	return links
}

// ref names the n-th query of a panel: A, B, C...
func ref(n int) string { return string(rune('A' + n)) }
