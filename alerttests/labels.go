package alerttests

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/model"
)

// selectorMatchers parses a selector the rules package generated, so the
// input series are checked against exactly what the rules query.
func selectorMatchers(sel string) ([]*labels.Matcher, error) {
	e, err := model.ParseExpr(sel)
	if err != nil {
		return nil, fmt.Errorf("selector %s: %w", sel, err)
	}
	vs, ok := e.(*parser.VectorSelector)
	if !ok {
		return nil, fmt.Errorf("selector %s is a %T, not a series selector", sel, e)
	}
	return vs.LabelMatchers, nil
}

// concrete turns a selector into one series it selects: equality matchers
// give their value, regex matchers a value generated from the regex. The
// result is verified against every matcher, so a selector no generated
// series can satisfy is an error, not a test that silently proves nothing.
func concrete(sel string) (labels.Labels, error) {
	ms, err := selectorMatchers(sel)
	if err != nil {
		return labels.EmptyLabels(), err
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	for _, m := range ms {
		if m.Type == labels.MatchEqual {
			b.Set(m.Name, m.Value)
		}
	}
	for _, m := range ms {
		if m.Type == labels.MatchRegexp && b.Get(m.Name) == "" {
			v, err := example(m.Value)
			if err != nil {
				return labels.EmptyLabels(), fmt.Errorf("selector %s, matcher %s: %w", sel, m, err)
			}
			b.Set(m.Name, v)
		}
	}
	lbls := b.Labels()
	return lbls, verify(lbls, sel)
}

// verify fails unless every matcher of sel accepts lbls (a missing label
// reads as the empty value, as in Prometheus).
func verify(lbls labels.Labels, sel string) error {
	ms, err := selectorMatchers(sel)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !m.Matches(lbls.Get(m.Name)) {
			return fmt.Errorf("generated series %s does not match %s of %s", lbls, m, sel)
		}
	}
	return nil
}

// matchesAll reports whether sel selects lbls; the absent scenario uses it
// to keep series that would hide the alert under test out of its input.
func matchesAll(lbls labels.Labels, sel string) (bool, error) {
	ms, err := selectorMatchers(sel)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if !m.Matches(lbls.Get(m.Name)) {
			return false, nil
		}
	}
	return true, nil
}

// example returns a string the regex matches, built from its syntax tree:
// the simplest choice at every node, which for the regexes specs hold
// (`5..`, `GET|POST`, `/api/.*`) gives readable values ("500", "GET",
// "/api/"). The caller verifies the result with the real matcher.
func example(re string) (string, error) {
	tree, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return "", fmt.Errorf("regex %q: %w", re, err)
	}
	var b strings.Builder
	if err := write(&b, tree); err != nil {
		return "", fmt.Errorf("regex %q: %w", re, err)
	}
	return b.String(), nil
}

// write appends the simplest string node matches.
func write(b *strings.Builder, node *syntax.Regexp) error {
	switch node.Op {
	case syntax.OpLiteral:
		b.WriteString(string(node.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('0')
	case syntax.OpCharClass:
		if len(node.Rune) == 0 {
			return fmt.Errorf("empty character class matches nothing")
		}
		b.WriteRune(node.Rune[0])
	case syntax.OpStar, syntax.OpQuest, syntax.OpEmptyMatch,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
	case syntax.OpPlus:
		return write(b, node.Sub[0])
	case syntax.OpRepeat:
		for range node.Min {
			if err := write(b, node.Sub[0]); err != nil {
				return err
			}
		}
	case syntax.OpConcat:
		for _, sub := range node.Sub {
			if err := write(b, sub); err != nil {
				return err
			}
		}
	case syntax.OpAlternate, syntax.OpCapture:
		return write(b, node.Sub[0])
	default:
		return fmt.Errorf("cannot generate a value for %s", node)
	}
	return nil
}

// seriesString spells lbls in promtool's series notation, name first and
// labels sorted, so the output is deterministic.
func seriesString(lbls labels.Labels) string {
	var parts []string
	lbls.Range(func(l labels.Label) {
		if l.Name != prommodel.MetricNameLabel {
			parts = append(parts, l.Name+"="+strconv.Quote(l.Value))
		}
	})
	return lbls.Get(prommodel.MetricNameLabel) + "{" + strings.Join(parts, ",") + "}"
}
