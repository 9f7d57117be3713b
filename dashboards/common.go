// Package dashboards builds Grafana dashboards from the model with the
// Grafana Foundation SDK: a dashboard per service and an overview of every
// SLO. Every query is derived from the metric contract or names a series
// the rules package records, so a panel can never ask for a series that
// does not exist.
//
// The dashboard v1 schema is used on purpose: Grafana's file provisioning
// loads it, while the v2 schema the SDK recommends is not loadable that way.
//
//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.
package dashboards

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/model"
)

// Variable names the dashboards define and their queries use.
const (
	VarDatasource = "datasource"
	VarJob        = "job"
	VarInstance   = "instance"
)

// RateInterval is Grafana's range for rate() that adapts to the scrape
// interval and the panel's resolution.
const RateInterval = "$__rate_interval"

// Range is Grafana's variable for the whole time range on screen.
const Range = "$__range"

// Grafana units the panels use.
const (
	unitRatio   = "percentunit"
	unitSeconds = "s"
	unitReqps   = "reqps"
	unitOps     = "ops"
	unitBurn    = "suffix:x"
	unitCount   = "short"
	unitNone    = "none"
)

// Colours of thresholds.
const (
	green  = "green"
	orange = "orange"
	red    = "red"
)

// datasource points panels and queries at the dashboard's datasource variable.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + VarDatasource + "}")}
}

// rangeQuery is a Prometheus range query drawn over time.
func rangeQuery(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource()).RefId(ref).Expr(expr).LegendFormat(legend).Range()
}

// instantQuery is a Prometheus query read at the end of the time range.
func instantQuery(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource()).RefId(ref).Expr(expr).LegendFormat(legend).Instant()
}

// steps builds absolute thresholds: a base colour, then (value, colour)
// pairs in ascending order. Grafana colours a value by the last step at or
// below it, so a step not above the one before would hide that one's
// colour: it replaces it instead (a tierless SLO's burn turns red at 1x).
func steps(base string, more ...any) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(more); i += 2 {
		v := more[i].(float64)
		step := dashboard.Threshold{Value: &v, Color: more[i+1].(string)}
		if last := ts[len(ts)-1].Value; last != nil && v <= *last {
			ts[len(ts)-1] = step
			continue
		}
		ts = append(ts, step)
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

// link opens a URL from a panel or the dashboard's header, in a new tab.
func link(title, url string) cog.Builder[dashboard.DashboardLink] {
	return dashboard.NewDashboardLinkBuilder(title).Type(dashboard.DashboardLinkTypeLink).Url(url).TargetBlank(true)
}

func jobMatcher() *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchRegexp, VarJob, "$"+VarJob)
}

func instanceMatcher() *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchRegexp, VarInstance, "$"+VarInstance)
}

// selector renders a raw series selector for a contract metric: the
// service's selector, the dashboard variables that apply to the metric, and
// extra matchers.
func selector(svc *model.Service, m model.Metric, series string, extra ...*labels.Matcher) string {
	ms := []*labels.Matcher{jobMatcher(), instanceMatcher()}
	if svc.RouteLabel != "" && hasLabel(m, svc.RouteLabel) {
		ms = append(ms, labels.MustNewMatcher(labels.MatchRegexp, svc.RouteLabel, "$"+svc.RouteLabel))
	}
	return svc.Series(series, append(ms, extra...)...)
}

func hasLabel(m model.Metric, l string) bool {
	for _, x := range append(append([]string{}, m.Labels...), m.OptionalLabels...) {
		if x == l {
			return true
		}
	}
	return false
}

// recorded selects a series the rules package records for one SLO.
func recorded(record string, svc *model.Service, o model.SLO) string {
	return model.RecordedSelector(record, svc.Name, o.Name)
}

// by renders a "by (a, b)" clause, or nothing for no labels.
func by(ls ...string) string {
	if len(ls) == 0 {
		return ""
	}
	return " by (" + strings.Join(ls, ", ") + ")"
}

// legend renders a legend showing the given labels, or fallback.
func legend(fallback string, ls ...string) string {
	if len(ls) == 0 {
		return fallback
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = "{{" + l + "}}"
	}
	return strings.Join(parts, " ")
}

// Render marshals a built dashboard to JSON. Tests decode every rendered
// dashboard with the SDK's strict decoder (internal/dashcheck).
func Render(d dashboard.Dashboard) ([]byte, error) {
	// The builders put links and annotations in the controls menu; the
	// classic header placement is what operators look for.
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for i := range d.Annotations.List {
		d.Annotations.List[i].Placement = nil
	}
	for _, p := range d.Panels {
		if p.Panel != nil {
			for i := range p.Panel.Links {
				p.Panel.Links[i].Placement = nil
			}
		}
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", deref(d.Uid), err)
	}
	return append(out, '\n'), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
