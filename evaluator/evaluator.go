// Package evaluator replays generated rule groups over simulated time with
// Prometheus' own engine and rule types.
//
// Like promtool's rule backfilling, it evaluates each rule once for the
// whole span, as a range query stepping at its group's interval, in the
// order Prometheus runs them; recording rules write their results back
// (with staleness markers where a series ends) before later rules read
// them. Alerting rules are stepped through Prometheus' own AlertingRule,
// fed from the range result, so `for:` behaves exactly as on a server. A
// range query shares work between steps, which makes a month of
// evaluations take seconds rather than minutes.
package evaluator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

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
	// Annotations are expanded from the rule's templates at that time.
	Annotations labels.Labels
	Value       float64
	State       State
}

// Evaluator holds a TSDB, an engine and the rule groups to replay.
type Evaluator struct {
	db     *tsdb.DB
	dir    string
	engine *promql.Engine
	groups []group
	// Events lists alert state changes in time order.
	Events []Event
	// Samples counts the samples the engine read, over all queries.
	Samples int64

	last map[*rules.AlertingRule]map[string]tracked
	// raw, when set, holds the raw series rules read; written names the
	// series the rules write, which are always read from db.
	raw     *Raw
	written map[string]bool
	mu      sync.Mutex // guards Samples, counted by concurrent queries
	// memo holds the memoized parts of the rules being replayed (memo.go).
	memo map[string][]promql.Series
}

type group struct {
	name     string
	interval time.Duration
	rules    []rules.Rule
}

// alertsReaders are the group's alerting rules that read ALERTS, in order.
func (g group) alertsReaders() []*rules.AlertingRule {
	var out []*rules.AlertingRule
	for _, r := range g.rules {
		if a, ok := r.(*rules.AlertingRule); ok && readsAlerts(a) {
			out = append(out, a)
		}
	}
	return out
}

// New opens an empty in-process TSDB in a temporary directory and loads the
// rule groups. Close releases both.
func New(groups ...rulefmt.RuleGroup) (*Evaluator, error) {
	dir, err := os.MkdirTemp("", "evaluator-")
	if err != nil {
		return nil, err
	}
	// Rule results are written after the raw data they read, each series
	// in time order; a block range wider than any replay keeps them within
	// the head's appendable window.
	opts := tsdb.DefaultOptions()
	opts.MinBlockDuration = (400 * 24 * time.Hour).Milliseconds()
	opts.MaxBlockDuration = opts.MinBlockDuration
	// Longer chunks make month-long windows cheaper to iterate.
	opts.SamplesPerChunk = 1000
	// A replay holds few series and need not survive a crash: small
	// stripes and no write-ahead log make opening one cheap.
	opts.StripeSize = 64
	opts.WALSegmentSize = -1
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
			MaxSamples: 1_000_000_000, Timeout: time.Hour, LookbackDelta: 5 * time.Minute,
			EnableAtModifier: true, EnableNegativeOffset: true,
		}),
	}
	e.written = map[string]bool{alertsSeries: true, "ALERTS_FOR_STATE": true}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, g := range groups {
		rg := group{name: g.Name, interval: time.Duration(g.Interval)}
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
				e.written[r.Record] = true
				rg.rules = append(rg.rules, rules.NewRecordingRule(r.Record, expr, labels.FromMap(r.Labels)))
				continue
			}
			rg.rules = append(rg.rules, rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
				labels.FromMap(r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "", true, logger))
		}
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

// Storage is the TSDB, for queries and data of one's own.
func (e *Evaluator) Storage() storage.Storage { return e.db }

// ReadRaw makes the rules read the series r holds from r rather than from
// Storage (recorded series and ALERTS still come from Storage). r may be
// shared by several evaluators and appended to while they replay, ahead of
// the range being evaluated.
func (e *Evaluator) ReadRaw(r *Raw) { e.raw = r }

// Feed adds the raw samples scraped at t; add appends one sample.
type Feed func(t time.Time, add func(l labels.Labels, v float64))

// Run scrapes feed every `scrape` from `from` to `to` (inclusive), then
// evaluates every group at each multiple of its interval since `from`.
func (e *Evaluator) Run(ctx context.Context, from, to time.Time, scrape time.Duration, feed Feed) error {
	if err := e.Scrape(ctx, from, to, scrape, feed); err != nil {
		return err
	}
	return e.Evaluate(ctx, from, to)
}

