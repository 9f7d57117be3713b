package spec_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/routing"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/spec"
)

// importForms are this project's own inputs in every form the import reads.
var importForms = []string{
	"testdata/import/sloth-multi.yaml",
	"testdata/import/sloth-crd.yaml",
	"testdata/import/sloth-two-counters.yaml",
	"testdata/import/openslo-v1alpha.yaml",
	"testdata/import/openslo-v1-list.yaml",
	"testdata/import/openslo-v1-multi.yaml",
	"testdata/import/openslo-v1-good.yaml",
	"testdata/import/sloth-good.yaml",
	"../examples/import/sloth.yaml",
	"../examples/import/openslo.yaml",
}

func load(t *testing.T, file string) (model.Spec, spec.Notes) {
	t.Helper()
	s, notes, err := spec.Load(file, spec.Options{})
	require.NoError(t, err)
	return s, notes
}

func service(t *testing.T, s model.Spec, name string) *model.Service {
	t.Helper()
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	t.Fatalf("no service %q among %d", name, len(s.Services))
	return nil
}

func slo(t *testing.T, svc *model.Service, name string) model.SLO {
	t.Helper()
	o, ok := svc.SLO(name)
	require.True(t, ok, "no SLO %q in service %s", name, svc.Name)
	return o
}

func alertIDs(o model.SLO) []string {
	var out []string
	for _, t := range o.Tiers {
		out = append(out, t.Alert)
	}
	return out
}

func TestEverySlothDocumentBecomesAServiceWithItsLabelsAndAlerts(t *testing.T) {
	s, notes := load(t, "testdata/import/sloth-multi.yaml")
	require.Len(t, s.Services, 2, "both documents convert")
	shop, search := service(t, s, "shop"), service(t, s, "search")
	require.Equal(t, map[string]string{"job": "shop"}, shop.Selector, "per-route SLOs share the service selector")

	pay := slo(t, shop, "pay_availability")
	require.Equal(t, `route="/pay"`, pay.SLI.Events.Total)
	require.Equal(t, `code=~"5.."`, pay.SLI.Events.Bad)
	require.Equal(t, map[string]string{"team": "storefront", "category": "availability", "imported_tier": "1"}, pay.Labels)
	require.Equal(t, "shop-oncall", pay.Tiers[0].Labels["routing_key"], "page_alert labels go onto the page tiers")
	require.Equal(t, model.Page, pay.Tiers[0].Severity)
	require.Equal(t, "#shop-alerts", pay.Tiers[2].Labels["slack_channel"], "ticket_alert labels go onto the ticket tiers")
	require.Equal(t, "Too many shop requests fail.", pay.Tiers[2].Annotations["summary"])
	require.Equal(t, "critical", pay.Tiers[0].Labels["severity"], "Sloth's own severity value is kept, so routes on it keep matching")

	cart := slo(t, shop, "cart_availability")
	require.Equal(t, []string{"shop-high-error-rate-cart-availability-fast", "shop-high-error-rate-cart-availability-medium"}, alertIDs(cart),
		"a disabled ticket alert drops its tiers; an alert name two SLOs share gets the SLO in it")

	lat := slo(t, shop, "pay_latency")
	require.Equal(t, &model.Latency{Metric: "http_request_duration_seconds", Matchers: `route="/pay"`, Threshold: 0.4}, lat.SLI.Latency)

	q := slo(t, search, "queries")
	require.Equal(t, []string{"search-errors-slow", "search-errors-very-slow"}, alertIDs(q), "a disabled page alert drops its tiers")

	summary := notes.String()
	for _, want := range []string{"imported Sloth prometheus/v1", "tier fast keeps that name", `tier="1" is kept as imported_tier`,
		"ticket_alert is disabled", "https://runbooks.invalid/shop"} {
		require.Contains(t, summary, want)
	}
}

