//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

package dashboards

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/tensorwasm/obsbundle/model"
)

// Service builds the dashboard of one service, rows top to bottom: SLO
// summary, then a row per group of contract metrics (traffic and latency of
// the SLIs first, then the rest as the contract groups them). With it come
// its panels and what each shows, for the runbooks to link.
func Service(svc *model.Service, bundle, version string) (dashboard.Dashboard, []Panel, error) {
	b := &page{DashboardBuilder: dashboard.NewDashboardBuilder(svc.Title+" service").
		Uid(model.DashboardUID(svc.Name)).
		Description(svc.Description).
		Tags(tags(version, svc.Name)).
		Readonly().
		Time("now-24h", "now").
		Refresh("1m").
		Timezone("browser").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("SLO overview").Type(dashboard.DashboardLinkTypeLink).
			Url(model.DashboardPath(model.OverviewUID(bundle))).Icon("dashboard").KeepTime(true)).
		Link(link("Runbooks", svc.RunbookBaseURL))}
	for _, v := range variables(svc) {
		b.WithVariable(v)
	}
	for _, a := range firingAlerts(svc) {
		b.Annotation(a)
	}
	sloSummary(b, svc)
	for _, m := range sliMetrics(svc) {
		switch m.Type {
		case model.Counter:
			trafficRow(b, svc, m)
		case model.Histogram:
			latencyRow(b, svc, m)
		}
	}
	contractRows(b, svc)
	return b.build()
}

// tags mark generated dashboards and the bundle version they came from.
func tags(version string, extra ...string) []string {
	return append([]string{model.Generator, "bundle-" + version}, extra...)
}

// numberPanels gives every panel a stable id, its position on the page.
func numberPanels(d *dashboard.Dashboard) {
	for i := range d.Panels {
		id := uint32(i + 1)
		switch p := d.Panels[i]; {
		case p.Panel != nil:
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
}

// anchor is the metric the job and instance variables list values of: the
// first SLI's, or the first of the contract. Validation asks for at least
// one metric; without any, the variables list every series of the service.
func anchor(svc *model.Service) model.Metric {
	if ms := sliMetrics(svc); len(ms) > 0 {
		return ms[0]
	}
	if len(svc.Metrics) > 0 {
		return svc.Metrics[0]
	}
	return model.Metric{Name: "", Type: model.Gauge}
}

// series is the name to select for a metric: a histogram's _count.
func series(m model.Metric) string {
	if m.Type == model.Histogram {
		return model.CountSeries(m.Name)
	}
	return m.Name
}

// variables: datasource, job, instance, and the route label when the
// service has one. Query variables refresh with the time range, allow
// several values, and "All" matches every value.
func variables(svc *model.Service) []cog.Builder[dashboard.VariableModel] {
	a := anchor(svc)
	vs := []cog.Builder[dashboard.VariableModel]{
		dashboard.NewDatasourceVariableBuilder(VarDatasource).Label("Data source").Type("prometheus").
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("Prometheus")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(model.DatasourceUID)},
			}),
		queryVariable(VarJob, "Job", "label_values("+svc.Series(series(a))+", "+VarJob+")"),
		queryVariable(VarInstance, "Instance", "label_values("+svc.Series(series(a), jobMatcher())+", "+VarInstance+")"),
	}
	if svc.RouteLabel != "" {
		for _, m := range svc.Metrics {
			if hasLabel(m, svc.RouteLabel) {
				q := "label_values(" + svc.Series(series(m), jobMatcher(), instanceMatcher()) + ", " + svc.RouteLabel + ")"
				vs = append(vs, queryVariable(svc.RouteLabel, title(svc.RouteLabel), q))
				break
			}
		}
	}
	return vs
}

func queryVariable(name, label, query string) cog.Builder[dashboard.VariableModel] {
	return dashboard.NewQueryVariableBuilder(name).Label(label).Datasource(datasource()).
		Query(dashboard.StringOrMap{String: &query}).Definition(query).
		Multi(true).IncludeAll(true).AllValue(".+").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
		}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

// firingAlerts marks on every time series when an alert of the service
// fires: pages by default, tickets behind a toggle that starts off. A
// ticket can fire for hours (a slow burn over days), and shading every
// panel for all that time hides the outage a page is about.
func firingAlerts(svc *model.Service) []cog.Builder[dashboard.AnnotationQuery] {
	return []cog.Builder[dashboard.AnnotationQuery]{
		alertAnnotation(svc, "Pages firing", model.Page, red, true),
		alertAnnotation(svc, "Tickets firing", model.Ticket, orange, false),
	}
}

func alertAnnotation(svc *model.Service, name string, sev model.Severity, colour string, on bool) cog.Builder[dashboard.AnnotationQuery] {
	return dashboard.NewAnnotationQueryBuilder().
		Name(name).
		Datasource(datasource()).
		Enable(on).
		IconColor(colour).
		Expr(`ALERTS{alertstate="firing",` + model.LabelService + `="` + svc.Name + `",` + (&model.Spec{Services: []model.Service{*svc}}).SeverityMatcher(sev).String() + `}`).
		Step("60s").
		TitleFormat("{{alertname}}").
		TextFormat("{{" + model.LabelSeverity + "}} {{" + model.LabelSLO + "}}").
		TagKeys(model.LabelSeverity + "," + model.LabelSLO)
}

// sliMetrics lists, in contract order, the metrics the SLOs read.
func sliMetrics(svc *model.Service) []model.Metric {
	var out []model.Metric
	for _, m := range svc.Metrics {
		for _, o := range svc.SLOs {
			if o.SLI.MetricName() == m.Name && !noFailureSelector(o) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// noFailureSelector says whether an SLO's failures are no one selector of its
// counter: read from a counter of their own, or all events less the good
// ones (of a counter of successes, or picked by matchers whose complement
// no selector writes). Its counters then show as contract rows: the
// traffic row splits one counter into failures and the rest, which they
// cannot.
func noFailureSelector(o model.SLO) bool {
	return o.SLI.Events != nil && (o.SLI.Events.BadMetric != "" || o.SLI.Events.CountsGood())
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
