//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/tensorwasm/obsbundle/model"
)

// contractRows shows every contract metric no SLO reads, grouped in rows as
// the contract says and in contract order: a histogram's P95 and rate, a
// counter's rate, a gauge's value, each split by the metric's labels.
func contractRows(b *page, svc *model.Service) {
	read := map[string]bool{}
	for _, m := range sliMetrics(svc) {
		read[m.Name] = true
	}
	var rows []string
	byRow := map[string][]model.Metric{}
	for _, m := range svc.Metrics {
		if read[m.Name] {
			continue
		}
		if _, ok := byRow[m.Row]; !ok {
			rows = append(rows, m.Row)
		}
		byRow[m.Row] = append(byRow[m.Row], m)
	}
	for _, row := range rows {
		b.row(row)
		for _, m := range byRow[row] {
			for _, p := range metricPanels(svc, m) {
				b.panel(p.panel, Panel{Shows: p.shows, Metric: m.Name})
			}
		}
	}
}

// metricPanel is a panel of a contract metric and what it shows.
type metricPanel struct {
	panel cog.Builder[dashboard.Panel]
	shows Shows
}

func metricPanels(svc *model.Service, m model.Metric) []metricPanel {
	split := m.Labels
	switch m.Type {
	case model.Histogram:
		return []metricPanel{
			{series1(m.Title+" P95", fmt.Sprintf("95th percentile of %s by %s. %s", m.Name, labelList(split), m.Help), unitSeconds).
				WithTarget(rangeQuery("A", quantileExpr(0.95, selector(svc, m, model.BucketSeries(m.Name)), split), legend("P95", split...))).
				Span(12), ShowsQuantile},
			{series1(m.Title+" rate", fmt.Sprintf("Observations per second of %s by %s.", m.Name, labelList(split)), unitOps).
				WithTarget(rangeQuery("A", fmt.Sprintf(`sum%s (rate(%s[%s]))`, by(split...), selector(svc, m, model.CountSeries(m.Name)), RateInterval), legend("rate", split...))).
				Span(12), ShowsRate},
		}
	case model.Counter:
		return []metricPanel{
			{series1(m.Title+" rate", fmt.Sprintf("Per second, by %s. %s", labelList(split), m.Help), unitOps).
				WithTarget(rangeQuery("A", fmt.Sprintf(`sum%s (rate(%s[%s]))`, by(split...), selector(svc, m, m.Name), RateInterval), legend("rate", split...))).
				Span(12), ShowsRate},
		}
	default:
		split = []string{VarInstance}
		return []metricPanel{
			{series1(m.Title, fmt.Sprintf("%s, by instance.", m.Help), unitCount).
				WithTarget(rangeQuery("A", fmt.Sprintf(`sum%s (%s)`, by(split...), selector(svc, m, m.Name)), legend("", split...))).
				Span(12), ShowsValue},
		}
	}
}

func labelList(ls []string) string {
	if len(ls) == 0 {
		return "nothing (one series)"
	}
	s := ls[0]
	for i := 1; i < len(ls); i++ {
		sep := ", "
		if i == len(ls)-1 {
			sep = " and "
		}
		s += sep + ls[i]
	}
	return s
}