func TestSlothCRDDocumentsConvertWithCamelCaseFields(t *testing.T) {
	s, notes := load(t, "testdata/import/sloth-crd.yaml")
	require.Contains(t, notes.Format, "PrometheusServiceLevel")
	require.Len(t, s.Services, 2)
	o := slo(t, service(t, s, "shop"), "requests")
	require.Equal(t, `code=~"5.."`, o.SLI.Events.Bad)
	require.Equal(t, "storefront", o.Tiers[0].Labels["routing_key"])
	require.Equal(t, model.Duration(2*time.Minute), o.Tiers[1].For, "the page alert's for: goes onto both page tiers")
	require.Zero(t, o.Tiers[2].For)
	require.Equal(t, "#storefront", o.Tiers[3].Labels["channel"])
	require.Equal(t, map[string]string{"owner": "storefront"}, o.Labels)
	require.Equal(t, 0.99, slo(t, service(t, s, "search"), "requests").Objective)
}

func TestFailuresOfACounterOfTheirOwnMapToTwoCounters(t *testing.T) {
	s, _ := load(t, "testdata/import/sloth-two-counters.yaml")
	svc := service(t, s, "shop")
	require.Equal(t, map[string]string{"job": "shop"}, svc.Selector)
	require.Equal(t, &model.EventRatio{Metric: "http_requests_total", BadMetric: "app_errors_total"}, slo(t, svc, "requests").SLI.Events)
	require.Equal(t, &model.EventRatio{Metric: "http_requests_total", Total: `route="/pay"`, BadMetric: "app_errors_total", Bad: `route="/pay",kind="timeout"`},
		slo(t, svc, "pay_timeouts").SLI.Events)
	total, bad := svc.EventSelectors(slo(t, svc, "pay_timeouts").SLI.Events)
	require.Equal(t, `http_requests_total{job="shop",route="/pay"}`, total)
	require.Equal(t, `app_errors_total{job="shop",route="/pay",kind="timeout"}`, bad)
}

func TestGoodEventsOfACounterOfTheirOwnOrOfSeveralMatchersStayGoodEvents(t *testing.T) {
	s, _ := load(t, "testdata/import/openslo-v1-good.yaml")
	svc := service(t, s, "shop")
	require.Equal(t, map[string]string{"job": "shop"}, svc.Selector)
	ok := slo(t, svc, "shop_ok").SLI.Events
	require.Equal(t, &model.EventRatio{Metric: "http_requests_total", GoodMetric: "http_requests_ok_total"}, ok)
	total, bad := svc.EventSelectors(ok)
	require.Equal(t, `http_requests_total{job="shop"}`, total)
	require.Empty(t, bad, "bad events are total - good, no selector")
	require.Equal(t, `http_requests_ok_total{job="shop"}`, svc.GoodSelector(ok))
	m, found := svc.Metric("http_requests_ok_total")
	require.True(t, found, "the counter of successes is in the contract")
	require.Equal(t, model.Counter, m.Type)

	served := slo(t, svc, "pay_served").SLI.Events
	require.Equal(t, &model.EventRatio{Metric: "http_requests_total", Total: `route="/pay"`, Good: `code!~"5..",code!="429"`}, served)
	require.Equal(t, `http_requests_total{job="shop",route="/pay",code!~"5..",code!="429"}`, svc.GoodSelector(served))
}

func TestSlothErrorQueriesOfAllLessGoodMapToGoodEvents(t *testing.T) {
	s, _ := load(t, "testdata/import/sloth-good.yaml")
	svc := service(t, s, "store")
	require.Equal(t, map[string]string{"job": "store"}, svc.Selector)
	require.Equal(t, &model.EventRatio{Metric: "http_requests_total", GoodMetric: "http_requests_ok_total"}, slo(t, svc, "requests").SLI.Events)
	require.Equal(t, &model.EventRatio{Metric: "http_requests_total", Total: `route="/cart"`, Good: `code!~"5..",code!="429"`}, slo(t, svc, "cart_served").SLI.Events)
	require.Equal(t, &model.EventRatio{Metric: "http_requests_total", Total: `route="/pay"`, Bad: `code=~"5.."`}, slo(t, svc, "pay_availability").SLI.Events,
		"one good matcher still maps to its negation as bad events")
}