// HistogramFeed adds the native histograms scraped at t, after the Feed of
// the same scrape has reported its samples.
type HistogramFeed func(t time.Time, add func(l labels.Labels, h *histogram.FloatHistogram))

// Scrape appends what feed reports every `scrape` from `from` to `to`.
func (e *Evaluator) Scrape(ctx context.Context, from, to time.Time, scrape time.Duration, feed Feed) error {
	return e.ScrapeHistograms(ctx, from, to, scrape, feed, nil)
}

// ScrapeHistograms is Scrape with native histograms: at every scrape,
// histograms (if not nil) reports them after feed has reported the samples.
func (e *Evaluator) ScrapeHistograms(ctx context.Context, from, to time.Time, scrape time.Duration, feed Feed, histograms HistogramFeed) error {
	app := e.db.Appender(ctx)
	var err error
	n := 0
	for t := from; !t.After(to) && err == nil; t = t.Add(scrape) {
		ms := t.UnixMilli()
		feed(t, func(l labels.Labels, v float64) {
			if err == nil {
				_, err = app.Append(0, l, ms, v)
			}
		})
		if histograms != nil {
			histograms(t, func(l labels.Labels, h *histogram.FloatHistogram) {
				if err == nil {
					_, err = app.AppendHistogram(0, l, ms, nil, h.Copy())
				}
			})
		}
		if n++; n%500 == 0 && err == nil {
			err = app.Commit()
			app = e.db.Appender(ctx)
		}
	}
	if err != nil {
		_ = app.Rollback()
		return fmt.Errorf("appending scraped samples: %w", err)
	}
	return app.Commit()
}

// Evaluate runs every rule over [from, to], each after the rules whose
// results it reads. On a server a rule reads another group's results as of
// its last evaluation; replaying the writer first gives the reader exactly
// those values.
func (e *Evaluator) Evaluate(ctx context.Context, from, to time.Time) error {
	order, err := e.order()
	if err != nil {
		return err
	}
	// The ALERTS-reading alerting rules of a group replay together, once
	// every rule any of them reads has been replayed (alerts.go).
	last := map[string]int{}
	for i, gr := range order {
		if _, isAlert := gr.r.(*rules.AlertingRule); isAlert && readsAlerts(gr.r) {
			last[gr.g.name] = i
		}
	}
	for i, gr := range order {
		if _, isAlert := gr.r.(*rules.AlertingRule); isAlert && readsAlerts(gr.r) {
			if last[gr.g.name] == i {
				if err := e.cluster(ctx, gr.g, gr.g.alertsReaders(), from, to); err != nil {
					return fmt.Errorf("group %s: %w", gr.g.name, err)
				}
			}
			continue
		}
		if err := e.evalRule(ctx, gr.g, gr.r, from, to); err != nil {
			return fmt.Errorf("group %s, rule %s: %w", gr.g.name, gr.r.Name(), err)
		}
	}
	sort.SliceStable(e.Events, func(i, j int) bool { return e.Events[i].At.Before(e.Events[j].At) })
	return nil
}

type groupRule struct {
	g group
	r rules.Rule
}

// order sorts the rules so that each comes after every recording rule it
// reads, keeping file order otherwise.
func (e *Evaluator) order() ([]groupRule, error) {
	var all []groupRule
	writers := map[string][]int{}
	for _, g := range e.groups {
		for _, r := range g.rules {
			if rr, ok := r.(*rules.RecordingRule); ok {
				writers[rr.Name()] = append(writers[rr.Name()], len(all))
			}
			all = append(all, groupRule{g, r})
		}
	}
	state := make([]int, len(all)) // 0 new, 1 visiting, 2 done
	var out []groupRule
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("rule %s depends on itself", all[i].r.Name())
		case 2:
			return nil
		}
		state[i] = 1
		var err error
		parser.Inspect(all[i].r.Query(), func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && err == nil {
				for _, w := range writers[vs.Name] {
					if w != i {
						err = visit(w)
					}
				}
			}
			return nil
		})
		state[i] = 2
		out = append(out, all[i])
		return err
	}
	for i := range all {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *Evaluator) evalRule(ctx context.Context, g group, r rules.Rule, from, to time.Time) error {
	switch r := r.(type) {
	case *rules.RecordingRule:
		m, err := e.QueryRange(ctx, r.Query().String(), from, to, g.interval)
		if err != nil {
			return err
		}
		return e.record(ctx, r, m, g.interval, to)
	case *rules.AlertingRule:
		m, err := e.QueryRange(ctx, r.Query().String(), from, to, g.interval)
		if err != nil {
			return err
		}
		return e.alert(ctx, r, byStep(m), from, to, g.interval)
	}
	return fmt.Errorf("unknown rule type %T", r)
}

