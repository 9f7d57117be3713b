package spec_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/sim"
	"github.com/tensorwasm/obsbundle/spec"
)

// pagesOnOutage replays the imported service's rules over a full outage of
// its counter and returns the alerts that paged, as alertname/tier.
func pagesOnOutage(t *testing.T, svc *model.Service) []string {
	t.Helper()
	groups, err := rules.Build(svc, "1.0.0")
	require.NoError(t, err)
	ev, err := evaluator.New(groups.Groups...)
	require.NoError(t, err)
	defer ev.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	http := &sim.HTTP{Requests: svc.Metrics[0].Name, RouteLabel: "handler", StatusLabel: "code", Labels: svc.Selector,
		Routes: []sim.Route{{Path: "/pay", Method: "POST", Share: 1}}, Traffic: sim.Constant(5), Start: start,
		Incidents: []sim.Incident{{Start: 6 * time.Hour, Duration: time.Hour, ErrorRatio: 1}}}
	// Six hours of clean history fill the longest page window.
	require.NoError(t, ev.Run(context.Background(), start, start.Add(7*time.Hour), 15*time.Second, http.Scrape))
	var paged []string
	pages := (&model.Spec{Services: []model.Service{*svc}}).SeverityMatcher(model.Page)
	for _, e := range ev.Events {
		if e.State == evaluator.Firing && pages.Matches(e.Labels.Get(model.LabelSeverity)) {
			require.GreaterOrEqual(t, e.At, start.Add(6*time.Hour), "nothing pages before the outage")
			paged = append(paged, e.Alert+"/"+e.Labels.Get(model.LabelTier))
		}
	}
	return paged
}

func TestSlothSpecImportsAndItsRulesPage(t *testing.T) {
	s, err := spec.LoadFile("../examples/import/sloth.yaml")
	require.NoError(t, err)
	svc := &s.Services[0]
	require.Equal(t, "checkout", svc.Name)
	require.Equal(t, map[string]string{"job": "checkout"}, svc.Selector)
	o := svc.SLOs[0]
	require.Equal(t, "requests_availability", o.Name)
	require.Equal(t, 0.999, o.Objective)
	require.Equal(t, `code=~"(5..|429)"`, o.SLI.Events.Bad)
	require.Len(t, o.Tiers, 4, "Sloth's page and ticket alerts, two window pairs each")
	require.Contains(t, pagesOnOutage(t, svc), "CheckoutHighErrorRate/fast", "Sloth's alert name, on the fast tier")
}

func TestOpenSLOImportsAndItsRulesPage(t *testing.T) {
	s, err := spec.LoadFile("../examples/import/openslo.yaml")
	require.NoError(t, err)
	o := s.Services[0].SLOs[0]
	require.Equal(t, "checkout_availability", o.Name)
	require.Equal(t, 0.995, o.Objective)
	require.Equal(t, model.Duration(28*24*time.Hour), o.Period)
	require.Contains(t, pagesOnOutage(t, &s.Services[0]), "CheckoutAvailabilityFast/fast")
}

// What does not map is refused with the place and the reason.
func TestImportsRefuseWhatDoesNotMap(t *testing.T) {
	sloth, err := os.ReadFile("../examples/import/sloth.yaml")
	require.NoError(t, err)
	openslo, err := os.ReadFile("../examples/import/openslo.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		name, base, old, new, want string
	}{
		{"a Sloth raw SLI", string(sloth), "      events:\n        error_query: sum(rate(http_requests_total{job=\"checkout\",code=~\"(5..|429)\"}[{{.window}}]))\n        total_query: sum(rate(http_requests_total{job=\"checkout\"}[{{.window}}]))",
			"      raw:\n        error_ratio_query: x", `:13:9: slos[0].sli.raw: a raw error-ratio query cannot be split into bad and total events`},
		{"a Sloth query that is no counter rate", string(sloth), `error_query: sum(rate(`, `error_query: avg(rate(`,
			`:13:22: slos[0].sli.events.error_query: bad query: expected sum(rate(<counter>{...}[<window>]))`},
		{"an OpenSLO time-slice budget", string(openslo), "budgetingMethod: Occurrences", "budgetingMethod: Timeslices",
			`:39:20: spec.budgetingMethod: SLO checkout-availability: only Occurrences budgets map`},
		{"an OpenSLO calendar window", string(openslo), "isRolling: true", "isRolling: false",
			`:37:7: spec.timeWindow[0]: SLO checkout-availability: only rolling time windows map`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, tc.base, tc.old)
			path := filepath.Join(t.TempDir(), "in.yaml")
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(tc.base, tc.old, tc.new, 1)), 0o644))
			_, err := spec.LoadFile(path)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
