package rules_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// Cardinality of the cost benchmark: 10 routes x 3 methods x 8 statuses x
// 4 instances = 960 request-counter series, scraped every 30s for 30 days.
const (
	costRoutes, costMethods, costStatuses, costInstances = 10, 3, 8, 4
	costScrape                                           = 30 * time.Second
)

// BenchmarkRuleCost reports the samples the engine reads for one full
// evaluation of availability_http's rule groups, and, per window, for the
// recorded ratio beside the same ratio computed from raw series with
// rate() as generators commonly do. Run it with
//
//	go test ./rules -run '^$' -bench RuleCost -benchtime 3x
func BenchmarkRuleCost(b *testing.B) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	o, _ := svc.SLO("availability_http")
	all, err := rules.Build(svc, s.Version)
	if err != nil {
		b.Fatal(err)
	}
	var groups []rulefmt.RuleGroup
	for _, g := range all.Groups {
		if g.Name == model.GroupName(svc.Name, o.Name) || g.Name == model.PeriodGroupName(svc.Name, o.Name) {
			groups = append(groups, g)
		}
	}
	ev, err := evaluator.New(groups...)
	if err != nil {
		b.Fatal(err)
	}
	defer ev.Close()
	end := epoch.Add(o.Period.Std() + time.Hour)
	if err := backfill(ev, svc, o, end); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	b.ResetTimer()
	for b.Loop() {
		ev.Samples = 0
		if err := ev.Run(ctx, end, end, time.Minute, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ev.Samples), "samples/evaluation")
	b.StopTimer()

	total, bad := svc.EventSelectors(o.SLI.Events)
	for _, w := range append(svc.Windows(o), o.Period) {
		tile := svc.EvaluationInterval
		if w == o.Period {
			tile = model.PeriodTile
		}
		recorded := samples(b, ev, fmt.Sprintf(`sum_over_time(%s{slo=%q}[%s]) / sum_over_time(%s{slo=%q}[%s])`,
			model.BadEventsRecord(tile), o.Name, w, model.TotalEventsRecord(tile), o.Name, w), end)
		raw := samples(b, ev, fmt.Sprintf(`sum(rate(%s[%s])) / sum(rate(%s[%s]))`, bad, w, total, w), end)
		b.ReportMetric(float64(recorded), "samples-recorded-"+w.String())
		b.ReportMetric(float64(raw), "samples-raw-"+w.String())
		b.ReportMetric(float64(raw)/float64(recorded), "x-fewer-"+w.String())
	}
}

func samples(b *testing.B, ev *evaluator.Evaluator, q string, at time.Time) int64 {
	ev.Samples = 0
	if _, err := ev.Query(context.Background(), q, at); err != nil {
		b.Fatal(err)
	}
	return ev.Samples
}

// backfill writes 30 days of raw counters and of the tiles the rules would
// have recorded (values do not change what is read, only how much).
func backfill(ev *evaluator.Evaluator, svc *model.Service, o model.SLO, end time.Time) error {
	var series []labels.Labels
	for r := range costRoutes {
		for m := range costMethods {
			for st := range costStatuses {
				for i := range costInstances {
					series = append(series, labels.FromStrings(prommodel.MetricNameLabel, catalog.HTTPRequests,
						"job", "tensor-wasm", "instance", fmt.Sprintf("host-%d:9090", i), "method", fmt.Sprintf("M%d", m),
						"route", fmt.Sprintf("/route-%d", r), "status", fmt.Sprintf("%d", 200+st*50)))
				}
			}
		}
	}
	tile := func(name string) labels.Labels {
		return labels.FromStrings(prommodel.MetricNameLabel, name, model.LabelService, svc.Name, model.LabelSLO, o.Name)
	}
	fine, coarse := svc.EvaluationInterval.Std(), model.PeriodTile.Std()
	app := ev.Storage().Appender(context.Background())
	start := end.Add(-o.Period.Std() - time.Hour)
	for t, n := start, 0; t.Before(end); t, n = t.Add(costScrape), n+1 {
		for i, l := range series {
			if _, err := app.Append(0, l, t.UnixMilli(), float64(n*(i+1))); err != nil {
				return err
			}
		}
		for _, tl := range []struct {
			every time.Duration
			tile  model.Duration
		}{{fine, svc.EvaluationInterval}, {coarse, model.PeriodTile}} {
			if t.Sub(start)%tl.every == 0 {
				for _, name := range []string{model.BadEventsRecord(tl.tile), model.TotalEventsRecord(tl.tile)} {
					if _, err := app.Append(0, tile(name), t.UnixMilli(), 1); err != nil {
						return err
					}
				}
			}
		}
		if n%200 == 0 {
			if err := app.Commit(); err != nil {
				return err
			}
			app = ev.Storage().Appender(context.Background())
		}
	}
	return app.Commit()
}
