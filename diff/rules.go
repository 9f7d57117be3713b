package diff

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// rule is one recording or alerting rule as a reviewer compares it.
type rule struct {
	name, group, interval string
	expr                  string // parsed and printed, so spacing never shows as a change
	forDuration           string
	labels, annotations   map[string]string
	// tier facts of an alert, read from its expression: a budget tier
	// names its factor, a ratio tier its threshold (factor x budget).
	windows           []string
	factor, threshold float64
}

// sloFacts are an SLO's objective and period, read from the constants and
// windows its rules record.
type sloFacts struct{ objective, budget, period string }

type ruleSet struct {
	records, alerts map[string]rule      // by name{service=...,slo=...}
	slos            map[string]*sloFacts // by service/slo
}

// versionLabels change with every release by design; the report's header
// shows the versions, so they are not listed as label changes.
var versionLabels = map[string]bool{model.LabelVersion: true, model.LabelGenerator: true}

func (b *bundle) readRules(data []byte) error {
	groups, err := rules.Parse(data)
	if err != nil {
		return err
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			expr, err := model.ParseExpr(r.Expr)
			if err != nil {
				return fmt.Errorf("group %s, rule %s%s: expression does not parse: %w", g.Name, r.Record, r.Alert, err)
			}
			b.reads(expr)
			x := rule{name: r.Record + r.Alert, group: g.Name, interval: g.Interval.String(), expr: expr.String(),
				forDuration: r.For.String(), labels: withoutVersion(r.Labels), annotations: r.Annotations}
			key := identity(x.name, r.Labels)
			if r.Record != "" {
				b.rules.recordFacts(x, r.Labels, expr)
				put(b.rules.records, key, x)
				continue
			}
			x.windows = windowsOf(expr)
			x.factor, x.threshold = factorOf(expr)
			put(b.rules.alerts, key, x)
		}
	}
	return nil
}

// put stores a rule under key, numbering the key of a second rule with
// the same identity so neither hides the other.
func put(m map[string]rule, key string, x rule) {
	k := key
	for i := 2; ; i++ {
		if _, taken := m[k]; !taken {
			m[k] = x
			return
		}
		k = fmt.Sprintf("%s#%d", key, i)
	}
}

// identity names a rule the way it is told apart across bundles: its name,
// the service and SLO it belongs to, and its tier (tiers may share a
// name).
func identity(name string, ls map[string]string) string {
	var parts []string
	for _, l := range []string{model.LabelService, model.LabelSLO, model.LabelTier} {
		if v, ok := ls[l]; ok {
			parts = append(parts, l+"="+v)
		}
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

func withoutVersion(ls map[string]string) map[string]string {
	out := maps.Clone(ls)
	for l := range versionLabels {
		delete(out, l)
	}
	return out
}

// recordFacts notes an SLO's objective, budget and period from its rules.
func (s *ruleSet) recordFacts(x rule, ls map[string]string, expr parser.Expr) {
	svc, slo := ls[model.LabelService], ls[model.LabelSLO]
	if slo == "" {
		return
	}
	key := svc + "/" + slo
	if s.slos[key] == nil {
		s.slos[key] = &sloFacts{}
	}
	f := s.slos[key]
	switch {
	case x.name == model.ObjectiveRecord:
		f.objective = literal(expr)
	case x.name == model.ErrorBudgetRecord:
		f.budget = literal(expr)
	case x.group == model.PeriodGroupName(svc, slo) && strings.HasPrefix(x.name, ratioPrefix):
		f.period = strings.TrimPrefix(x.name, ratioPrefix)
	}
}

var ratioPrefix = strings.TrimSuffix(model.ErrorRatioRecord(1), model.Duration(1).String())

// literal is the number of a `vector(N)` constant.
func literal(expr parser.Expr) string {
	var out string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if l, ok := n.(*parser.NumberLiteral); ok && out == "" {
			out = model.Decimal(l.Val)
		}
		return nil
	})
	return out
}

// windowsOf lists the windows an alert compares: the suffixes of the
// ratio and bad-event window series it reads.
func windowsOf(expr parser.Expr) []string {
	prefixes := []string{ratioPrefix, strings.TrimSuffix(model.BadEventsWindowRecord(1), model.Duration(1).String())}
	set := map[string]bool{}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			for _, p := range prefixes {
				if w, ok := strings.CutPrefix(vs.Name, p); ok {
					set[w] = true
				}
			}
		}
		return nil
	})
	var out []string
	for w := range set {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := model.ParseDuration(out[i])
		b, _ := model.ParseDuration(out[j])
		return a > b
	})
	return out
}

// factorOf reads a budget tier's burn factor (N * allowance), or a ratio
// tier's threshold (ratio >= N), which is factor x budget.
func factorOf(expr parser.Expr) (factor, threshold float64) {
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		be, ok := n.(*parser.BinaryExpr)
		if !ok || factor != 0 || threshold != 0 {
			return nil
		}
		if l, ok := be.LHS.(*parser.NumberLiteral); ok && be.Op == parser.MUL {
			factor = l.Val
		}
		if l, ok := be.RHS.(*parser.NumberLiteral); ok && be.Op == parser.GTE && isRatio(be.LHS) {
			threshold = l.Val
		}
		return nil
	})
	return factor, threshold
}