func TestOpenSLOAlphaGoodOverTotalBecomesItsExactComplement(t *testing.T) {
	s, _ := load(t, "testdata/import/openslo-v1alpha.yaml")
	o := slo(t, service(t, s, "shop"), "shop_availability")
	require.Equal(t, `code=~"5.."`, o.SLI.Events.Bad, "good code!~5.. over total: bad is exactly code=~5..")
	require.Equal(t, model.Duration(28*24*time.Hour), o.Period)
	require.Len(t, o.Tiers, 4)
}

func TestOpenSLOListWithReferencesMapsTargetPercentWindowAndAlertPolicies(t *testing.T) {
	s, _ := load(t, "testdata/import/openslo-v1-list.yaml")
	svc := service(t, s, "shop")
	require.Equal(t, "Web shop", svc.Title)
	require.Equal(t, "The web shop.", svc.Description)
	o := slo(t, svc, "shop_availability")
	require.Equal(t, 0.995, o.Objective)
	require.Equal(t, model.Duration(28*24*time.Hour), o.Period, "4w")
	require.Equal(t, []model.Tier{
		{Name: "fast-burn", Alert: "shop-availability-fast-burn", Severity: model.Page, Long: model.Duration(time.Hour), Short: model.Duration(5 * time.Minute), Factor: 14.4, For: model.Duration(2 * time.Minute)},
		{Name: "slow-burn", Alert: "shop-availability-slow-burn", Severity: model.Ticket, Long: model.Duration(24 * time.Hour), Short: model.Duration(2 * time.Hour), Factor: 2},
	}, o.Tiers, "a referenced and an inline burn-rate condition")
}

func TestOpenSLOSLOsLandOnTheirOwnServices(t *testing.T) {
	s, _ := load(t, "testdata/import/openslo-v1-multi.yaml")
	require.Len(t, s.Services, 2)
	search := service(t, s, "search")
	require.Equal(t, "Search API", search.Title, "the Service document titles it")
	lat := slo(t, search, "search_latency")
	require.Equal(t, 0.4, lat.SLI.Latency.Threshold, "a bucket over its count is a latency SLI")
	shop := service(t, s, "shop")
	require.Equal(t, []string{"shop-errors-fast"}, alertIDs(slo(t, shop, "shop_errors")))
	_, ok := search.SLO("shop_errors")
	require.False(t, ok)
}

// Every converted service's rules load in Debian's promtool.
func TestImportedRulesPassPromtool(t *testing.T) {
	bin := debian.Binary(t, "promtool")
	services := 0
	for _, file := range importForms {
		s, _ := load(t, file)
		for i := range s.Services {
			data, _, err := rules.File(&s.Services[i], s.Version)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "rules.yaml")
			require.NoError(t, os.WriteFile(path, data, 0o644))
			out, err := exec.Command(bin, "check", "rules", path).CombinedOutput()
			require.NoError(t, err, "%s, service %s:\n%s", file, s.Services[i].Name, out)
			services++
		}
	}
	require.Equal(t, 13, services)
}

