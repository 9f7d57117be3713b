package alerttests_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// variant is a spec the generated tests must hold for.
type variant struct {
	name string
	spec model.Spec
}

// variants covers the spec space the arithmetic models: evaluation
// intervals, minEvents, for:, budget alerting, latency SLIs, negative
// matchers.
func variants(t *testing.T) []variant {
	t.Helper()
	var out []variant
	add := func(name string, s model.Spec, change func(svc *model.Service)) {
		change(&s.Services[0])
		require.NoError(t, s.Validate(), name)
		out = append(out, variant{name, s})
	}
	for _, every := range []time.Duration{10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute} {
		add(fmt.Sprintf("tensor-wasm every %s", every), catalog.TensorWasm(), func(svc *model.Service) {
			svc.EvaluationInterval = model.Duration(every)
		})
	}
	add("tensor-wasm minEvents 10, for 5m", catalog.TensorWasm(), func(svc *model.Service) {
		svc.SLOs[0].MinEvents = 10
		for i := range svc.SLOs[0].Tiers {
			svc.SLOs[0].Tiers[i].For = model.Duration(5 * time.Minute)
		}
	})
	add("tensor-wasm minEvents 1000 every 15s", catalog.TensorWasm(), func(svc *model.Service) {
		svc.EvaluationInterval = model.Duration(15 * time.Second)
		svc.SLOs[0].MinEvents = 1000
	})
	add("tensor-wasm budget alerting", catalog.TensorWasm(), func(svc *model.Service) {
		for i := range svc.SLOs {
			svc.SLOs[i].Alerting = model.BudgetAlerting
		}
	})
	add("tensor-wasm budget alerting every 30s, for 5m, minEvents 10", catalog.TensorWasm(), func(svc *model.Service) {
		svc.EvaluationInterval = model.Duration(30 * time.Second)
		svc.SLOs[0].Alerting = model.BudgetAlerting
		svc.SLOs[0].MinEvents = 10
		// Page tiers form a ladder: the slow one holds at least as long.
		svc.SLOs[0].Tiers[0].For = model.Duration(5 * time.Minute)
		svc.SLOs[0].Tiers[1].For = model.Duration(5 * time.Minute)
	})
	add("tensor-wasm budget alerting at a 90% objective, where 14.4x exceeds every event failing", catalog.TensorWasm(), func(svc *model.Service) {
		svc.SLOs[0].Alerting = model.BudgetAlerting
		svc.SLOs[0].Objective = 0.9
	})
	add("tensor-wasm budget alerting every 10s, for 2h (longer than the fast tier's long window)", catalog.TensorWasm(), func(svc *model.Service) {
		svc.EvaluationInterval = model.Duration(10 * time.Second)
		for i := range svc.SLOs {
			svc.SLOs[i].Alerting = model.BudgetAlerting
			for j := range svc.SLOs[i].Tiers {
				svc.SLOs[i].Tiers[j].For = model.Duration(2 * time.Hour)
			}
		}
	})
	add("tensor-wasm latency SLIs on native histograms, /invoke at 700ms (no bucket bound), every 15s", catalog.TensorWasm(), func(svc *model.Service) {
		svc.EvaluationInterval = model.Duration(15 * time.Second)
		for i := range svc.SLOs {
			if l := svc.SLOs[i].SLI.Latency; l != nil {
				l.Native = true
				if strings.Contains(l.Matchers, "/invoke") {
					l.Threshold = 0.7
				}
			}
		}
	})
	add("tensor-wasm with one alert name for every tier, as Sloth names them", catalog.TensorWasm(), func(svc *model.Service) {
		shareAlertName(svc)
	})
	add("tensor-wasm budget alerting every 30s, one alert name for every tier", catalog.TensorWasm(), func(svc *model.Service) {
		svc.EvaluationInterval = model.Duration(30 * time.Second)
		for i := range svc.SLOs {
			svc.SLOs[i].Alerting = model.BudgetAlerting
		}
		shareAlertName(svc)
	})
	add("tensor-wasm with a per-route SLO beside the service-wide one, all tiers named alike", catalog.TensorWasm(), func(svc *model.Service) {
		// The service-wide SLO counts every event of the per-route one's
		// scenario, all bad: its tiers of the shared name fire there too.
		o := svc.SLOs[0]
		o.Name, o.Objective = "availability_invoke", 0.99
		e := *o.SLI.Events
		e.Total = `route="/invoke"`
		o.SLI.Events = &e
		o.Tiers = append([]model.Tier{}, o.Tiers...)
		for i := range o.Tiers {
			o.Tiers[i].Alert = "invoke-" + o.Tiers[i].Alert
		}
		svc.SLOs = append(svc.SLOs, o)
		shareAlertName(svc)
	})
	add("gateway every 10s with negative matchers", examples.Gateway(t), func(svc *model.Service) {
		svc.EvaluationInterval = model.Duration(10 * time.Second)
		svc.SLOs[0].SLI.Events.Total = `status!="500",method!~"OPTIONS|HEAD"`
	})
	return out
}

