//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/tensorwasm/obsbundle/model"
)

// Panel titles the runbooks refer to.
const (
	RequestRateTitle   = "Request rate"
	ErrorRatioTitle    = "Error ratio"
	RouteErrorTitle    = "Per-route error ratio"
	statusClassLabel   = "status_class"
	failingPairsWanted = 5
)

// trafficRow shows the request counter an event-ratio SLI reads: rate by
// route and status class, the error ratio overall and per route against the
// SLO's budget, and the pairs that dominate the failures.
func trafficRow(b *page, svc *model.Service, m model.Metric) {
	o, e := eventSLO(svc, m)
	readers := slosReading(svc, m)
	first := []string{o.Name}
	totalMs, _ := model.ParseMatchers(e.Total)
	badMs, _ := model.ParseMatchers(e.Bad)
	total := selector(svc, m, m.Name, totalMs...)
	bad := selector(svc, m, m.Name, append(totalMs, badMs...)...)
	status := badMs[0].Name
	route := svc.RouteLabel
	if !hasLabel(m, route) {
		route = ""
	}
	var routeBy []string
	if route != "" {
		routeBy = []string{route}
	}

	b.row(m.Row)
	b.panel(series1(RequestRateTitle, fmt.Sprintf("Requests per second by %s status class.", joinOr(route, "and ")), unitReqps).
		WithTarget(rangeQuery("A", fmt.Sprintf(`sum%s (label_replace(rate(%s[%s]), %q, "${1}xx", %q, "(.).*"))`,
			by(append(routeBy, statusClassLabel)...), total, RateInterval, statusClassLabel, status),
			legend("", append(routeBy, statusClassLabel)...))).
		Span(12),
		Panel{Shows: ShowsRequestRate, SLOs: readers, Metric: m.Name})
	b.panel(series1(ErrorRatioTitle,
		fmt.Sprintf("Bad events (%s) among all, as %s counts them; the line is the %s budget.", e.Bad, o.Name, model.Percent(o.BudgetRatio())),
		unitRatio).
		WithTarget(rangeQuery("A", fmt.Sprintf(`sum(rate(%s[%s])) / sum(rate(%s[%s]))`, bad, RateInterval, total, RateInterval), "error ratio")).
		Thresholds(steps(green, o.BudgetRatio(), red)).
		AxisSoftMax(o.BudgetRatio()).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine)).
		Span(12),
		Panel{Shows: ShowsErrorRatio, SLOs: first, Metric: m.Name})
	if route != "" {
		b.panel(series1(RouteErrorTitle, "Error ratio of each "+route+"; the line is the budget.", unitRatio).
			WithTarget(rangeQuery("A", fmt.Sprintf(`sum by (%s) (rate(%s[%s])) / sum by (%s) (rate(%s[%s]))`,
				route, bad, RateInterval, route, total, RateInterval), legend("", route))).
			Thresholds(steps(green, o.BudgetRatio(), red)).
			AxisSoftMax(o.BudgetRatio()).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine)).
			Span(12),
			Panel{Shows: ShowsRouteErrors, SLOs: first, Metric: m.Name})
	}
	b.panel(failingPairs(bad, append(routeBy, status)), Panel{Shows: ShowsFailures, SLOs: first, Metric: m.Name})
}

// slosReading lists, in spec order, the SLOs whose SLI reads m.
func slosReading(svc *model.Service, m model.Metric) []string {
	var out []string
	for _, o := range svc.SLOs {
		if o.SLI.MetricName() == m.Name {
			out = append(out, o.Name)
		}
	}
	return out
}

// FailingPairsTitle is the title of the table of the label values with
// the most failures, e.g. "Top 5 failing (route, status)".
func FailingPairsTitle(ls []string) string {
	return fmt.Sprintf("Top %d failing (%s)", failingPairsWanted, strings.Join(ls, ", "))
}

// failingPairs lists the label pairs with the most failures over the range.
func failingPairs(bad string, ls []string) cog.Builder[dashboard.Panel] {
	return table.NewPanelBuilder().
		Title(FailingPairsTitle(ls)).
		Description("The failing requests over the time range on screen, by " + labelList(ls) + ": where most of the budget goes.").
		Unit(unitCount).
		Decimals(0).
		Datasource(datasource()).
		WithTarget(instantQuery("A", fmt.Sprintf(`topk(%d, sum%s (increase(%s[%s])))`, failingPairsWanted, by(ls...), bad, Range), "").
			Format(prometheus.PromQueryFormatTable)).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]bool{"Time": true},
			"renameByName":  map[string]string{"Value": "failed requests"},
		}}).
		ShowHeader(true).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		Thresholds(steps(green)).
		Height(8).Span(12)
}

// eventSLO finds the first SLO counting events of m.
func eventSLO(svc *model.Service, m model.Metric) (model.SLO, *model.EventRatio) {
	for _, o := range svc.SLOs {
		if o.SLI.Events != nil && o.SLI.Events.Metric == m.Name && !noFailureSelector(o) {
			return o, o.SLI.Events
		}
	}
	panic("dashboards: no event SLO reads " + m.Name) // sliMetrics only yields metrics SLOs read
}

// series1 is a time series of values that are never negative. Its axis
// starts at 0 and grows with the data; the soft maximum of one unit (1
// req/s, 1 s, 100%) keeps an idle series of zeros on a small axis rather
// than uPlot's 0-100 default, without clipping spikes as a hard maximum
// would. Panels with a line to show lower it to that line.
func series1(title, description, unit string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).Description(description).Unit(unit).
		Datasource(datasource()).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
		Min(0).
		AxisSoftMax(1).
		Height(8)
}

// joinOr renders "route and " before a noun, or nothing without a route.
func joinOr(label, rest string) string {
	if label == "" {
		return ""
	}
	return label + " " + rest
}