// shopFeed simulates the counters and histogram every fixture reads: per
// job, route and code a counter at its own rate, and a latency histogram
// whose buckets fill at their own rates, so a wrong matcher shows.
func shopFeed(start time.Time) evaluator.Feed {
	type series struct {
		ls   labels.Labels
		rate float64
	}
	var all []series
	for j, job := range []string{"shop", "search", "checkout", "store"} {
		for r, route := range []string{"/pay", "/cart"} {
			for c, code := range []string{"200", "404", "429", "500", "503"} {
				rate := float64(1+j) * float64(2+r) * []float64{50, 3, 1.5, 0.7, 0.2}[c]
				all = append(all, series{labels.FromStrings("__name__", "http_requests_total", "job", job, "route", route, "code", code), rate})
			}
			base := float64(1+j) * float64(1+r) * 10
			for i, le := range []string{"0.1", "0.4", "1", "+Inf"} {
				all = append(all, series{labels.FromStrings("__name__", "http_request_duration_seconds_bucket", "job", job, "route", route, "le", le), base * []float64{0.6, 0.9, 0.97, 1}[i]})
			}
			all = append(all, series{labels.FromStrings("__name__", "http_request_duration_seconds_count", "job", job, "route", route), base})
			// The successes again, on a counter of their own that
			// restarts at resetAt (right after that scrape, on a tile
			// boundary of every evaluation interval, where the rules'
			// tiles and rate() both count every event).
			all = append(all, series{labels.FromStrings("__name__", "http_requests_ok_total", "job", job, "route", route), float64(1+j) * float64(2+r) * (50 + 3 + 1.5)})
			for k, kind := range []string{"timeout", "panic"} {
				all = append(all, series{labels.FromStrings("__name__", "app_errors_total", "job", job, "route", route, "kind", kind), float64(1+r) * float64(1+k) * 0.3})
			}
		}
	}
	return func(t time.Time, add func(labels.Labels, float64)) {
		secs := t.Sub(start).Seconds()
		for _, s := range all {
			if r, ok := resets[s.ls.String()]; ok && secs > r.Seconds() {
				add(s.ls, s.rate*(secs-r.Seconds()))
				continue
			}
			add(s.ls, s.rate*secs)
		}
	}
}

// resets are the series of shopFeed that restart from 0 right after the
// scrape at the given time from the start: every series of the counter of
// successes, and one request counter series of store. Both lie on tile
// boundaries of every evaluation interval validation allows (multiples of
// 4m) and inside the hour the originals are compared over.
var resets = func() map[string]time.Duration {
	out := map[string]time.Duration{
		labels.FromStrings("__name__", "http_requests_total", "job", "store", "route", "/cart", "code", "200").String(): 48 * time.Minute,
	}
	for _, job := range []string{"shop", "search", "checkout", "store"} {
		for _, route := range []string{"/pay", "/cart"} {
			out[labels.FromStrings("__name__", "http_requests_ok_total", "job", job, "route", route).String()] = 60 * time.Minute
		}
	}
	return out
}()

