//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

package dashboards

import (
	"fmt"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/common"

	"github.com/tensorwasm/obsbundle/model"
)

// Quantiles drawn on latency panels.
var quantiles = []float64{0.5, 0.95, 0.99}

// LatencyTitle is the title of the latency panel of a histogram.
func LatencyTitle(m model.Metric) string { return m.Title + " P50 / P95 / P99" }

// latencyRow shows a latency SLI's histogram: P50, P95 and P99 per route
// side by side, with every latency SLO threshold on it drawn as a line.
func latencyRow(b *page, svc *model.Service, m model.Metric) {
	var groupBy []string
	if svc.RouteLabel != "" && hasLabel(m, svc.RouteLabel) {
		groupBy = []string{svc.RouteLabel}
	}
	var bounds []any
	var objectives string
	thresholds := latencyThresholds(svc, m)
	for _, t := range thresholds {
		bounds = append(bounds, t, red)
		objectives += fmt.Sprintf(" %s s", model.Decimal(t))
	}
	p := series1(LatencyTitle(m),
		fmt.Sprintf("Quantiles of %s by %s, estimated from the histogram. Lines mark the latency SLO thresholds:%s.", m.Name, joinOr(svc.RouteLabel, ""), objectives),
		unitSeconds).
		Thresholds(steps(green, bounds...)).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
		Span(24)
	if len(thresholds) > 0 { // the lowest SLO line stays on screen when latency is far below it
		p.AxisSoftMax(thresholds[0])
	}
	for i, q := range quantiles {
		p.WithTarget(rangeQuery(ref(i), quantileExpr(q, selector(svc, m, model.BucketSeries(m.Name)), groupBy),
			legend("", groupBy...)+" P"+model.Decimal(q*100)))
	}
	b.row(m.Row)
	b.panel(p, Panel{Shows: ShowsLatency, SLOs: slosReading(svc, m), Metric: m.Name})
}

// latencyThresholds are the thresholds of the latency SLOs on m, ascending.
func latencyThresholds(svc *model.Service, m model.Metric) []float64 {
	var ts []float64
	for _, o := range svc.SLOs {
		if l := o.SLI.Latency; l != nil && l.Metric == m.Name && !slices.Contains(ts, l.Threshold) {
			ts = append(ts, l.Threshold)
		}
	}
	slices.Sort(ts)
	return ts
}

// quantileExpr estimates quantile q of a histogram's buckets per group.
func quantileExpr(q float64, buckets string, groupBy []string) string {
	return fmt.Sprintf(`histogram_quantile(%s, sum%s (rate(%s[%s])))`,
		model.Decimal(q), by(append([]string{"le"}, groupBy...)...), buckets, RateInterval)
}
