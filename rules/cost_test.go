package rules_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	prommodel "github.com/prometheus/common/model"

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
// rate() as generators commonly do, and one evaluation of Sloth-style and
// Pyrra-style rules for the same SLI on the same data. Run it with
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
	total, bad := svc.EventSelectors(o.SLI.Events)
	sloth, pyrra := slothStyle(total, bad), pyrraStyle(total, bad)
	end := epoch.Add(o.Period.Std() + time.Hour)
	if err := costdata.Fill(ev.Storage(), svc, append(groups, sloth...), costShape, epoch, end); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s", costShape)
	ctx := context.Background()

	b.ResetTimer()
	for b.Loop() {
		ev.Samples = 0
		if err := ev.Evaluate(ctx, end, end); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ev.Samples), "samples/evaluation")
	b.StopTimer()
	b.ReportMetric(float64(groupCost(b, ev, sloth, end)), "samples/evaluation-sloth-style")
	b.ReportMetric(float64(groupCost(b, ev, pyrra, end)), "samples/evaluation-pyrra-style")

	for _, w := range append(svc.Windows(o), o.Period) {
		tile := svc.WindowTile(w)
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

// slothStyle is the SLI part of the rules Sloth generates for a 30d
// objective: a ratio of raw rates per alert window, and the 30d SLI as the
// average of the 5m ratios (its optimised form).
func slothStyle(total, bad string) []rulefmt.RuleGroup {
	var rs []rulefmt.Rule
	for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"} {
		rs = append(rs, rulefmt.Rule{Record: "sloth:sli_error:ratio_rate" + w,
			Expr: fmt.Sprintf(`sum(rate(%s[%s])) / sum(rate(%s[%s]))`, bad, w, total, w)})
	}
	rs = append(rs, rulefmt.Rule{Record: "sloth:sli_error:ratio_rate30d",
		Expr: `sum_over_time(sloth:sli_error:ratio_rate5m[30d]) / count_over_time(sloth:sli_error:ratio_rate5m[30d])`})
	return []rulefmt.RuleGroup{{Name: "sloth-style", Interval: prommodel.Duration(time.Minute), Rules: rs}}
}

// pyrraStyle is the SLI part of the rules Pyrra generates for a 30d
// objective: the 30d increase of the raw counters, and a ratio of raw rates
// per alert window.
func pyrraStyle(total, bad string) []rulefmt.RuleGroup {
	increase := []rulefmt.Rule{{Record: "pyrra:requests:increase30d", Expr: fmt.Sprintf(`sum by (status) (increase(%s[30d]))`, total)}}
	var rs []rulefmt.Rule
	for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "4d"} {
		rs = append(rs, rulefmt.Rule{Record: "pyrra:requests:burnrate" + w,
			Expr: fmt.Sprintf(`sum(rate(%s[%s])) / sum(rate(%s[%s]))`, bad, w, total, w)})
	}
	return []rulefmt.RuleGroup{
		{Name: "pyrra-style-increase", Interval: prommodel.Duration(150 * time.Second), Rules: increase},
		{Name: "pyrra-style-burnrates", Interval: prommodel.Duration(30 * time.Second), Rules: rs},
	}
}

// groupCost is the samples one evaluation of every rule of groups reads.
func groupCost(b *testing.B, ev *evaluator.Evaluator, groups []rulefmt.RuleGroup, at time.Time) int64 {
	var n int64
	for _, g := range groups {
		for _, r := range g.Rules {
			n += samples(b, ev, r.Expr, at)
		}
	}
	return n
}