// originals are the fixtures' own SLIs as error ratios over 1h, to compare
// with the converted SLOs' event tiles summed over 1h.
var originals = []struct {
	file, service, slo, errorRatio string
}{
	{"testdata/import/sloth-multi.yaml", "shop", "pay_availability",
		`sum(rate(http_requests_total{job="shop",route="/pay",code=~"5.."}[1h])) / sum(rate(http_requests_total{job="shop",route="/pay"}[1h]))`},
	{"testdata/import/sloth-multi.yaml", "shop", "cart_availability",
		`sum(rate(http_requests_total{job="shop",route="/cart",code=~"(5..|429)"}[1h])) / sum(rate(http_requests_total{job="shop",route="/cart"}[1h]))`},
	{"testdata/import/sloth-multi.yaml", "shop", "pay_latency",
		`(sum(rate(http_request_duration_seconds_count{job="shop",route="/pay"}[1h])) - sum(rate(http_request_duration_seconds_bucket{job="shop",route="/pay",le="0.4"}[1h]))) / sum(rate(http_request_duration_seconds_count{job="shop",route="/pay"}[1h]))`},
	{"testdata/import/sloth-multi.yaml", "search", "queries",
		`sum(increase(http_requests_total{job="search",code=~"5.."}[1h])) / sum(increase(http_requests_total{job="search"}[1h]))`},
	{"testdata/import/sloth-two-counters.yaml", "shop", "requests",
		`sum(rate(app_errors_total{job="shop"}[1h])) / sum(rate(http_requests_total{job="shop"}[1h]))`},
	{"testdata/import/sloth-two-counters.yaml", "shop", "pay_timeouts",
		`sum(rate(app_errors_total{job="shop",route="/pay",kind="timeout"}[1h])) / sum(rate(http_requests_total{job="shop",route="/pay"}[1h]))`},
	{"testdata/import/sloth-crd.yaml", "search", "requests",
		`sum(rate(http_requests_total{job="search",code=~"5.."}[1h])) / sum(rate(http_requests_total{job="search"}[1h]))`},
	{"testdata/import/openslo-v1alpha.yaml", "shop", "shop_availability",
		`1 - sum(rate(http_requests_total{job="shop",code!~"5.."}[1h])) / sum(rate(http_requests_total{job="shop"}[1h]))`},
	{"testdata/import/openslo-v1-list.yaml", "shop", "shop_availability",
		`(sum(increase(http_requests_total{job="shop"}[1h])) - sum(increase(http_requests_total{job="shop",code!~"5.."}[1h]))) / sum(increase(http_requests_total{job="shop"}[1h]))`},
	{"testdata/import/openslo-v1-multi.yaml", "search", "search_latency",
		`1 - sum(rate(http_request_duration_seconds_bucket{job="search",le="0.4"}[1h])) / sum(rate(http_request_duration_seconds_count{job="search"}[1h]))`},
	{"testdata/import/openslo-v1-multi.yaml", "shop", "shop_errors",
		`sum(rate(http_requests_total{job="shop",code=~"5.."}[1h])) / sum(rate(http_requests_total{job="shop"}[1h]))`},
	{"testdata/import/openslo-v1-good.yaml", "shop", "shop_ok",
		`1 - sum(rate(http_requests_ok_total{job="shop"}[1h])) / sum(rate(http_requests_total{job="shop"}[1h]))`},
	{"testdata/import/openslo-v1-good.yaml", "shop", "pay_served",
		`1 - sum(rate(http_requests_total{job="shop",route="/pay",code!~"5..",code!="429"}[1h])) / sum(rate(http_requests_total{job="shop",route="/pay"}[1h]))`},
	{"testdata/import/sloth-good.yaml", "store", "requests",
		`(sum(rate(http_requests_total{job="store"}[1h])) - sum(rate(http_requests_ok_total{job="store"}[1h]))) / sum(rate(http_requests_total{job="store"}[1h]))`},
	{"testdata/import/sloth-good.yaml", "store", "cart_served",
		`(sum(increase(http_requests_total{job="store",route="/cart"}[1h])) - sum(increase(http_requests_total{job="store",route="/cart",code!~"5..",code!="429"}[1h]))) / sum(increase(http_requests_total{job="store",route="/cart"}[1h]))`},
	{"testdata/import/sloth-good.yaml", "store", "pay_availability",
		`sum(rate(http_requests_total{job="store",route="/pay",code=~"5.."}[1h])) / sum(rate(http_requests_total{job="store",route="/pay"}[1h]))`},
}

