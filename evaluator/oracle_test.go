package evaluator_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	promrules "github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/sim"
)

// The evaluator runs each rule once as a range query and writes results
// back; Prometheus' rule groups evaluate every rule at every step. Both must
// record the same values and raise the same alerts. The reference here is
// Prometheus' own rule manager, group by group at every evaluation in file
// order (as promtool does), over the same simulated traffic; every group
// runs at the evaluation interval so both evaluate the same timestamps.
func TestRecordedValuesAndAlertsMatchPrometheusRuleGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("replays three hours twice")
	}
	for _, mode := range []model.AlertingMode{model.RatioAlerting, model.BudgetAlerting} {
		t.Run(string(mode), func(t *testing.T) {
			s := catalog.TensorWasm()
			svc := &s.Services[0]
			for i := range svc.SLOs {
				svc.SLOs[i].Alerting = mode
			}
			require.NoError(t, s.Validate())
			groups, err := rules.Build(svc, s.Version)
			require.NoError(t, err)
			every := svc.EvaluationInterval.Std()
			ctx := context.Background()
			epoch := time.Unix(0, 0).UTC()
			end := epoch.Add(3 * time.Hour)
			const scrape = 15 * time.Second
			scenario := func() *sim.Scenario {
				// The first outage falls in the slow tier's warm-up: its
				// page resolves before the slow tier may fire, which then
				// cools down (rules/incident.go).
				return catalog.Simulation(epoch, sim.Constant(5),
					sim.Incident{Start: 2 * time.Minute, Duration: 5 * time.Minute, ErrorRatio: 1},
					sim.Incident{Start: time.Hour, Duration: 40 * time.Minute, ErrorRatio: 0.3},
					sim.Incident{Start: 90 * time.Minute, Duration: 20 * time.Minute, SlowRatio: 0.5, Routes: []string{"/invoke"}})
			}

			ev, err := evaluator.New(groups.Groups...)
			require.NoError(t, err)
			defer ev.Close()
			require.NoError(t, ev.Run(ctx, epoch, end, scrape, scenario().Scrape))

			// The reference: the same raw samples, Prometheus' rule groups.
			st := teststorage.New(t)
			app := st.Appender(ctx)
			sc := scenario()
			for at := epoch; !at.After(end); at = at.Add(scrape) {
				sc.Scrape(at, func(l labels.Labels, v float64) {
					_, err := app.Append(0, l, at.UnixMilli(), v)
					require.NoError(t, err)
				})
			}
			require.NoError(t, app.Commit())
			data, err := rules.Render(groups)
			require.NoError(t, err)
			file := filepath.Join(t.TempDir(), "rules.yaml")
			require.NoError(t, os.WriteFile(file, data, 0o644))
			engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e9, Timeout: time.Hour, LookbackDelta: 5 * time.Minute})
			m := promrules.NewManager(&promrules.ManagerOptions{
				QueryFunc:    promrules.EngineQueryFunc(engine, st),
				AppendableV2: st,
				Queryable:    st,
				Context:      ctx,
				NotifyFunc:   func(context.Context, string, ...*promrules.Alert) {},
				Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			loaded, errs := m.LoadGroups(every, labels.EmptyLabels(), "", nil, false, file)
			require.Empty(t, errs)
			var ordered []*promrules.Group
			for _, g := range groups.Groups {
				for _, lg := range loaded {
					if lg.Name() == g.Name {
						ordered = append(ordered, lg)
						for _, r := range lg.Rules() {
							if ar, ok := r.(*promrules.AlertingRule); ok {
								ar.SetRestored(true)
							}
						}
					}
				}
			}
			require.Len(t, ordered, len(groups.Groups))
			// Each group runs at its own interval, as on a server (the period
			// group every 4m), in file order at a shared timestamp.
			for at := epoch; !at.After(end); at = at.Add(every) {
				for _, g := range ordered {
					if at.Sub(epoch)%g.Interval() == 0 {
						g.Eval(ctx, at)
					}
				}
			}

			query := func(q string, at time.Time) map[string]float64 {
				qry, err := engine.NewInstantQuery(ctx, st, nil, q, at)
				require.NoError(t, err)
				defer qry.Close()
				res := qry.Exec(ctx)
				require.NoError(t, res.Err)
				v, err := res.Vector()
				require.NoError(t, err)
				out := map[string]float64{}
				for _, s := range v {
					out[s.Metric.String()] = s.F
				}
				return out
			}
			compared, alerts := 0, 0
			// Off the 4m period boundaries: there the rule manager runs the
			// fast group before the period group it reads, where the
			// evaluator runs every writer first.
			for _, offset := range []time.Duration{6 * time.Minute, 10 * time.Minute, 33 * time.Minute, 37 * time.Minute, 59 * time.Minute, 65 * time.Minute, 81 * time.Minute, 101 * time.Minute, 121 * time.Minute, 150 * time.Minute, 179 * time.Minute} {
				at := epoch.Add(offset)
				for _, q := range []string{`{__name__=~"slo:.+"}`, `ALERTS`} {
					want := query(q, at)
					if q == `ALERTS` {
						alerts += len(want)
					}
					gotV, err := ev.Query(ctx, q, at)
					require.NoError(t, err)
					got := map[string]float64{}
					for _, s := range gotV {
						got[s.Metric.String()] = s.F
					}
					require.Len(t, got, len(want), "%s at %s", q, offset)
					for k, w := range want {
						g, ok := got[k]
						require.True(t, ok, "%s at %s: the evaluator has no %s", q, offset, k)
						require.InDelta(t, w, g, 1e-9*math.Max(1, math.Abs(w)), "%s at %s", k, offset)
						compared++
					}
				}
			}
			require.Greater(t, compared, 100)
			require.Positive(t, alerts, "the incidents raise alerts")
			t.Logf("%d values compared, %d of them alerts", compared, alerts)
		})
	}
}
