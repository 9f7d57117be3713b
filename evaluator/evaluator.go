// Package evaluator replays generated rule groups over simulated time with
// Prometheus' own engine and rule types: recording rules write back into the
// TSDB so later rules read them, and alerting rules keep their `for:` state
// exactly as a Prometheus server would.
package evaluator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/tensorwasm/obsbundle/model"
)

// State is where an alert stands after an evaluation.
type State string

// The alert states the evaluator reports.
const (
	Pending  State = "pending"
	Firing   State = "firing"
	Resolved State = "resolved"
)

// Event is an alert changing state.
type Event struct {
	At     time.Time
	Alert  string
	Labels labels.Labels
	State  State
}

// Evaluator holds a TSDB, an engine and the rule groups to replay.
type Evaluator struct {
	db     *tsdb.DB
	dir    string
	engine *promql.Engine
	groups []group
	// Filter, when set, limits which rules Run evaluates at a time (by rule
	// name): long replays can skip rules whose values only matter at the end.
	Filter func(t time.Time, name string) bool
	// Events lists alert state changes in the order they happened.
	Events []Event
	// Samples counts the samples the engine read, over all queries.
	Samples int64
}

type group struct {
	name     string
	interval time.Duration
	rules    []rules.Rule
	// last holds, per alerting rule, each active alert's state after the
	// previous evaluation, keyed by its labels.
	last map[string]map[string]tracked
	// written holds, per rule, the series its previous evaluation wrote,
	// so series that disappear get a staleness marker as in Prometheus.
	written []map[string]labels.Labels
}

type tracked struct {
	labels labels.Labels
	state  State
}