// The converted SLI gives the error ratio the original query gives, on the
// same simulated series, evaluated by Prometheus' engine: the rules'
// exact event tiles against the original rate() ratio.
func TestConvertedSLIsGiveTheOriginalErrorRatio(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := start.Add(90 * time.Minute)
	for _, tc := range originals {
		t.Run(fmt.Sprintf("%s %s %s", filepath.Base(tc.file), tc.service, tc.slo), func(t *testing.T) {
			s, _ := load(t, tc.file)
			svc := service(t, s, tc.service)
			one := *svc
			one.SLOs = []model.SLO{slo(t, svc, tc.slo)}
			groups, err := rules.Build(&one, s.Version)
			require.NoError(t, err)
			ev, err := evaluator.New(groups.Groups...)
			require.NoError(t, err)
			defer func() { _ = ev.Close() }()
			ctx := context.Background()
			require.NoError(t, ev.Run(ctx, start, at, 15*time.Second, shopFeed(start)))

			want, err := ev.Query(ctx, tc.errorRatio, at)
			require.NoError(t, err)
			require.Len(t, want, 1, tc.errorRatio)
			tile := one.EvaluationInterval
			got, err := ev.Query(ctx, fmt.Sprintf("sum_over_time(%s[1h]) / sum_over_time(%s[1h])",
				model.RecordedSelector(model.BadEventsRecord(tile), tc.service, tc.slo), model.RecordedSelector(model.TotalEventsRecord(tile), tc.service, tc.slo)), at)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Greater(t, want[0].F, 0.0)
			require.InEpsilon(t, want[0].F, got[0].F, 1e-6, "original %s", tc.errorRatio)
		})
	}
}

func TestTheSummaryListsSkippedSLOsOnlyWhenAsked(t *testing.T) {
	in := `version: prometheus/v1
service: shop
slos:
  - name: ok
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="shop"}[{{.window}}]))
  - name: raw
    objective: 99
    sli:
      raw:
        error_ratio_query: sum(rate(x[{{.window}}]))
`
	_, _, err := spec.ParseWith("mixed.yaml", []byte(in), spec.Options{})
	require.ErrorContains(t, err, "mixed.yaml:14:9: slos[1].sli.raw: a raw error-ratio query cannot be split")
	require.ErrorContains(t, err, "1 SLO(s) or documents cannot map and 1 SLO(s) can; nothing was converted")
	require.ErrorContains(t, err, "-skip-unmappable")

	s, notes, err := spec.ParseWith("mixed.yaml", []byte(in), spec.Options{SkipUnmappable: true})
	require.NoError(t, err)
	require.Len(t, s.Services[0].SLOs, 1)
	require.Len(t, notes.Skipped, 1)
	require.Contains(t, notes.String(), "skipped (could not map):\n  - mixed.yaml:14:9: slos[1].sli.raw")
}