// record writes a recording rule's range result as Prometheus would have
// written it step by step: each series renamed and given the rule's labels
// (what RecordingRule.Eval does), a staleness marker at the first step a
// series is missing.
func (e *Evaluator) record(ctx context.Context, r *rules.RecordingRule, m promql.Matrix, step time.Duration, to time.Time) error {
	app := e.db.Appender(ctx)
	lb := labels.NewBuilder(labels.EmptyLabels())
	seen := map[string]bool{}
	stale := math.Float64frombits(value.StaleNaN)
	for _, s := range m {
		lb.Reset(s.Metric)
		lb.Set(prommodel.MetricNameLabel, r.Name())
		r.Labels().Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		out := lb.Labels()
		if key := out.String(); seen[key] {
			_ = app.Rollback()
			return fmt.Errorf("vector contains metrics with the same labelset after applying rule labels: %s", key)
		} else {
			seen[key] = true
		}
		var ref storage.SeriesRef
		prev := int64(math.MinInt64)
		var err error
		for _, p := range s.Floats {
			if prev != math.MinInt64 && p.T-prev > step.Milliseconds() {
				if ref, err = app.Append(ref, out, prev+step.Milliseconds(), stale); err != nil {
					break
				}
			}
			if ref, err = app.Append(ref, out, p.T, p.F); err != nil {
				break
			}
			prev = p.T
		}
		if err == nil && prev != math.MinInt64 && prev < to.UnixMilli() {
			_, err = app.Append(ref, out, prev+step.Milliseconds(), stale)
		}
		if err != nil {
			_ = app.Rollback()
			return err
		}
	}
	return app.Commit()
}

// alert steps Prometheus' AlertingRule through the range result. Steps
// where the condition is false and no alert is active change nothing, so
// they are skipped.
func (e *Evaluator) alert(ctx context.Context, r *rules.AlertingRule, at map[int64]promql.Vector, from, to time.Time, step time.Duration) error {
	written := map[string]labels.Labels{}
	for t := from; !t.After(to); t = t.Add(step) {
		vec := at[t.UnixMilli()]
		if len(vec) == 0 && len(r.ActiveAlerts()) == 0 && len(written) == 0 {
			continue
		}
		query := func(context.Context, string, time.Time) (promql.Vector, error) { return vec, nil }
		out, err := r.Eval(ctx, 0, t, query, nil, 0)
		if err != nil {
			return err
		}
		if err := e.store(ctx, out, written, t); err != nil {
			return err
		}
		e.track(r, t)
	}
	delete(e.last, r)
	return nil
}

// byStep turns a range result into the instant vector of every step.
func byStep(m promql.Matrix) map[int64]promql.Vector {
	at := map[int64]promql.Vector{}
	for _, s := range m {
		for _, p := range s.Floats {
			at[p.T] = append(at[p.T], promql.Sample{T: p.T, F: p.F, Metric: s.Metric})
		}
	}
	return at
}

// store writes a rule's output back, so later rules and queries read it,
// and marks stale the series it wrote last time but not now, as a
// Prometheus rule group does: without the marker a vanished value would
// linger for the 5m lookback and delay every alert reading it.
func (e *Evaluator) store(ctx context.Context, vec promql.Vector, written map[string]labels.Labels, t time.Time) error {
	app := e.db.Appender(ctx)
	now := make(map[string]labels.Labels, len(vec))
	for _, s := range vec {
		now[s.Metric.String()] = s.Metric
		if _, err := app.Append(0, s.Metric, t.UnixMilli(), s.F); err != nil {
			_ = app.Rollback()
			return err
		}
	}
	for key, l := range written {
		if _, ok := now[key]; !ok {
			if _, err := app.Append(0, l, t.UnixMilli(), math.Float64frombits(value.StaleNaN)); err != nil {
				_ = app.Rollback()
				return err
			}
			delete(written, key)
		}
	}
	for k, l := range now {
		written[k] = l
	}
	return app.Commit()
}

