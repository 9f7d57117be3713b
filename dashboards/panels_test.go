package dashboards_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/dashboards"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
)

// Every panel of a service dashboard comes with what it shows, under its
// own id and title: the runbooks link panels by this, never by title.
func TestServiceDashboardsSayWhatEachPanelShows(t *testing.T) {
	for name, s := range examples.Specs(t) {
		for i := range s.Services {
			svc := &s.Services[i]
			d, panels, err := dashboards.Service(svc, s.Name, s.Version)
			require.NoError(t, err, name)
			byID := map[uint32]string{}
			for _, p := range d.Panels {
				if p.Panel != nil {
					byID[*p.Panel.Id] = *p.Panel.Title
				}
			}
			require.Len(t, panels, len(byID), svc.Name)
			for _, p := range panels {
				require.Equal(t, byID[p.ID], p.Title, "%s panel %d", svc.Name, p.ID)
				require.NotEmpty(t, p.Shows)
				for _, slo := range p.SLOs {
					o, ok := svc.SLO(slo)
					require.True(t, ok, "%s shows unknown SLO %s", p.Title, slo)
					if p.Metric != "" {
						require.Equal(t, o.SLI.MetricName(), p.Metric, "%s: a panel of raw series shows only the SLOs that read them", p.Title)
					}
				}
				if p.Shows == dashboards.ShowsBurnRate {
					o, _ := svc.SLO(p.SLOs[0])
					require.Equal(t, append(svc.Windows(o), o.Period), p.Windows)
				}
			}
		}
	}
}

func TestALatencySLOIsShownByItsHistogramsLatencyPanelOnly(t *testing.T) {
	s := examples.Platform(t)
	svc := &s.Services[0]
	_, panels, err := dashboards.Service(svc, s.Name, s.Version)
	require.NoError(t, err)
	var raw []string
	for _, p := range panels {
		if p.ShowsSLO("latency_predict") && p.Metric != "" {
			raw = append(raw, p.Title)
			require.Equal(t, dashboards.ShowsLatency, p.Shows)
			require.Equal(t, "http_request_duration_seconds", p.Metric)
		}
	}
	require.Equal(t, []string{"HTTP latency P50 / P95 / P99"}, raw)
	require.Equal(t, model.Duration(10e9), svc.EvaluationInterval)
}
