package alerttests

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/model"
)

// selectorMatchers parses a selector the rules package generated, so the
// input series are checked against exactly what the rules query.
func selectorMatchers(sel string) ([]*labels.Matcher, error) {
	if ms, ok := parsedSelectors.Load(sel); ok {
		return ms.([]*labels.Matcher), nil
	}
	e, err := model.ParseExpr(sel)
	if err != nil {
		return nil, fmt.Errorf("selector %s: %w", sel, err)
	}
	vs, ok := e.(*parser.VectorSelector)
	if !ok {
		return nil, fmt.Errorf("selector %s is a %T, not a series selector", sel, e)
	}
	parsedSelectors.Store(sel, vs.LabelMatchers)
	return vs.LabelMatchers, nil
}

// parsedSelectors caches selectorMatchers: a service's few selectors are
// checked against many series.
var parsedSelectors sync.Map

// concrete turns a selector into one series it selects. Each label's value
// is chosen among candidates (equality values, strings generated from the
// regexes, a few plain values for negative matchers) and checked with every
// matcher on that label, so `status!="500",status=~"5.."` gets "511". A
// selector no candidate satisfies is an error, not a test that silently
// proves nothing.
func concrete(sel string) (labels.Labels, error) {
	ms, err := selectorMatchers(sel)
	if err != nil {
		return labels.EmptyLabels(), err
	}
	byName := map[string][]*labels.Matcher{}
	var names []string
	for _, m := range ms {
		if _, ok := byName[m.Name]; !ok {
			names = append(names, m.Name)
		}
		byName[m.Name] = append(byName[m.Name], m)
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	for _, name := range names {
		v, err := satisfy(byName[name])
		if err != nil {
			return labels.EmptyLabels(), fmt.Errorf("selector %s, label %s: %w", sel, name, err)
		}
		b.Set(name, v)
	}
	lbls := b.Labels()
	return lbls, verify(lbls, sel)
}

// satisfy returns the first candidate value every matcher accepts.
func satisfy(ms []*labels.Matcher) (string, error) {
	var cands []string
	for _, m := range ms {
		if m.Type == labels.MatchEqual {
			cands = append(cands, m.Value)
		}
	}
	for _, m := range ms {
		if m.Type == labels.MatchRegexp {
			for seed := range 16 {
				if v, err := example(m.Value, seed); err == nil {
					cands = append(cands, v)
				}
			}
		}
	}
	// With only negative matchers the label may be left out (the empty
	// value), or take a plain value.
	cands = append(cands, "", "x", "0", "a", "alerttests")
	for _, c := range cands {
		ok := true
		for _, m := range ms {
			if !m.Matches(c) {
				ok = false
				break
			}
		}
		if ok {
			return c, nil
		}
	}
	return "", fmt.Errorf("no value satisfies %v", ms)
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

// example returns a string the regex matches, built from its syntax tree.
// Seed 0 takes the simplest choice at every node, which for the regexes
// specs hold (`5..`, `GET|POST`, `/api/.*`) gives readable values ("500",
// "GET", "/api/"); other seeds vary the characters and alternatives picked,
// so a value another matcher refuses has alternatives. The caller verifies
// the result with the real matchers.
func example(re string, seed int) (string, error) {
	tree, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return "", fmt.Errorf("regex %q: %w", re, err)
	}
	var b strings.Builder
	if err := write(&b, tree.Simplify(), seed); err != nil {
		return "", fmt.Errorf("regex %q: %w", re, err)
	}
	return b.String(), nil
}

// write appends the simplest string node matches.
func write(b *strings.Builder, node *syntax.Regexp, seed int) error {
	switch node.Op {
	case syntax.OpLiteral:
		b.WriteString(string(node.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte(byte('0' + seed%10))
	case syntax.OpCharClass:
		if len(node.Rune) == 0 {
			return fmt.Errorf("empty character class matches nothing")
		}
		lo, hi := node.Rune[0], node.Rune[1]
		b.WriteRune(lo + rune(seed)%(hi-lo+1))
	case syntax.OpStar, syntax.OpQuest, syntax.OpEmptyMatch,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
	case syntax.OpPlus:
		return write(b, node.Sub[0], seed)
	case syntax.OpRepeat:
		for range node.Min {
			if err := write(b, node.Sub[0], seed); err != nil {
				return err
			}
		}
	case syntax.OpConcat:
		for _, sub := range node.Sub {
			if err := write(b, sub, seed); err != nil {
				return err
			}
		}
	case syntax.OpAlternate:
		return write(b, node.Sub[seed%len(node.Sub)], seed)
	case syntax.OpCapture:
		return write(b, node.Sub[0], seed)
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