// shareAlertName gives every tier of svc one alert name.
func shareAlertName(svc *model.Service) {
	for i := range svc.SLOs {
		for j := range svc.SLOs[i].Tiers {
			svc.SLOs[i].Tiers[j].AlertName = "SLOBudgetBurn"
		}
	}
}

// TestArithmeticMatchesTheEngine replays every generated test group with
// Prometheus 3's engine (package evaluator) and checks it fires exactly as
// the arithmetic expects; then promtool 2.42 runs the same file.
func TestArithmeticMatchesTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("replays every scenario with the engine")
	}
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			svc := &v.spec.Services[0]
			groups, err := rules.Build(svc, version)
			require.NoError(t, err)
			data := generate(t, svc)
			var doc struct {
				Tests []struct {
					Name          string                            `yaml:"name"`
					Interval      string                            `yaml:"interval"`
					InputSeries   []struct{ Series, Values string } `yaml:"input_series"`
					AlertRuleTest []struct {
						EvalTime  string `yaml:"eval_time"`
						Alertname string
						ExpAlerts []struct {
							ExpLabels      map[string]string `yaml:"exp_labels"`
							ExpAnnotations map[string]string `yaml:"exp_annotations"`
						} `yaml:"exp_alerts"`
					} `yaml:"alert_rule_test"`
				}
			}
			require.NoError(t, yaml.Unmarshal(data, &doc))
			for _, tg := range doc.Tests {
				spacing, err := model.ParseDuration(tg.Interval)
				require.NoError(t, err)
				at, err := model.ParseDuration(tg.AlertRuleTest[1].EvalTime)
				require.NoError(t, err)
				before, err := model.ParseDuration(tg.AlertRuleTest[0].EvalTime)
				require.NoError(t, err)
				alert := tg.AlertRuleTest[1].Alertname
				var series []string
				for _, s := range tg.InputSeries {
					series = append(series, s.Series+" "+s.Values)
				}
				events := replay(t, groups, svc.EvaluationInterval.Std(), alert, series, spacing.Std(), at.Std())
				if early := firingAt(events, alert, epoch.Add(before.Std())); len(early) > len(tg.AlertRuleTest[0].ExpAlerts) {
					// Only a window of 4m tiles may fire an evaluation
					// earlier here than under promtool (see windowSums).
					require.True(t, readsCoarseWindow(svc, groups, alert), "%s: fires one evaluation early", tg.Name)
					require.Empty(t, firingAt(events, alert, epoch.Add(before.Std()-spacing.Std())), "%s: fires two evaluations early", tg.Name)
				}
				got := firingAt(events, alert, epoch.Add(at.Std()))
				require.Len(t, got, len(tg.AlertRuleTest[1].ExpAlerts), "%s: firing at %s", tg.Name, at)
				for i, e := range got {
					exp := tg.AlertRuleTest[1].ExpAlerts[i]
					want := labels.FromMap(exp.ExpLabels)
					require.Equal(t, want.String(), withoutName(e.Labels).String(), tg.Name)
					require.Equal(t, labels.FromMap(exp.ExpAnnotations).String(), e.Annotations.String(), tg.Name)
				}
			}
			if readsNativeHistograms(svc) {
				// Debian's promtool 2.42 cannot read native histogram
				// series ("unexpected character in series sequence: '{'");
				// Prometheus 3's promtool can, and its engine ran them above.
				t.Log("native histograms: promtool 2.42 skipped")
				return
			}
			out, err := runPromtool(t, writeBoth(t, svc, data))
			require.NoError(t, err, "promtool test rules:\n%s", out)
		})
	}
}

