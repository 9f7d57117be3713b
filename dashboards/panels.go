//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/tensorwasm/obsbundle/model"
)

// Shows says what a panel shows.
type Shows string

// What the panels of a service dashboard show.
const (
	ShowsSLI            Shows = "SLI over the period"
	ShowsBudget         Shows = "error budget remaining"
	ShowsFreeze         Shows = "deploy freeze"
	ShowsBurnRate       Shows = "burn rate"
	ShowsBudgetOverTime Shows = "error budget over time"
	ShowsRequestRate    Shows = "request rate"
	ShowsErrorRatio     Shows = "error ratio"
	ShowsRouteErrors    Shows = "error ratio per route"
	ShowsFailures       Shows = "top failures"
	ShowsLatency        Shows = "latency quantiles"
	ShowsQuantile       Shows = "quantile"
	ShowsRate           Shows = "rate"
	ShowsValue          Shows = "value"
)

// Panel is one panel of a built dashboard and what it shows. The builders
// say it as they add the panel, so nothing downstream has to infer it back
// from titles or rows.
type Panel struct {
	// ID is the panel's id on the dashboard (viewPanel=ID opens it alone).
	ID    uint32
	Title string
	Shows Shows
	// SLOs are the SLOs whose recorded series or SLI the panel shows.
	SLOs []string
	// Metric is the contract metric whose raw series the panel reads, ""
	// when it reads recorded series only.
	Metric string
	// Windows are the windows of the SLOs the panel shows, shortest first:
	// the period of an SLI, every alert window and the period of a burn rate.
	Windows []model.Duration
}

// ShowsSLO reports whether the panel shows the SLO named slo.
func (p Panel) ShowsSLO(slo string) bool {
	for _, s := range p.SLOs {
		if s == slo {
			return true
		}
	}
	return false
}

// page builds a dashboard and remembers, panel by panel, what each shows.
type page struct {
	*dashboard.DashboardBuilder
	panels []Panel
}

func (p *page) row(title string) { p.WithRow(dashboard.NewRowBuilder(title)) }

// panel adds a panel described by what.
func (p *page) panel(b cog.Builder[dashboard.Panel], what Panel) {
	p.WithPanel(b)
	p.panels = append(p.panels, what)
}

// build builds the dashboard, numbers its panels and gives each
// description its panel's id and title.
func (p *page) build() (dashboard.Dashboard, []Panel, error) {
	d, err := p.Build()
	if err != nil {
		return d, nil, err
	}
	numberPanels(&d)
	out := make([]Panel, 0, len(p.panels))
	for _, dp := range d.Panels {
		if dp.Panel == nil {
			continue
		}
		if len(out) == len(p.panels) {
			return d, nil, fmt.Errorf("dashboard %s: more panels than descriptions", deref(d.Uid))
		}
		what := p.panels[len(out)]
		what.ID, what.Title = *dp.Panel.Id, deref(dp.Panel.Title)
		out = append(out, what)
	}
	if len(out) != len(p.panels) {
		return d, nil, fmt.Errorf("dashboard %s: %d panels for %d descriptions", deref(d.Uid), len(out), len(p.panels))
	}
	return d, out, nil
}
