//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

package dashboards

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/tensorwasm/obsbundle/model"
)

// overviewColumn is one measure of the overview table: an instant query
// giving one value per SLO.
type overviewColumn struct {
	name, expr, unit string
	decimals         float64
}

// overviewColumns are the overview table's columns after the service and
// SLO names: one instant query each, merged on (service, slo). A bundle
// without SLOs records no period windows, so it has no columns over them.
func overviewColumns(s model.Spec) []overviewColumn {
	out := []overviewColumn{{"Objective", model.ObjectiveRecord, unitRatio, 3}}
	if sli := periodRecords(s, model.ErrorRatioRecord); len(sli) > 0 {
		out = append(out, overviewColumn{"SLI over the period", "1 - (" + strings.Join(sli, " or ") + ")", unitRatio, 3})
	}
	out = append(out, overviewColumn{"Budget remaining", model.BudgetRemainingRecord, unitRatio, 3})
	if burn := periodRecords(s, model.BurnRateRecord); len(burn) > 0 {
		out = append(out, overviewColumn{"Burn over the period", strings.Join(burn, " or "), unitBurn, 2})
	}
	out = append(out, overviewColumn{"Alerts firing", fmt.Sprintf(`count by (%s, %s) (ALERTS{alertstate="firing",%s!=""}) or 0 * %s`,
		model.LabelService, model.LabelSLO, model.LabelSLO, model.ObjectiveRecord), unitNone, 0})
	for i := range out {
		out[i].expr = perSLO(out[i].expr)
	}
	return out
}

// perSLO keeps only the service and slo labels of expr's series. Grafana's
// merge joins table frames on the label columns they share: a __name__
// column, which differs from query to query, would leave one sparse row
// per query and SLO. Each SLO has one series per query, so max is exact.
func perSLO(expr string) string {
	return fmt.Sprintf("max by (%s, %s) (%s)", model.LabelService, model.LabelSLO, expr)
}

// periodRecords names a record over every SLO period in the spec, so SLOs
// with different periods share one column.
func periodRecords(s model.Spec, name func(model.Duration) string) []string {
	var out []string
	for _, svc := range s.Services {
		for _, o := range svc.SLOs {
			if r := name(o.Period); !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Overview builds the dashboard listing every SLO of every service in the
// bundle, each row drilling down to its service's dashboard.
func Overview(s model.Spec) (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder(model.OverviewTitle(s.Name)).
		Uid(model.OverviewUID(s.Name)).
		Description("Every SLO of the bundle "+s.Name+": objective, SLI and budget over its period, and alerts firing.").
		Tags(tags(s.Version)).
		Readonly().
		Time("now-24h", "now").
		Refresh("1m").
		Timezone("browser").
		WithVariable(dashboard.NewDatasourceVariableBuilder(VarDatasource).Label("Data source").Type("prometheus").
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("Prometheus")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(model.DatasourceUID)},
			}))
	for _, svc := range s.Services {
		b.Link(dashboard.NewDashboardLinkBuilder(svc.Title + " service").Type(dashboard.DashboardLinkTypeLink).
			Url(model.DashboardPath(model.DashboardUID(svc.Name))).Icon("dashboard").KeepTime(true))
	}
	t := table.NewPanelBuilder().
		Title("Every SLO").
		Description("One row per SLO. Click a service to open its dashboard. Budget below zero means the objective is missed over the period.").
		Unit(unitRatio).
		Datasource(datasource()).
		ShowHeader(true).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		Thresholds(steps(green)).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]bool{"Time": true},
		}}).
		OverrideByName(model.LabelService, []dashboard.DynamicConfigValue{{Id: "links", Value: []map[string]any{{
			"title": "Open the ${__value.text} dashboard",
			"url":   model.DashboardPath(model.DashboardUID("${__value.text}")) + "?${__url_time_range}",
		}}}}).
		Height(12).Span(24)
	for i, c := range overviewColumns(s) {
		t.WithTarget(instantQuery(ref(i), c.expr, "").Format(prometheus.PromQueryFormatTable))
		t.OverrideByName("Value #"+ref(i), []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: c.name},
			{Id: "unit", Value: c.unit},
			{Id: "decimals", Value: c.decimals},
		})
	}
	b.WithPanel(t)
	d, err := b.Build()
	if err != nil {
		return d, err
	}
	numberPanels(&d)
	return d, nil
}