var epoch = time.Unix(0, 0).UTC()

// replay evaluates the groups that alert reads over the input, every
// group at the evaluation interval as promtool runs them.
func replay(t *testing.T, all rulefmt.RuleGroups, every time.Duration, alert string, series []string, spacing, until time.Duration) []evaluator.Event {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	type expanded struct {
		lbls   labels.Labels
		values []parser.SequenceValue
	}
	var in []expanded
	for _, s := range series {
		l, vs, err := p.ParseSeriesDesc(s)
		require.NoError(t, err, s)
		in = append(in, expanded{l, vs})
	}
	needed := evaluator.Needed(all.Groups, func(r rulefmt.Rule) bool { return r.Alert == alert })
	for i := range needed {
		needed[i].Interval = prommodel.Duration(every)
	}
	ev, err := evaluator.New(needed...)
	require.NoError(t, err)
	defer ev.Close()
	feed := func(at time.Time, add func(labels.Labels, float64)) {
		i := int(at.Sub(epoch) / spacing)
		for _, s := range in {
			if i < len(s.values) && !s.values[i].Omitted && s.values[i].Histogram == nil {
				add(s.lbls, s.values[i].Value)
			}
		}
	}
	require.NoError(t, ev.Scrape(context.Background(), epoch, epoch.Add(until), spacing, feed))
	// Native histograms go straight into the storage: a feed carries floats.
	app := ev.Storage().Appender(context.Background())
	for _, s := range in {
		for i, v := range s.values {
			at := epoch.Add(time.Duration(i) * spacing)
			if v.Histogram == nil || v.Omitted || at.After(epoch.Add(until)) {
				continue
			}
			_, err := app.AppendHistogram(0, s.lbls, at.UnixMilli(), nil, v.Histogram)
			require.NoError(t, err, s.lbls.String())
		}
	}
	require.NoError(t, app.Commit())
	require.NoError(t, ev.Evaluate(context.Background(), epoch, epoch.Add(until)))
	return ev.Events
}

// readsNativeHistograms says whether a latency SLI of svc reads a native
// histogram.
func readsNativeHistograms(svc *model.Service) bool {
	for _, o := range svc.SLOs {
		if o.SLI.Latency != nil && o.SLI.Latency.Native {
			return true
		}
	}
	return false
}

func withoutName(l labels.Labels) labels.Labels {
	b := labels.NewBuilder(l)
	b.Del(labels.AlertName, prommodel.MetricNameLabel)
	return b.Labels()
}

// firingAt returns the alerts named alert firing at t, sorted by labels.
func firingAt(events []evaluator.Event, alert string, t time.Time) []evaluator.Event {
	state := map[string]evaluator.Event{}
	for _, e := range events {
		if e.Alert != alert || e.At.After(t) {
			continue
		}
		if e.State == evaluator.Resolved {
			delete(state, e.Labels.String())
			continue
		}
		state[e.Labels.String()] = e
	}
	var out []evaluator.Event
	for _, e := range state {
		if e.State == evaluator.Firing {
			out = append(out, e)
		}
	}
	sortEvents(out)
	return out
}

func sortEvents(es []evaluator.Event) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && labels.Compare(es[j].Labels, es[j-1].Labels) < 0; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// readsCoarseWindow says whether the alerting rules named alert read an
// error ratio summed from the period group's 4m tiles.
func readsCoarseWindow(svc *model.Service, groups rulefmt.RuleGroups, alert string) bool {
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != alert {
				continue
			}
			for _, o := range svc.SLOs {
				for _, w := range svc.Windows(o) {
					if svc.WindowTile(w) == model.PeriodTile && strings.Contains(r.Expr, model.ErrorRatioRecord(w)+"{") {
						return true
					}
				}
			}
		}
	}
	return false
}
