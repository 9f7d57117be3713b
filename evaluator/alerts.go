package evaluator

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"

	"github.com/tensorwasm/obsbundle/model"
)

// Alerting rules that read ALERTS (an SLO's page alerts hold and exclude
// each other through it) depend on their own results of the previous
// evaluation, so one range query cannot replay them. They are replayed
// together, step by step, in group order, each step's ALERTS stored before
// the next rule reads it, as a Prometheus rule group does.
//
// Stepping through a month with instant queries would be slow, so a step
// is only evaluated where the rule could yield anything: where it was
// active at the step before, or where it yields with none of its own alerts
// (it has none while inactive) and either none or all of the others firing
// (each ALERTS selector, or function of ALERTS over a range, replaced by
// nothing or by one sample). That holds for any rule in which each such
// operand of and, or or unless either gates a result on the rule's own
// alert or only takes results away, as the generated rules do; a rule that
// reads ALERTS otherwise is evaluated at every step.

const alertsSeries = "ALERTS"

// readsAlerts says whether r's expression selects ALERTS.
func readsAlerts(r rules.Rule) bool {
	found := false
	parser.Inspect(r.Query(), func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name == alertsSeries {
			found = true
		}
		return nil
	})
	return found
}

// cluster replays the ALERTS-reading alerting rules of one group.
func (e *Evaluator) cluster(ctx context.Context, g group, rs []*rules.AlertingRule, from, to time.Time) error {
	queries, err := e.memoize(ctx, rs, from, to, g.interval)
	defer clear(e.memo)
	if err != nil {
		return err
	}
	gates := make([]map[int64]bool, len(rs))
	for i, r := range rs {
		gate, err := e.gate(ctx, ownLabels(r), queries[i], from, to, g.interval)
		if err != nil {
			return err
		}
		gates[i] = gate
	}
	written := make([]map[string]labels.Labels, len(rs))
	for i := range written {
		written[i] = map[string]labels.Labels{}
	}
	for t := from; !t.After(to); t = t.Add(g.interval) {
		for i, r := range rs {
			active := len(r.ActiveAlerts()) > 0 || len(written[i]) > 0
			if !active && gates[i] != nil && !gates[i][t.UnixMilli()] {
				continue
			}
			vec, err := e.Query(ctx, queries[i], t)
			if err != nil {
				return err
			}
			query := func(context.Context, string, time.Time) (promql.Vector, error) { return vec, nil }
			out, err := r.Eval(ctx, 0, t, query, nil, 0)
			if err != nil {
				return err
			}
			if err := e.store(ctx, out, written[i], t); err != nil {
				return err
			}
			e.track(r, t)
		}
	}
	for _, r := range rs {
		delete(e.last, r)
	}
	return nil
}

// gate returns the steps at which the alert's query q may yield a sample,
// or nil when any step may.
func (e *Evaluator) gate(ctx context.Context, own labels.Labels, q string, from, to time.Time, step time.Duration) (map[int64]bool, error) {
	gate := map[int64]bool{}
	for _, with := range []string{none, "vector(1)"} {
		q, ok := substituteAlerts(q, own, with)
		if !ok {
			return nil, nil
		}
		m, err := e.QueryRange(ctx, q, from, to, step)
		if err != nil {
			return nil, err
		}
		for _, s := range m {
			for _, p := range s.Floats {
				gate[p.T] = true
			}
		}
	}
	return gate, nil
}

// none is an instant vector without samples.
const none = "vector(0) < 0"

// ownLabels are the labels r's alerts carry for certain: its name and its
// rule labels (tiers that share a name differ in these).
func ownLabels(r *rules.AlertingRule) labels.Labels {
	b := labels.NewBuilder(r.Labels())
	b.Set(labels.AlertName, r.Name())
	return b.Labels()
}

// substituteAlerts replaces every ALERTS selector of expr that is an operand
// of and, or or unless: by nothing if it may select the alerts of the rule
// whose labels are own, by the expression with otherwise.
func substituteAlerts(expr string, own labels.Labels, with string) (string, bool) {
	root, err := model.ParseExpr(expr)
	if err != nil {
		return "", false
	}
	sub, err := model.ParseExpr(with)
	if err != nil {
		return "", false
	}
	empty, err := model.ParseExpr(none)
	if err != nil {
		return "", false
	}
	ok := true
	var walk func(n parser.Node)
	walk = func(n parser.Node) {
		if b, isBin := n.(*parser.BinaryExpr); isBin && b.Op.IsSetOperator() {
			for _, side := range []*parser.Expr{&b.LHS, &b.RHS} {
				if vs := alertsOperand(*side); vs != nil {
					*side = &parser.ParenExpr{Expr: sub}
					if selects(vs, own) {
						*side = &parser.ParenExpr{Expr: empty}
					}
				}
			}
		}
		if vs, isVS := n.(*parser.VectorSelector); isVS && vs.Name == alertsSeries {
			ok = false // ALERTS read some other way
		}
		for _, c := range parser.Children(n) {
			walk(c)
		}
	}
	walk(root)
	return root.String(), ok
}

// alertsOperand returns the ALERTS selector that n reads, when n is one, or
// a function of ALERTS over a range (max_over_time(ALERTS{...}[30m]): an
// alert fired lately); nil otherwise.
func alertsOperand(n parser.Node) *parser.VectorSelector {
	if c, ok := n.(*parser.Call); ok && len(c.Args) == 1 {
		if ms, ok := c.Args[0].(*parser.MatrixSelector); ok {
			n = ms.VectorSelector
		}
	}
	if vs, ok := n.(*parser.VectorSelector); ok && vs.Name == alertsSeries {
		return vs
	}
	return nil
}

// selects says whether ALERTS selector vs may select alerts labelled own
// (labels own does not fix, such as alertstate, may match).
func selects(vs *parser.VectorSelector, own labels.Labels) bool {
	for _, m := range vs.LabelMatchers {
		if own.Has(m.Name) && !m.Matches(own.Get(m.Name)) {
			return false
		}
	}
	return true
}
