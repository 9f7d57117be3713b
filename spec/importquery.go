package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/model"
)

// sliShape is an imported SLI reduced to what the model keeps: the series
// of all events and the matchers that pick the bad ones among them (or the
// good ones, when their complement is no selector), or a histogram and the
// bucket bound under which a request is good.
type sliShape struct {
	// metric is the events' counter, or the histogram's base name.
	metric string
	// scope selects all events (the total query's matchers).
	scope []*labels.Matcher
	// bad are the matchers added to scope to pick the failures, or with
	// badMetric all the matchers of that counter's query.
	bad []*labels.Matcher
	// badMetric is the counter of failures when it is not metric.
	badMetric string
	// good, with countsGood, are the matchers added to scope to pick the
	// successes, or with goodMetric all the matchers of that counter's
	// query: bad = total - good.
	good       []*labels.Matcher
	goodMetric string
	countsGood bool
	// latency marks a histogram SLI: bad = count - bucket{le=threshold}.
	latency   bool
	threshold float64
}

// picked are the matchers of the events the SLI names apart from all
// events (bad or good ones), and the counter they are on when not metric.
func (sh sliShape) picked() ([]*labels.Matcher, string) {
	if sh.countsGood {
		return sh.good, sh.goodMetric
	}
	return sh.bad, sh.badMetric
}

// sli writes the shape as a model SLI of a service selected by sel, and
// records the metric it reads in the contract.
func (sh sliShape) sli(sel map[string]string, c *contract) model.SLI {
	var rest []*labels.Matcher
	used := map[string]bool{}
	for _, m := range sh.scope {
		if v, ok := sel[m.Name]; ok && m.Type == labels.MatchEqual && m.Value == v {
			continue
		}
		rest = append(rest, m)
		used[m.Name] = true
	}
	picked, other := sh.picked()
	var kept []*labels.Matcher
	keptUsed := used
	if other != "" {
		keptUsed = map[string]bool{}
	}
	for _, m := range picked {
		if v, ok := sel[m.Name]; ok && other != "" && m.Type == labels.MatchEqual && m.Value == v {
			continue // the service selector carries it onto the second counter too
		}
		kept = append(kept, m)
		keptUsed[m.Name] = true
	}
	var ls []string
	for l := range used {
		ls = append(ls, l)
	}
	if sh.latency {
		th := sh.threshold
		c.use(sh.metric, model.Histogram, ls, &th)
		return model.SLI{Latency: &model.Latency{Metric: sh.metric, Matchers: joinMatchers(rest), Threshold: th}}
	}
	c.use(sh.metric, model.Counter, ls, nil)
	e := &model.EventRatio{Metric: sh.metric, Total: joinMatchers(rest)}
	if sh.countsGood {
		e.Good, e.GoodMetric = joinMatchers(kept), other
	} else {
		e.Bad, e.BadMetric = joinMatchers(kept), other
	}
	if other != "" {
		var ols []string
		for l := range keptUsed {
			ols = append(ols, l)
		}
		c.use(other, model.Counter, ols, nil)
	}
	return model.SLI{Events: e}
}

// selectable are the scope's matchers the service selector may take: with
// a second counter (of failures or of successes), only those its query has
// too, as the selector applies to both counters.
func (sh sliShape) selectable() []*labels.Matcher {
	picked, other := sh.picked()
	if other == "" {
		return sh.scope
	}
	in := map[string]bool{}
	for _, m := range picked {
		in[m.String()] = true
	}
	var out []*labels.Matcher
	for _, m := range sh.scope {
		if in[m.String()] {
			out = append(out, m)
		}
	}
	return out
}

func joinMatchers(ms []*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ",")
}

// term is one summed counter rate of an imported query.
type term struct {
	metric   string
	matchers []*labels.Matcher
}

