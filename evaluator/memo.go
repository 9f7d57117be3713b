package evaluator

import (
	"context"
	"math"
	"sort"
	"strconv"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"

	"github.com/tensorwasm/obsbundle/model"
)

// The ALERTS-reading rules of a group are evaluated many times over a
// window: twice each as range queries for their gates, then step by step.
// Parts of them read only series no rule writes (an SLO's page alerts all
// ask whether its raw series are absent), and those parts evaluate to the
// same values every time. Each such part is evaluated once per window, as
// a range query on the group's steps, and the rules then read its result
// through a selector of memoLabel, which yields at every step exactly the
// part's samples and labels (a staleness marker ends each run, so the
// lookback adds nothing).

// memoLabel selects a memoized part of an expression by its number.
const memoLabel = "__memo__"

// memoize evaluates the parts of the rules' queries that read only series
// no rule writes, over [from, to] every step, and returns each rule's query
// with those parts replaced by selectors of their results. A part that
// yields histograms stays as it is.
func (e *Evaluator) memoize(ctx context.Context, rs []*rules.AlertingRule, from, to time.Time, step time.Duration) ([]string, error) {
	exprs := make([]parser.Expr, len(rs))
	var parts []string
	seen := map[string]bool{}
	for i, r := range rs {
		expr, err := model.ParseExpr(r.Query().String())
		if err != nil {
			return nil, err
		}
		exprs[i] = expr
		// Every memoizable part, nested ones too, so that parts shared
		// inside larger ones are evaluated once.
		e.replaceParts(expr.String(), true, func(part string) (string, bool) {
			if !seen[part] {
				seen[part] = true
				parts = append(parts, part)
			}
			return "", false
		})
	}
	if e.memo == nil {
		e.memo = map[string][]promql.Series{}
	}
	// Shorter parts first: a longer part that holds one reads its result.
	sort.SliceStable(parts, func(i, j int) bool { return len(parts[i]) < len(parts[j]) })
	ids := map[string]string{}
	known := func(part string) (string, bool) {
		id, ok := ids[part]
		return id, ok
	}
	stale := math.Float64frombits(value.StaleNaN)
	for _, part := range parts {
		m, err := e.QueryRange(ctx, e.replaceParts(part, false, known), from, to, step)
		if err != nil {
			return nil, err
		}
		floats := true
		for i, s := range m {
			if len(s.Histograms) > 0 {
				floats = false
				break
			}
			var pts []promql.FPoint
			for _, p := range s.Floats {
				if n := len(pts); n > 0 && p.T-pts[n-1].T > step.Milliseconds() {
					pts = append(pts, promql.FPoint{T: pts[n-1].T + step.Milliseconds(), F: stale})
				}
				pts = append(pts, p)
			}
			if n := len(pts); n > 0 && pts[n-1].T < to.UnixMilli() {
				pts = append(pts, promql.FPoint{T: pts[n-1].T + step.Milliseconds(), F: stale})
			}
			m[i].Floats = pts
		}
		if floats {
			id := strconv.Itoa(len(ids))
			ids[part] = id
			e.memo[id] = m
		}
	}
	queries := make([]string, len(rs))
	for i, expr := range exprs {
		queries[i] = e.replaceParts(expr.String(), true, known)
	}
	return queries, nil
}

// replaceParts parses q and replaces its largest memoizable parts that
// memo knows by selectors of their ids (q itself only if whole). memo is
// asked about every memoizable part, outer ones first. Subqueries and range
// selectors are left whole: their insides are evaluated at other steps.
func (e *Evaluator) replaceParts(q string, whole bool, memo func(part string) (id string, ok bool)) string {
	expr, err := model.ParseExpr(q)
	if err != nil {
		return q
	}
	root := expr
	var walk func(n parser.Expr) parser.Expr
	walk = func(n parser.Expr) parser.Expr {
		if (whole || n != root) && e.memoizable(n) {
			if id, ok := memo(n.String()); ok {
				return &parser.VectorSelector{LabelMatchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, memoLabel, id)}}
			}
		}
		switch n := n.(type) {
		case *parser.AggregateExpr:
			n.Expr = walk(n.Expr)
			if n.Param != nil {
				n.Param = walk(n.Param)
			}
		case *parser.BinaryExpr:
			n.LHS, n.RHS = walk(n.LHS), walk(n.RHS)
		case *parser.Call:
			for i := range n.Args {
				n.Args[i] = walk(n.Args[i])
			}
		case *parser.ParenExpr:
			n.Expr = walk(n.Expr)
		case *parser.UnaryExpr:
			n.Expr = walk(n.Expr)
		}
		return n
	}
	return walk(expr).String()
}

// memoizable says whether n is an instant vector computed (not merely
// selected) from series that are all named, and named by no rule's output.
func (e *Evaluator) memoizable(n parser.Expr) bool {
	if n.Type() != parser.ValueTypeVector {
		return false
	}
	if _, ok := n.(*parser.VectorSelector); ok {
		return false
	}
	selects, ok := false, true
	parser.Inspect(n, func(c parser.Node, _ []parser.Node) error {
		vs, isVS := c.(*parser.VectorSelector)
		if !isVS {
			return nil
		}
		selects = true
		name := ""
		for _, m := range vs.LabelMatchers {
			if m.Name == prommodel.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" || e.written[name] {
			ok = false
		}
		return nil
	})
	return selects && ok
}

// selectMemo returns a memoized part's series, with their own labels.
func (e *Evaluator) selectMemo(id string, mint, maxt int64) storage.SeriesSet {
	var out []storage.Series
	for _, s := range e.memo[id] {
		lo, hi := 0, len(s.Floats)
		for lo < hi && s.Floats[lo].T < mint {
			lo++
		}
		for hi > lo && s.Floats[hi-1].T > maxt {
			hi--
		}
		out = append(out, promql.NewStorageSeries(promql.Series{Metric: s.Metric, Floats: s.Floats[lo:hi]}))
	}
	return &rawSet{series: out, i: -1}
}
