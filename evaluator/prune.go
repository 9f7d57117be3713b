package evaluator

import (
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/model"
)

// Needed returns the groups cut down to the rules keep selects and every
// recording rule they read, directly or not, in their original order. A
// replay that only asks about some alerts then evaluates a handful of rules
// instead of all of them.
func Needed(groups []rulefmt.RuleGroup, keep func(rulefmt.Rule) bool) []rulefmt.RuleGroup {
	writers := map[string]bool{}
	var want []rulefmt.Rule
	for _, g := range groups {
		for _, r := range g.Rules {
			if keep(r) {
				want = append(want, r)
			}
		}
	}
	// Walk the reads breadth first, from the kept rules to what they need.
	for len(want) > 0 {
		r := want[0]
		want = want[1:]
		expr, err := model.ParseExpr(r.Expr)
		if err != nil {
			continue // New reports it
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !writers[vs.Name] {
				writers[vs.Name] = true
				for _, g := range groups {
					for _, w := range g.Rules {
						if w.Record == vs.Name {
							want = append(want, w)
						}
					}
				}
			}
			return nil
		})
	}
	var out []rulefmt.RuleGroup
	for _, g := range groups {
		cut := g
		cut.Rules = nil
		for _, r := range g.Rules {
			if keep(r) || (r.Record != "" && writers[r.Record]) {
				cut.Rules = append(cut.Rules, r)
			}
		}
		if len(cut.Rules) > 0 {
			out = append(out, cut)
		}
	}
	return out
}