// QueryRange evaluates q from start to end every step, as a dashboard panel
// does, and counts the samples read.
//
// A long range is cut into one part per core, evaluated at once: the
// engine evaluates every step on its own, so the parts' results, joined,
// are the whole range's. Queries that read the range's own bounds (@
// start(), @ end()) are not cut.
func (e *Evaluator) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	steps := int(end.Sub(start)/step) + 1
	parts := min(runtime.GOMAXPROCS(0), steps/minPartSteps)
	if parts <= 1 || readsBounds(q) {
		return e.queryRange(ctx, q, start, end, step)
	}
	results := make([]promql.Matrix, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		from := start.Add(time.Duration(i*steps/parts) * step)
		to := start.Add(time.Duration((i+1)*steps/parts-1) * step)
		wg.Go(func() { results[i], errs[i] = e.queryRange(ctx, q, from, to, step) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out promql.Matrix
	index := map[string]int{}
	var buf []byte
	for _, m := range results {
		for _, s := range m {
			buf = s.Metric.Bytes(buf)
			i, ok := index[string(buf)]
			if !ok {
				i = len(out)
				index[string(buf)] = i
				out = append(out, promql.Series{Metric: s.Metric})
			}
			out[i].Floats = append(out[i].Floats, s.Floats...)
			out[i].Histograms = append(out[i].Histograms, s.Histograms...)
		}
	}
	sort.Sort(out)
	return out, nil
}

// minPartSteps is the fewest steps worth a part of a range query of their
// own.
const minPartSteps = 60

// readsBounds says whether q uses @ start() or @ end(), whose value is the
// range's.
func readsBounds(q string) bool {
	expr, err := model.ParseExpr(q)
	if err != nil {
		return true // the engine reports it
	}
	found := false
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			found = found || n.StartOrEnd != 0
		case *parser.SubqueryExpr:
			found = found || n.StartOrEnd != 0
		}
		return nil
	})
	return found
}

func (e *Evaluator) queryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	qry, err := e.engine.NewRangeQuery(ctx, queryable{e}, nil, q, start, end, step)
	var out promql.Matrix
	err = e.exec(ctx, qry, err, func(res *promql.Result) error {
		m, err := res.Matrix()
		if err != nil {
			return fmt.Errorf("range query %q: %w", q, err)
		}
		out = make(promql.Matrix, len(m))
		for i, s := range m {
			out[i] = promql.Series{Metric: s.Metric, Floats: slices.Clone(s.Floats), Histograms: slices.Clone(s.Histograms)}
		}
		return nil
	})
	return out, err
}

// Query evaluates q at t against everything stored so far.
func (e *Evaluator) Query(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
	qry, err := e.engine.NewInstantQuery(ctx, queryable{e}, nil, q, t)
	var out promql.Vector
	err = e.exec(ctx, qry, err, func(res *promql.Result) error {
		switch v := res.Value.(type) {
		case promql.Vector:
			out = slices.Clone(v)
		case promql.Scalar:
			out = promql.Vector{promql.Sample{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}
		default:
			return fmt.Errorf("query %q returned a %s", q, res.Value.Type())
		}
		return nil
	})
	return out, err
}

// exec runs a query just created (or the error creating it), hands its
// result to use, closes it and counts the samples it read. The engine
// returns a result's point slices to shared pools when the query closes,
// where any other query, in any goroutine, may reuse them: use copies what
// it keeps.
func (e *Evaluator) exec(ctx context.Context, qry promql.Query, err error, use func(*promql.Result) error) error {
	if err != nil {
		return err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return res.Err
	}
	e.count(qry)
	return use(res)
}

func (e *Evaluator) count(q promql.Query) {
	if st := q.Stats(); st != nil && st.Samples != nil {
		e.mu.Lock()
		e.Samples += st.Samples.TotalSamples
		e.mu.Unlock()
	}
}

// tracked is an active alert's state after the previous step.
type tracked struct {
	labels labels.Labels
	state  State
}

// track turns the rule's active alerts into state-change events.
func (e *Evaluator) track(r *rules.AlertingRule, t time.Time) {
	if e.last == nil {
		e.last = map[*rules.AlertingRule]map[string]tracked{}
	}
	last := e.last[r]
	if last == nil {
		last = map[string]tracked{}
		e.last[r] = last
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
			e.Events = append(e.Events, Event{At: t, Alert: r.Name(), Labels: a.Labels, Annotations: a.Annotations, Value: a.Value, State: st})
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
