package rules_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/costdata"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// costShape is the cost benchmark's cardinality: 960 request-counter series
// scraped every 30s for 30 days.
var costShape = costdata.Shape{Routes: 10, Methods: 3, Statuses: 8, Instances: 4, Scrape: 30 * time.Second}

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
	if err := costdata.Fill(ev.Storage(), svc, groups, costShape, epoch, end); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s", costShape)
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
