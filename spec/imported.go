package spec

import (
	"fmt"
	"sort"
	"strings"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// Defaults for what Sloth and OpenSLO specs do not say; they are reported
// so users replace them.
const (
	importedGrafanaURL = "http://localhost:3000"
	importedVersion    = "1.0.0"
)

// importedRunbooks is a placeholder runbook base: the reserved .invalid
// domain shows it must be replaced.
func importedRunbooks(service string) string { return "https://runbooks.invalid/" + service }

// at finds the node at a path of mapping keys and sequence indexes, for the
// position of an error; it returns the deepest node found.
func at(root *yaml.Node, path ...any) *yaml.Node {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, step := range path {
		switch s := step.(type) {
		case string:
			found := false
			for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					n, found = n.Content[i+1], true
					break
				}
			}
			if !found {
				return n
			}
		case int:
			if n.Kind != yaml.SequenceNode || s >= len(n.Content) {
				return n
			}
			n = n.Content[s]
		}
	}
	return n
}

// importError is an Error at a node of an imported spec.
func importError(file string, n *yaml.Node, path, format string, args ...any) error {
	return &Error{File: file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// counterRate is what an imported events query must be: the sum of the
// rate (or increase) of one counter's series, over the window.
type counterRate struct {
	metric   string
	matchers []*labels.Matcher
}

// parseCounterRate reads `sum(rate(metric{...}[window]))` (sum optional,
// increase accepted), with window templates such as {{.window}} replaced.
func parseCounterRate(query string) (counterRate, error) {
	q := strings.NewReplacer("{{.window}}", "5m", "{{ .window }}", "5m", "$__rate_interval", "5m").Replace(query)
	expr, err := model.ParseExpr(q)
	if err != nil {
		return counterRate{}, fmt.Errorf("expected a PromQL query: %w", err)
	}
	if agg, ok := expr.(*parser.AggregateExpr); ok && agg.Op == parser.SUM && len(agg.Grouping) == 0 {
		expr = agg.Expr
	}
	call, ok := expr.(*parser.Call)
	if !ok || (call.Func.Name != "rate" && call.Func.Name != "increase") {
		return counterRate{}, fmt.Errorf("expected sum(rate(<counter>{...}[<window>])), got %s", q)
	}
	ms, ok := call.Args[0].(*parser.MatrixSelector)
	if !ok {
		return counterRate{}, fmt.Errorf("expected a counter selector with a window inside %s()", call.Func.Name)
	}
	vs := ms.VectorSelector.(*parser.VectorSelector)
	var matchers []*labels.Matcher
	for _, m := range vs.LabelMatchers {
		if m.Name != prommodel.MetricNameLabel {
			matchers = append(matchers, m)
		}
	}
	return counterRate{metric: vs.Name, matchers: matchers}, nil
}

// eventService builds the service of an event-ratio SLI from its bad and
// total queries: equality matchers both share select the service, the
// total's others narrow the events, and the bad query's extra matchers pick
// the failures.
func eventService(name string, bad, total counterRate) (model.Service, model.EventRatio, error) {
	if bad.metric != total.metric {
		return model.Service{}, model.EventRatio{}, fmt.Errorf("bad and total events must come from one counter, got %s and %s", bad.metric, total.metric)
	}
	inTotal := map[string]bool{}
	for _, m := range total.matchers {
		inTotal[m.String()] = true
	}
	svc := model.Service{Name: name, Selector: map[string]string{}, GrafanaURL: importedGrafanaURL, RunbookBaseURL: importedRunbooks(name)}
	var totalMs, badMs []string
	labelSet := map[string]bool{}
	for _, m := range total.matchers {
		if m.Type == labels.MatchEqual && hasMatcher(bad.matchers, m) {
			svc.Selector[m.Name] = m.Value
			continue
		}
		totalMs = append(totalMs, m.String())
		labelSet[m.Name] = true
	}
	for _, m := range bad.matchers {
		if inTotal[m.String()] {
			continue
		}
		badMs = append(badMs, m.String())
		labelSet[m.Name] = true
	}
	if len(badMs) == 0 {
		return model.Service{}, model.EventRatio{}, fmt.Errorf("the bad-events query selects the same series as the total: no matcher picks the failures")
	}
	ls := make([]string, 0, len(labelSet))
	for l := range labelSet {
		if _, sel := svc.Selector[l]; !sel {
			ls = append(ls, l)
		}
	}
	sort.Strings(ls)
	svc.Metrics = []model.Metric{{Name: total.metric, Type: model.Counter, Labels: ls}}
	return svc, model.EventRatio{Metric: total.metric, Total: strings.Join(totalMs, ","), Bad: strings.Join(badMs, ",")}, nil
}

func hasMatcher(ms []*labels.Matcher, m *labels.Matcher) bool {
	for _, x := range ms {
		if x.String() == m.String() {
			return true
		}
	}
	return false
}

// kebab turns an identifier into the kebab case alert ids use.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
			b.WriteRune(r - 'A' + 'a')
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// sloName turns an identifier into an SLO name (letters, digits, _).
func sloName(s string) string {
	return strings.ReplaceAll(kebab(s), "-", "_")
}
