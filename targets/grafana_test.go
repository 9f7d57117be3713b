package targets_test

import (
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/internal/grafanacheck"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/targets"
)

func grafanaFile(t *testing.T, s model.Spec) []byte {
	t.Helper()
	b, err := bundle.Build(s, targets.GrafanaAlerting)
	require.NoError(t, err)
	data, ok := b.File(model.GrafanaAlertingFile)
	require.True(t, ok)
	return data
}

// The whole check: strict decoding with the SDK's alerting types, one rule
// per Prometheus alert with its labels, annotations, for and condition,
// queries that parse and read only contract or recorded series, and a
// policy tree that routes every alert as the production Alertmanager does.
func TestGrafanaAlertingMirrorsThePrometheusAlertsAndRouting(t *testing.T) {
	for name, s := range examples.Specs(t) {
		require.NoError(t, grafanacheck.Check(s, grafanaFile(t, s)), name)
	}
	require.NoError(t, grafanacheck.Check(examples.Pair(t), grafanaFile(t, examples.Pair(t))), "two services")
}

func TestGrafanaRulesHaveOneRulePerTierAndNoIncidentTerms(t *testing.T) {
	s := catalog.TensorWasm()
	f, err := grafanacheck.Decode(grafanaFile(t, s))
	require.NoError(t, err)
	byTitle := map[string]int{}
	for _, g := range f.Groups {
		require.Equal(t, "TensorWasm", g.Folder)
		for _, r := range g.Rules {
			byTitle[r.Title]++
			q := r.Data[0].Model.(*prometheus.Dataquery)
			require.NotContains(t, q.Expr, "ALERTS", r.Title)
		}
	}
	svc := &s.Services[0]
	for _, o := range svc.SLOs {
		for _, tier := range o.Tiers {
			require.Equal(t, 1, byTitle[model.AlertName(tier.Alert)], tier.Alert)
		}
	}
	require.Equal(t, len(svc.SLOs), byTitle[model.AlertName(model.UnmeasuredAlert)], "one SLOUnmeasured per SLO")
}

func TestGrafanaRulesReadThePageAlertsConditionWithoutTheIncident(t *testing.T) {
	s := catalog.TensorWasm()
	groups, err := rules.Build(&s.Services[0], s.Version)
	require.NoError(t, err)
	f, err := grafanacheck.Decode(grafanaFile(t, s))
	require.NoError(t, err)
	var fast string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Title == "AvailabilityFastBurn" {
				fast = r.Data[0].Model.(*prometheus.Dataquery).Expr
			}
		}
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != "AvailabilityFastBurn" {
				continue
			}
			require.Contains(t, r.Expr, "ALERTS", "the Prometheus page alert holds the incident")
			cond, err := grafanacheck.Condition(r.Expr)
			require.NoError(t, err)
			got, err := model.ParseExpr(fast)
			require.NoError(t, err)
			require.Equal(t, cond, strings.TrimSuffix(strings.TrimPrefix(got.String(), "("), ")"))
		}
	}
}

func TestGrafanaAlertingEscapesDollarsGrafanaWouldExpand(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	svc.Selector["env"] = "prod$1"
	require.NoError(t, s.Validate())
	data := grafanaFile(t, s)
	require.NoError(t, grafanacheck.Check(s, data))
	require.True(t, strings.Contains(string(data), `env="prod$$1"`), "the selector's $ is escaped")
	_, err := grafanacheck.Interpolate(`x{a=~"b$"}`)
	require.ErrorContains(t, err, "environment variable")
}

func TestGrafanaAlertingRefusesIntervalsGrafanaCannotSchedule(t *testing.T) {
	s := catalog.TensorWasm()
	s.Services[0].EvaluationInterval = model.Duration(15 * time.Second)
	require.NoError(t, s.Validate())
	_, err := bundle.Build(s)
	require.NoError(t, err, "the plain files take any interval")
	_, err = bundle.Build(s, targets.GrafanaAlerting)
	require.ErrorContains(t, err, "evaluation interval 15s is not a multiple of 10s")
}

func TestGrafanaAnnotationsReadTheReducedValue(t *testing.T) {
	got := targets.GrafanaAnnotations(map[string]string{
		"description": "{{ $value | humanizePercentage }} bad; {{ $values }} stays",
		"summary":     "static",
	})
	require.Equal(t, "{{ $values.B.Value | humanizePercentage }} bad; {{ $values }} stays", got["description"])
	require.Equal(t, "static", got["summary"])
}