// Each refusal names the place, the field, why, and what to write.
func TestImportRefusalsSayWhyAndWhatToWrite(t *testing.T) {
	sloth := func(errQ, totalQ string) string {
		return fmt.Sprintf("version: prometheus/v1\nservice: shop\nslos:\n  - name: a\n    objective: 99\n    sli:\n      events:\n        error_query: %s\n        total_query: %s\n", errQ, totalQ)
	}
	openslo := func(ratio string) string {
		return "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: a\nspec:\n  service: shop\n  indicator:\n    spec:\n      ratioMetric:\n" + ratio +
			"  objectives:\n    - target: 0.99\n"
	}
	metric := func(role, typ, q string) string {
		return fmt.Sprintf("        %s:\n          metricSource:\n            type: %s\n            spec:\n              query: %s\n", role, typ, q)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"an offset in a query", sloth(`sum(rate(x_total{code="5"}[5m] offset 1m))`, `sum(rate(x_total[5m] offset 1m))`),
			"in.yaml:9:22: slos[0].sli.events.total_query: total query: offset 1m (or @) shifts this query into the past"},
		{"a grouped query", sloth(`sum by (route) (rate(x_total{code="5"}[5m]))`, `sum by (route) (rate(x_total[5m]))`),
			"total query: sum by (route) gives one ratio per group, but an SLO of the bundle is one ratio over all its events; write one SLO per group with route=\"<value>\" in both queries"},
		{"a latency bound that is no bucket", sloth(`sum(rate(h_count[5m])) - sum(rate(h_bucket{le=~"0.4|0.5"}[5m]))`, `sum(rate(h_count[5m]))`),
			"the bucket term must select one bucket bound with le=\"<bound>\"" + `, got {le=~"0.4|0.5"}; write the SLI as a native latency SLI of this project's spec instead: sli: {latency:`},
		{"a difference of two other series", sloth(`sum(rate(b_total[5m])) - sum(rate(c_total[5m]))`, `sum(rate(a_total[5m]))`),
			"in.yaml:8:22: slos[0].sli.events.error_query: bad query: a difference maps as <total query> - <good events>, or as <histogram>_count - <histogram>_bucket{le=...}, " +
				"but its first term b_total{} is not the total query a_total{}; write the total query as the difference's first term"},
		{"a difference of the total and good events outside it", sloth(`sum(rate(x_total{route="/a"}[5m])) - sum(rate(x_total{code="2"}[5m]))`, `sum(rate(x_total{route="/a"}[5m]))`),
			`in.yaml:8:22: slos[0].sli.events.error_query: the good query lacks route="/a", which the total query has, so it would count good events outside the total; add route="/a" to the good query`},
		{"a bad query outside the total", sloth(`sum(rate(x_total{code="5"}[5m]))`, `sum(rate(x_total{route="/a"}[5m]))`),
			`the bad query lacks route="/a", which the total query has, so it would count bad events outside the total; add route="/a" to the bad query`},
		{"good events of the total's very series", openslo(metric("good", "Prometheus", `sum(rate(x_total{route="/a"}[5m]))`) + metric("total", "Prometheus", `sum(rate(x_total{route="/a"}[5m]))`)),
			"in.yaml:11:11: spec.indicator.spec.ratioMetric.good: SLO a: the good query selects the same series as the total query: no label matcher picks the good events; add the matchers that pick them to the good query"},
		{"a Sloth SLI plugin", "version: prometheus/v1\nservice: shop\nslos:\n  - name: a\n    objective: 99\n    sli:\n      plugin:\n        id: x\n",
			"in.yaml:8:9: slos[0].sli.plugin: SLI plugins are Sloth code"},
		{"Sloth SLO plugins", "version: prometheus/v1\nservice: shop\nslos:\n  - name: a\n    objective: 99\n    plugins: {}\n",
			"in.yaml:6:5: slos[0].plugins: SLO plugins are Sloth code run at generation time"},
		{"Sloth plugins of a whole document", "version: prometheus/v1\nservice: shop\nslo_plugins:\n  chain: []\nslos: []\n",
			"in.yaml:3:1: slo_plugins: unknown Sloth field \"slo_plugins\" (SLO plugins are Sloth code run at generation time"},
		{"an unknown Sloth field", "version: prometheus/v1\nservice: shop\nslos:\n  - name: a\n    objective: 99\n    owner: me\n",
			`in.yaml:6:5: slos[0].owner: unknown Sloth field "owner"`},
		{"a non-Prometheus source", openslo(metric("bad", "Datadog", "x") + metric("total", "Datadog", "y")),
			`spec.indicator.spec.ratioMetric.total.metricSource.type: SLO a: metric source "Datadog" does not map: the bundle is Prometheus rules`},
		{"a good query outside the total", openslo(metric("good", "Prometheus", `sum(rate(x_total{code="2"}[5m]))`) + metric("total", "Prometheus", `sum(rate(x_total{route="/a"}[5m]))`)),
			`spec.indicator.spec.ratioMetric.good: SLO a: the good query lacks route="/a", which the total query has, so it would count good events outside the total; add route="/a" to the good query`},
		{"a calendar month", strings.Replace(openslo(metric("bad", "Prometheus", `sum(rate(x_total{code="5"}[5m]))`)+metric("total", "Prometheus", `sum(rate(x_total[5m]))`)),
			"  objectives:", "  timeWindow:\n    - duration: 1M\n      isRolling: true\n  objectives:", 1),
			`spec.timeWindow[0].duration: SLO a: "1M" is a calendar unit with no fixed length (a month has 28 to 31 days)`},
		{"an unknown apiVersion", "apiVersion: openslo/v2\nkind: SLO\n", `in.yaml:1:13: apiVersion: expected one of sloth.slok.dev/v1 (Sloth), openslo/v1 or openslo/v1alpha (OpenSLO), got "openslo/v2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := spec.ParseWith("in.yaml", []byte(tc.in), spec.Options{})
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// Every imported file builds a whole bundle whose generated promtool unit
// tests pass, and Sloth's routing labels reach the alerts.
func TestImportedBundlesPassTheirOwnAlertTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a bundle's alert tests per imported file")
	}
	for _, file := range importForms {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, _ := load(t, file)
			passesItsAlertTests(t, s)
		})
	}
}

func TestSlothAlertLabelsReachTheAlertsTheyRoute(t *testing.T) {
	s, _ := load(t, "testdata/import/sloth-multi.yaml")
	groups, err := rules.Build(service(t, s, "shop"), s.Version)
	require.NoError(t, err)
	found := map[string]map[string]string{} // by slo/tier
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if tier := r.Labels[model.LabelTier]; tier != "" {
				want := map[string]string{"pay_latency": "ShopPaySlow"}[r.Labels[model.LabelSLO]]
				if want == "" {
					want = "ShopHighErrorRate"
				}
				require.Equal(t, want, r.Alert, "Sloth's alert name is kept, so routes on it keep matching")
				found[r.Labels[model.LabelSLO]+"/"+tier] = r.Labels
			}
		}
	}
	page := found["pay_availability/fast"]
	require.Equal(t, "page", page["sloth_severity"], "as Sloth labels its page alert")
	require.Equal(t, "shop", page["sloth_service"], "the labels Sloth's alerts take from the series they read")
	require.Equal(t, "pay-availability", page["sloth_slo"])
	require.Equal(t, "shop-pay-availability", page["sloth_id"])
	require.Equal(t, "shop-oncall", page["routing_key"])
	require.Equal(t, "critical", page[model.LabelSeverity], "Sloth's own severity value")
	require.Equal(t, "storefront", page["team"], "the document's labels are on every rule")
	ticket := found["pay_availability/slow"]
	require.Equal(t, "ticket", ticket["sloth_severity"])
	require.Equal(t, "#shop-alerts", ticket["slack_channel"])
	require.Equal(t, "slack", ticket[model.LabelSeverity])

	// The bundle's own routing sends them to the page and ticket receivers.
	data, err := routing.Production(s)
	require.NoError(t, err)
	cfg, err := amconfig.Load(string(data))
	require.NoError(t, err)
	root := dispatch.NewRoute(cfg.Route, nil)
	for alert, want := range map[string]string{"pay_availability/fast": model.PageReceiver, "pay_availability/slow": model.TicketReceiver} {
		ls := prommodel.LabelSet{}
		for k, v := range found[alert] {
			ls[prommodel.LabelName(k)] = prommodel.LabelValue(v)
		}
		require.Equal(t, want, root.Match(ls)[0].RouteOpts.Receiver, alert)
	}
}

// A severity value that Sloth's page and ticket alerts share cannot tell
// them apart: the ticket tiers keep it as imported_severity, and say so.
func TestSlothSeveritySharedByPageAndTicketStaysApart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "slo.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`version: prometheus/v1
service: shop
labels: {job: shop}
slos:
  - name: requests
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="shop"}[{{.window}}]))
    alerting:
      name: ShopErrors
      labels: {severity: critical}
`), 0o644))
	s, notes, err := spec.Load(file, spec.Options{})
	require.NoError(t, err)
	o := s.Services[0].SLOs[0]
	for _, tier := range o.Tiers {
		if tier.Severity == model.Page {
			require.Equal(t, "critical", tier.Labels[model.LabelSeverity], tier.Name)
		} else {
			require.Equal(t, "ticket", tier.SeverityLabel(), tier.Name)
			require.Equal(t, "critical", tier.Labels["imported_severity"], tier.Name)
		}
	}
	require.Contains(t, notes.String(), `severity="critical" marks page alerts too`)
}