// New opens an empty in-process TSDB in a temporary directory and loads the
// rule groups. Close releases both.
func New(groups ...rulefmt.RuleGroup) (*Evaluator, error) {
	dir, err := os.MkdirTemp("", "evaluator-")
	if err != nil {
		return nil, err
	}
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = 0
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	db.DisableCompactions() // keep simulated history in the head, off disk
	e := &Evaluator{
		db:  db,
		dir: dir,
		engine: promql.NewEngine(promql.EngineOpts{
			MaxSamples: 500_000_000, Timeout: time.Hour, LookbackDelta: 5 * time.Minute,
			EnableAtModifier: true, EnableNegativeOffset: true, EnablePerStepStats: true,
		}),
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, g := range groups {
		rg := group{name: g.Name, interval: time.Duration(g.Interval), last: map[string]map[string]tracked{}}
		if rg.interval == 0 {
			rg.interval = time.Minute
		}
		for _, r := range g.Rules {
			expr, err := model.ParseExpr(r.Expr)
			if err != nil {
				e.Close()
				return nil, fmt.Errorf("group %s: %w", g.Name, err)
			}
			if r.Record != "" {
				rg.rules = append(rg.rules, rules.NewRecordingRule(r.Record, expr, labels.FromMap(r.Labels)))
				continue
			}
			rg.rules = append(rg.rules, rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
				labels.FromMap(r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "", true, logger))
		}
		rg.written = make([]map[string]labels.Labels, len(rg.rules))
		e.groups = append(e.groups, rg)
	}
	return e, nil
}

// Close stops the TSDB and removes its directory.
func (e *Evaluator) Close() error {
	err := e.db.Close()
	os.RemoveAll(e.dir)
	return err
}

// Storage is the TSDB, for queries of one's own.
func (e *Evaluator) Storage() storage.Storage { return e.db }

// Feed adds the raw samples scraped at t; add appends one sample.
type Feed func(t time.Time, add func(l labels.Labels, v float64))

// Run steps from `from` to `to` (inclusive) every `scrape`: at each step it
// appends what feed scrapes, then evaluates every group whose interval
// divides the time since `from`, in group order, as Prometheus would.
func (e *Evaluator) Run(ctx context.Context, from, to time.Time, scrape time.Duration, feed Feed) error {
	for t := from; !t.After(to); t = t.Add(scrape) {
		if feed != nil {
			if err := e.append(ctx, t, feed); err != nil {
				return err
			}
		}
		for i := range e.groups {
			if t.Sub(from)%e.groups[i].interval == 0 {
				if err := e.evalGroup(ctx, &e.groups[i], t); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (e *Evaluator) append(ctx context.Context, t time.Time, feed Feed) error {
	app := e.db.Appender(ctx)
	var err error
	feed(t, func(l labels.Labels, v float64) {
		if err == nil {
			_, err = app.Append(0, l, t.UnixMilli(), v)
		}
	})
	if err != nil {
		_ = app.Rollback()
		return fmt.Errorf("appending samples at %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	return app.Commit()
}

func (e *Evaluator) query(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
	qry, err := e.engine.NewInstantQuery(ctx, e.db, nil, q, t)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	if st := qry.Stats(); st != nil && st.Samples != nil {
		e.Samples += st.Samples.TotalSamples
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar:
		return promql.Vector{promql.Sample{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}, nil
	}
	return nil, fmt.Errorf("rule query %q returned a %s", q, res.Value.Type())
}

// QueryRange evaluates q from start to end every step, as a dashboard panel
// does, and counts the samples read.
func (e *Evaluator) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	qry, err := e.engine.NewRangeQuery(ctx, e.db, nil, q, start, end, step)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	if st := qry.Stats(); st != nil && st.Samples != nil {
		e.Samples += st.Samples.TotalSamples
	}
	m, err := res.Matrix()
	if err != nil {
		return nil, fmt.Errorf("range query %q: %w", q, err)
	}
	return m, nil
}

// Query evaluates q at t against everything stored so far.
func (e *Evaluator) Query(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
	return e.query(ctx, q, t)
}

func (e *Evaluator) evalGroup(ctx context.Context, g *group, t time.Time) error {
	for i, r := range g.rules {
		if e.Filter != nil && !e.Filter(t, r.Name()) {
			continue
		}
		vec, err := r.Eval(ctx, 0, t, e.query, nil, 0)
		if err != nil {
			return fmt.Errorf("group %s, rule %s at %s: %w", g.name, r.Name(), t.UTC().Format(time.RFC3339), err)
		}
		if err := e.store(ctx, g, i, vec, t); err != nil {
			return err
		}
		if ar, ok := r.(*rules.AlertingRule); ok {
			e.track(g, ar, t)
		}
	}
	return nil
}

// store writes a rule's output back, so later rules and queries read it,
// and marks stale the series the rule wrote last time but not now, as a
// Prometheus rule group does: without the marker a vanished value would
// linger for the 5m lookback and delay every alert reading it.
func (e *Evaluator) store(ctx context.Context, g *group, rule int, vec promql.Vector, t time.Time) error {
	app := e.db.Appender(ctx)
	now := make(map[string]labels.Labels, len(vec))
	for _, s := range vec {
		now[s.Metric.String()] = s.Metric
		if _, err := app.Append(0, s.Metric, s.T, s.F); err != nil {
			_ = app.Rollback()
			return err
		}
	}
	for key, l := range g.written[rule] {
		if _, ok := now[key]; !ok {
			if _, err := app.Append(0, l, t.UnixMilli(), math.Float64frombits(value.StaleNaN)); err != nil {
				_ = app.Rollback()
				return err
			}
		}
	}
	g.written[rule] = now
	return app.Commit()
}

// track turns the rule's active alerts into state-change events.
func (e *Evaluator) track(g *group, r *rules.AlertingRule, t time.Time) {
	last := g.last[r.Name()]
	if last == nil {
		last = map[string]tracked{}
		g.last[r.Name()] = last
	}
	seen := map[string]bool{}
	for _, a := range r.ActiveAlerts() {
		key := a.Labels.String()
		seen[key] = true
		st := Pending
		if a.State == rules.StateFiring {
			st = Firing
		}
		if last[key].state != st {
			e.Events = append(e.Events, Event{At: t, Alert: r.Name(), Labels: a.Labels, State: st})
			last[key] = tracked{labels: a.Labels, state: st}
		}
	}
	keys := make([]string, 0, len(last))
	for key := range last {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if !seen[key] {
			e.Events = append(e.Events, Event{At: t, Alert: r.Name(), Labels: last[key].labels, State: Resolved})
			delete(last, key)
		}
	}
}