// templates are the window placeholders Sloth and Grafana-style queries
// carry; any window parses the same, as only the series selected matter.
var templates = strings.NewReplacer("{{.window}}", "5m", "{{ .window }}", "5m", "$__rate_interval", "5m", "$__interval", "5m", "${__rate_interval}", "5m")

// parseQuery parses an imported query with its window templates filled.
func parseQuery(q string) (parser.Expr, error) {
	expr, err := model.ParseExpr(templates.Replace(q))
	if err != nil {
		return nil, fmt.Errorf("expected a PromQL query: %w", err)
	}
	return unparen(expr), nil
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

const termForm = "sum(rate(<counter>{...}[<window>]))"

// readTerm reads `sum(rate(metric{...}[w]))` (sum optional, increase
// accepted). bare also accepts a counter selector alone, as OpenSLO's
// `counter: true` metrics are written.
func readTerm(e parser.Expr, bare bool) (term, error) {
	e = unparen(e)
	if agg, ok := e.(*parser.AggregateExpr); ok && agg.Op == parser.SUM {
		if len(agg.Grouping) > 0 || agg.Without {
			return term{}, groupingError(agg)
		}
		e = unparen(agg.Expr)
	}
	var vs *parser.VectorSelector
	switch x := e.(type) {
	case *parser.Call:
		if x.Func.Name != "rate" && x.Func.Name != "increase" {
			return term{}, fmt.Errorf("expected %s, got %s(): the bundle counts events from counters, so the query must be a rate or increase of one", termForm, x.Func.Name)
		}
		ms, ok := unparen(x.Args[0]).(*parser.MatrixSelector)
		if !ok {
			return term{}, fmt.Errorf("expected a counter selector with a window inside %s(), got %s", x.Func.Name, x.Args[0])
		}
		vs, _ = ms.VectorSelector.(*parser.VectorSelector)
	case *parser.VectorSelector:
		if bare {
			vs = x
		}
	}
	if vs == nil {
		return term{}, fmt.Errorf("expected %s, got %s", termForm, e)
	}
	if vs.OriginalOffset != 0 || vs.Timestamp != nil {
		return term{}, fmt.Errorf("offset %s (or @) shifts this query into the past; the bundle counts events as the counters stand at each evaluation, so the shift cannot be kept and dropping it would change the SLI unseen. "+
			"Remove the offset from the query (its windows are exact without it)", model.Duration(vs.OriginalOffset))
	}
	return term{metric: vs.Name, matchers: withoutName(vs.LabelMatchers)}, nil
}

func groupingError(agg *parser.AggregateExpr) error {
	by := "by"
	if agg.Without {
		by = "without"
	}
	g := strings.Join(agg.Grouping, ", ")
	return fmt.Errorf("sum %s (%s) gives one ratio per group, but an SLO of the bundle is one ratio over all its events; "+
		"write one SLO per group with %s=\"<value>\" in both queries, or drop the grouping to measure all groups together", by, g, g)
}

func withoutName(ms []*labels.Matcher) []*labels.Matcher {
	var out []*labels.Matcher
	for _, m := range ms {
		if m.Name != prommodel.MetricNameLabel {
			out = append(out, m)
		}
	}
	return out
}

// overTotal parses the two queries of an SLI of some events over all, and
// reads the term of all events.
func overTotal(someQ, totalQ string, bare bool) (parser.Expr, term, error) {
	someE, err := parseQuery(someQ)
	if err != nil {
		return nil, term{}, err
	}
	totalE, err := parseQuery(totalQ)
	if err != nil {
		return nil, term{}, err
	}
	total, err := readTerm(totalE, bare)
	if err != nil {
		return nil, term{}, fmt.Errorf("total query: %w", err)
	}
	return someE, total, nil
}

// badOverTotal maps an SLI of bad and total event queries: the same
// counter, the bad query carrying every matcher of the total and more.
// A bad query of the form count - bucket{le=...} maps to a latency SLI.
func badOverTotal(badQ, totalQ string, bare bool) (sliShape, error) {
	badE, total, err := overTotal(badQ, totalQ, bare)
	if err != nil {
		return sliShape{}, err
	}
	if sub, ok := badE.(*parser.BinaryExpr); ok && sub.Op == parser.SUB {
		all, errA := readTerm(sub.LHS, bare)
		good, errG := readTerm(sub.RHS, bare)
		if errA != nil || errG != nil || strings.HasSuffix(good.metric, "_bucket") {
			return latencyShape(sub, total, bare)
		}
		return totalMinusGood(all, good, total)
	}
	bad, err := readTerm(badE, bare)
	if err != nil {
		return sliShape{}, fmt.Errorf("bad query: %w", err)
	}
	if bad.metric != total.metric {
		// Two counters: failures apart from all events (errors_total and
		// requests_total); the bad tiles read the first, the totals the second.
		return sliShape{metric: total.metric, scope: total.matchers, bad: bad.matchers, badMetric: bad.metric}, nil
	}
	extra, err := narrower(bad, total, "bad")
	if err != nil {
		return sliShape{}, err
	}
	return sliShape{metric: total.metric, scope: total.matchers, bad: extra}, nil
}

// totalMinusGood maps a bad query written as all - good events, Sloth's
// way of naming good events: all must be the total query itself, so the
// difference counts failures among the total's events only.
func totalMinusGood(all, good, total term) (sliShape, error) {
	if all.metric != total.metric || joinMatchers(sortedMatchers(all.matchers)) != joinMatchers(sortedMatchers(total.matchers)) {
		return sliShape{}, fmt.Errorf("bad query: a difference maps as <total query> - <good events>, or as <histogram>_count - <histogram>_bucket{le=...}, "+
			"but its first term %s%s is not the total query %s%s; write the total query as the difference's first term",
			all.metric, braces(all.matchers), total.metric, braces(total.matchers))
	}
	return goodShape(good, total)
}

// narrower returns the matchers of sub beyond those of all; every matcher
// of all must be in sub, or sub would count events outside all.
func narrower(sub, all term, role string) ([]*labels.Matcher, error) {
	has := map[string]bool{}
	for _, m := range sub.matchers {
		has[m.String()] = true
	}
	for _, m := range all.matchers {
		if !has[m.String()] {
			return nil, fmt.Errorf("the %s query lacks %s, which the total query has, so it would count %s events outside the total; add %s to the %s query", role, m, role, m, role)
		}
	}
	inAll := map[string]bool{}
	for _, m := range all.matchers {
		inAll[m.String()] = true
	}
	var extra []*labels.Matcher
	for _, m := range sub.matchers {
		if !inAll[m.String()] {
			extra = append(extra, m)
		}
	}
	if len(extra) == 0 {
		return nil, fmt.Errorf("the %s query selects the same series as the total query: no label matcher picks the %s events; add the matchers that pick them to the %s query", role, role, role)
	}
	return extra, nil
}

// goodOverTotal maps an SLI of good and total event queries. Bad events
// are total - good, exactly. When the good query adds one matcher to the
// total's, its negation picks the bad series (every series matches either
// the one or the other), and the SLI names its bad events as any other.
// Good events picked by several matchers, or counted by a counter of their
// own, have no such complement: the SLI then names its good events. A
// good query of bucket{le=...} over count maps to a latency SLI.
func goodOverTotal(goodQ, totalQ string, bare bool) (sliShape, error) {
	goodE, total, err := overTotal(goodQ, totalQ, bare)
	if err != nil {
		return sliShape{}, err
	}
	good, err := readTerm(goodE, bare)
	if err != nil {
		return sliShape{}, fmt.Errorf("good query: %w", err)
	}
	if base, ok := strings.CutSuffix(good.metric, "_bucket"); ok && total.metric == base+"_count" {
		return histogramShape(base, total, good)
	}
	return goodShape(good, total)
}

// goodShape maps good events of term good among all events of term total.
func goodShape(good, total term) (sliShape, error) {
	if good.metric != total.metric {
		// Two counters: successes apart from all events (requests_ok_total
		// and requests_total); the bad tiles are the second's less the first's.
		return sliShape{metric: total.metric, scope: total.matchers, good: good.matchers, goodMetric: good.metric, countsGood: true}, nil
	}
	extra, err := narrower(good, total, "good")
	if err != nil {
		return sliShape{}, err
	}
	if len(extra) == 1 {
		return sliShape{metric: total.metric, scope: total.matchers, bad: []*labels.Matcher{model.NegatedMatcher(extra[0])}}, nil
	}
	return sliShape{metric: total.metric, scope: total.matchers, good: extra, countsGood: true}, nil
}

const nativeLatency = "write the SLI as a native latency SLI of this project's spec instead: " +
	"sli: {latency: {metric: <histogram>, matchers: ..., threshold: <one of its bucket bounds>}}"

// latencyShape maps Sloth's hand-written latency SLI,
// `count - bucket{le="0.4"}` over `count`, to a latency SLI.
func latencyShape(sub *parser.BinaryExpr, total term, bare bool) (sliShape, error) {
	count, err := readTerm(sub.LHS, bare)
	if err != nil {
		return sliShape{}, fmt.Errorf("bad query: a difference maps only as <histogram>_count - <histogram>_bucket{le=...}: %v; %s", err, nativeLatency)
	}
	bucket, err := readTerm(sub.RHS, bare)
	if err != nil {
		return sliShape{}, fmt.Errorf("bad query: a difference maps only as <histogram>_count - <histogram>_bucket{le=...}: %v; %s", err, nativeLatency)
	}
	base, ok := strings.CutSuffix(bucket.metric, "_bucket")
	if !ok || count.metric != base+"_count" {
		return sliShape{}, fmt.Errorf("bad query: a difference maps only as <histogram>_count - <histogram>_bucket{le=...} of one histogram, got %s - %s; %s", count.metric, bucket.metric, nativeLatency)
	}
	if total.metric != count.metric || joinMatchers(sortedMatchers(total.matchers)) != joinMatchers(sortedMatchers(count.matchers)) {
		return sliShape{}, fmt.Errorf("the total query must be the bad query's first term, %s with the same matchers, got %s%s; %s", count.metric, total.metric, braces(total.matchers), nativeLatency)
	}
	return histogramShape(base, count, bucket)
}

// histogramShape checks that a bucket term reads the count's series at one
// bucket bound, and returns the latency SLI.
func histogramShape(base string, count, bucket term) (sliShape, error) {
	var le *labels.Matcher
	var rest []*labels.Matcher
	for _, m := range bucket.matchers {
		if m.Name == labels.BucketLabel {
			le = m
			continue
		}
		rest = append(rest, m)
	}
	if le == nil || le.Type != labels.MatchEqual {
		return sliShape{}, fmt.Errorf("the bucket term must select one bucket bound with le=\"<bound>\", got %s; %s", braces(bucket.matchers), nativeLatency)
	}
	th, err := strconv.ParseFloat(le.Value, 64)
	if err != nil || math.IsInf(th, 0) || math.IsNaN(th) || th <= 0 {
		return sliShape{}, fmt.Errorf("le=%q is no finite bucket bound; %s", le.Value, nativeLatency)
	}
	if joinMatchers(sortedMatchers(rest)) != joinMatchers(sortedMatchers(count.matchers)) {
		return sliShape{}, fmt.Errorf("the bucket term selects %s but the count term %s: both must read the same requests; %s", braces(rest), braces(count.matchers), nativeLatency)
	}
	return sliShape{metric: base, scope: count.matchers, latency: true, threshold: th}, nil
}

func sortedMatchers(ms []*labels.Matcher) []*labels.Matcher {
	out := append([]*labels.Matcher{}, ms...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].String() < out[j-1].String(); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func braces(ms []*labels.Matcher) string { return "{" + joinMatchers(ms) + "}" }