func isRatio(e parser.Expr) bool {
	vs, ok := e.(*parser.VectorSelector)
	return ok && strings.HasPrefix(vs.Name, ratioPrefix)
}

// reads notes the series an expression reads.
func (b *bundle) reads(expr parser.Expr) {
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			b.queried[vs.Name] = true
		}
		return nil
	})
}

func (r *Report) slos(old, next *bundle) {
	for _, key := range union(old.rules.slos, next.rules.slos) {
		o, n := old.rules.slos[key], next.rules.slos[key]
		switch {
		case o == nil:
			r.add(Change{Kind: "SLO", What: fmt.Sprintf("added %s (objective %s, period %s)", key, n.objective, n.period)})
		case n == nil:
			r.add(Change{Kind: "SLO", What: fmt.Sprintf("removed %s", key)})
		default:
			if o.objective != n.objective {
				r.add(Change{Kind: "SLO", What: key + " objective changed", Before: o.objective, After: n.objective})
			}
			if o.period != n.period {
				r.add(Change{Kind: "SLO", What: key + " period changed", Before: o.period, After: n.period})
			}
		}
	}
}

func (r *Report) records(old, next *bundle) {
	for _, key := range union(old.rules.records, next.rules.records) {
		o, inOld := old.rules.records[key]
		n, inNew := next.rules.records[key]
		switch {
		case !inOld:
			r.add(Change{Kind: "recording rule", What: "added " + key})
		case !inNew:
			queried := old.queried[o.name] || next.queried[o.name]
			note := ""
			if queried && !named(next.rules.records, o.name) {
				note = " (still queried by rules or dashboards)"
			}
			r.add(Change{Kind: "recording rule", What: "removed " + key + note, Breaking: note != ""})
		default:
			r.ruleChanges("recording rule", key, o, n)
		}
	}
}

// named says whether any of the rules (a bundle's records or alerts, keyed
// by name and labels) has this name.
func named(rules map[string]rule, name string) bool {
	for _, x := range rules {
		if x.name == name {
			return true
		}
	}
	return false
}

// ruleChanges reports what differs between two versions of one rule.
func (r *Report) ruleChanges(kind, key string, o, n rule) {
	if o.expr != n.expr {
		r.add(Change{Kind: kind, What: key + " expression changed", Before: o.expr, After: n.expr})
	}
	if o.group != n.group || o.interval != n.interval {
		r.add(Change{Kind: kind, What: key + " group changed", Before: o.group + " every " + o.interval, After: n.group + " every " + n.interval})
	}
	if o.forDuration != n.forDuration {
		r.add(Change{Kind: kind, What: key + " `for` changed", Before: o.forDuration, After: n.forDuration})
	}
	for _, l := range changedKeys(o.labels, n.labels) {
		r.add(Change{Kind: kind, What: fmt.Sprintf("%s label %s changed", key, l), Before: show(o.labels, l), After: show(n.labels, l)})
	}
	for _, a := range changedKeys(o.annotations, n.annotations) {
		r.add(Change{Kind: kind, What: fmt.Sprintf("%s annotation %s changed", key, a), Before: show(o.annotations, a), After: show(n.annotations, a)})
	}
}

func show(m map[string]string, k string) string {
	v, ok := m[k]
	if !ok {
		return "(none)"
	}
	return v
}

func (r *Report) alerts(old, next *bundle) {
	for _, key := range union(old.rules.alerts, next.rules.alerts) {
		o, inOld := old.rules.alerts[key]
		n, inNew := next.rules.alerts[key]
		switch {
		case !inOld:
			r.add(Change{Kind: "alert", What: "added " + key})
		case !inNew:
			routed := old.routesByName(o.name) || next.routesByName(o.name)
			note := ""
			if routed && !named(next.rules.alerts, o.name) {
				note = " (an Alertmanager route matches it by name)"
			}
			r.add(Change{Kind: "alert", What: "removed " + key + note, Breaking: note != ""})
		default:
			r.tierChanges(key, o, n, old, next)
			r.ruleChanges("alert", key, o, n)
		}
	}
}

// tierChanges reports a tier's windows and burn factor in the model's
// terms before the expression that carries them.
func (r *Report) tierChanges(key string, o, n rule, old, next *bundle) {
	if strings.Join(o.windows, "/") != strings.Join(n.windows, "/") {
		r.add(Change{Kind: "alert", What: key + " windows changed", Before: strings.Join(o.windows, "/"), After: strings.Join(n.windows, "/")})
	}
	of, nf := old.factor(o), next.factor(n)
	if of != nf {
		r.add(Change{Kind: "alert", What: key + " burn factor changed", Before: of, After: nf})
	}
}

// factor is an alert's burn factor: a budget tier's multiplier, or a ratio
// tier's threshold over its SLO's budget.
func (b *bundle) factor(x rule) string {
	if x.factor > 0 {
		return model.Decimal(x.factor)
	}
	f := b.rules.slos[x.labels[model.LabelService]+"/"+x.labels[model.LabelSLO]]
	var budget float64
	if f != nil {
		_, _ = fmt.Sscanf(f.budget, "%g", &budget)
	}
	if x.threshold > 0 && budget > 0 {
		return model.Decimal(model.Clean(x.threshold / budget))
	}
	return ""
}
