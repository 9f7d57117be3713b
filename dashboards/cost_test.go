package dashboards_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/costdata"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// dashShape is the dashboard benchmark's cardinality: 960 request-counter
// series and 1,920 latency-histogram series, scraped every minute.
var dashShape = costdata.Shape{Routes: 10, Methods: 3, Statuses: 8, Instances: 4, HistogramStatuses: 1, Scrape: time.Minute}

// grafana holds what Grafana substitutes for a time range: a step of
// range/1000 (at least the scrape interval, in whole minutes) and a rate
// interval of max(4 scrapes, step + 1 scrape).
type grafana struct {
	rng, step, rate time.Duration
}

func grafanaFor(rng time.Duration) grafana {
	step := max(time.Minute, (rng/1000+time.Minute-1)/time.Minute*time.Minute)
	return grafana{rng: rng, step: step, rate: max(4*dashShape.Scrape, step+dashShape.Scrape)}
}

// BenchmarkDashboardCost reports the samples read by every query of
// TensorWasm's service dashboard at a 6h and a 30d range, and for its SLO
// panels beside the same panels computed from raw series (rate() over the
// SLO's windows, as dashboards without recording rules do). A raw SLO panel
// drawn over time re-reads its whole window at every step, so its cost is
// measured for one step and multiplied by the steps. Run it with
//
//	go test ./dashboards -run '^$' -bench DashboardCost -benchtime 1x
func BenchmarkDashboardCost(b *testing.B) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	groups, err := rules.Build(svc, s.Version)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := evaluator.New()
	if err != nil {
		b.Fatal(err)
	}
	defer ev.Close()
	end := epoch.Add(31 * 24 * time.Hour)
	if err := costdata.Fill(ev.Storage(), svc, groups.Groups, dashShape, epoch, end); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d raw series", dashShape, dashShape.Series(13))
	d := boards(&testing.T{}, s)["dashboards/TensorWasm/tensor-wasm-service.json"]
	raw := rawSLO(svc)

	for b.Loop() {
		for _, rng := range []time.Duration{6 * time.Hour, 30 * 24 * time.Hour} {
			g := grafanaFor(rng)
			var all, slo, sloRaw int64
			for _, p := range d.Panels {
				for _, tg := range p.Targets {
					n := cost(b, ev, tg.Expr, tg.Instant, g, end, 1)
					all += n
					if readsOnlyRecorded(&testing.T{}, p) {
						slo += n
						steps := int64(1)
						if !tg.Instant {
							steps = int64(g.rng / g.step)
						}
						sloRaw += cost(b, ev, raw.Replace(tg.Expr), true, g, end, steps)
					}
				}
			}
			name := model.Duration(rng).String()
			b.ReportMetric(float64(all), "samples-all-panels-"+name)
			b.ReportMetric(float64(slo), "samples-slo-recorded-"+name)
			b.ReportMetric(float64(sloRaw), "samples-slo-raw-"+name)
			b.ReportMetric(float64(sloRaw)/float64(slo), "x-fewer-slo-"+name)
		}
	}
}

// cost runs a panel query as Grafana would and returns the samples read,
// times steps for a query measured at one step.
func cost(b *testing.B, ev *evaluator.Evaluator, expr string, instant bool, g grafana, end time.Time, steps int64) int64 {
	q := strings.NewReplacer("$__rate_interval", model.Duration(g.rate).String(), "$__range", model.Duration(g.rng).String()).Replace(expr)
	q = expand(q, "", "")
	ev.Samples = 0
	var err error
	if instant {
		_, err = ev.Query(context.Background(), q, end)
	} else {
		_, err = ev.QueryRange(context.Background(), q, end.Add(-g.rng), end, g.step)
	}
	if err != nil {
		b.Fatalf("%s: %v", q, err)
	}
	return ev.Samples * steps
}

// rawSLO rewrites recorded SLO series into the raw-series queries they
// stand for.
func rawSLO(svc *model.Service) *strings.Replacer {
	var pairs []string
	for _, o := range svc.SLOs {
		sel := func(record string) string {
			return fmt.Sprintf(`%s{%s=%q,%s=%q}`, record, model.LabelService, svc.Name, model.LabelSLO, o.Name)
		}
		ratio := func(w model.Duration) string {
			if e := o.SLI.Events; e != nil {
				total, bad := svc.EventSelectors(e)
				return fmt.Sprintf(`(sum(rate(%s[%s])) / sum(rate(%s[%s])))`, bad, w, total, w)
			}
			count, fast := svc.HistogramSelectors(o.SLI.Latency)
			return fmt.Sprintf(`((sum(rate(%s[%s])) - sum(rate(%s[%s]))) / sum(rate(%s[%s])))`, count, w, fast, w, count, w)
		}
		budget := model.Decimal(o.BudgetRatio())
		for _, w := range append(svc.Windows(o), o.Period) {
			pairs = append(pairs,
				sel(model.ErrorRatioRecord(w)), ratio(w),
				sel(model.BurnRateRecord(w)), "("+ratio(w)+" / "+budget+")")
		}
		pairs = append(pairs,
			sel(model.BudgetRemainingRecord), "(1 - "+ratio(o.Period)+" / "+budget+")",
			sel(model.FreezeBelowRecord), model.Decimal(o.FreezeBelow))
	}
	return strings.NewReplacer(pairs...)
}
