package model

import (
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// promql is the one PromQL parser the generator uses, with default options,
// so what it accepts is what a stock Prometheus accepts.
var promql = parser.NewParser(parser.Options{})

// ParseExpr parses a PromQL expression.
func ParseExpr(expr string) (parser.Expr, error) { return promql.ParseExpr(expr) }

// ParseMatchers reads label matchers written without braces, as specs hold
// them: `route="/invoke",method="POST"`. An empty string has no matchers.
func ParseMatchers(s string) ([]*labels.Matcher, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	ms, err := promql.ParseMetricSelector("{" + s + "}")
	if err != nil {
		return nil, fmt.Errorf("expected PromQL label matchers such as status=~\"5..\": %w", err)
	}
	return ms, nil
}

// Series renders a series selector: the metric, the service's selector
// labels (sorted), then the extra matchers in the order given.
func (s *Service) Series(metric string, extra ...*labels.Matcher) string {
	keys := make([]string, 0, len(s.Selector))
	for k := range s.Selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+len(extra))
	for _, k := range keys {
		parts = append(parts, labels.MustNewMatcher(labels.MatchEqual, k, s.Selector[k]).String())
	}
	for _, m := range extra {
		parts = append(parts, m.String())
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// mustMatchers parses matchers already accepted by Validate.
func mustMatchers(s string) []*labels.Matcher {
	ms, err := ParseMatchers(s)
	if err != nil {
		panic("model: matchers not validated: " + err.Error())
	}
	return ms
}

// EventSelectors returns the selectors of an event-ratio SLI: all events, and
// the bad ones among them (from the counter of failures, if it has one).
// An SLI that names its good events (CountsGood) has no selector of bad
// events: bad is then "", and GoodSelector gives the good ones.
// The SLI must have passed Validate.
func (s *Service) EventSelectors(e *EventRatio) (total, bad string) {
	t := mustMatchers(e.Total)
	switch {
	case e.CountsGood():
		return s.Series(e.Metric, t...), ""
	case e.BadMetric != "":
		return s.Series(e.Metric, t...), s.Series(e.BadMetric, mustMatchers(e.Bad)...)
	}
	b := append(append([]*labels.Matcher{}, t...), mustMatchers(e.Bad)...)
	return s.Series(e.Metric, t...), s.Series(e.Metric, b...)
}

// GoodSelector returns, for an SLI that names its good events, the
// selector of those: Good among Total's events of Metric, or Good on the
// counter of successes. The SLI must have passed Validate and CountsGood.
func (s *Service) GoodSelector(e *EventRatio) string {
	if e.GoodMetric != "" {
		return s.Series(e.GoodMetric, mustMatchers(e.Good)...)
	}
	g := append(mustMatchers(e.Total), mustMatchers(e.Good)...)
	return s.Series(e.Metric, g...)
}

// HistogramSelectors returns, for a latency SLI, the selector of all
// observations (`_count`) and of those at or below the threshold (`_bucket`).
func (s *Service) HistogramSelectors(l *Latency) (count, fast string) {
	ms := mustMatchers(l.Matchers)
	le := append(append([]*labels.Matcher{}, ms...), LeMatcher(l.Threshold))
	return s.Series(CountSeries(l.Metric), ms...), s.Series(BucketSeries(l.Metric), le...)
}

// NativeHistogramSelector returns, for a latency SLI on a native
// histogram, the selector of its native histogram series.
func (s *Service) NativeHistogramSelector(l *Latency) string {
	return s.Series(NativeHistogramSeries(l.Metric), mustMatchers(l.Matchers)...)
}

// QuantileSelector returns the bucket selector a quantile alert reads.
func (s *Service) QuantileSelector(q *QuantileOver) string {
	return s.Series(BucketSeries(q.Metric), mustMatchers(q.Matchers)...)
}

// NegatedMatcher is the matcher that selects exactly the values m does
// not: good events picked by one matcher make its negation pick the bad.
func NegatedMatcher(m *labels.Matcher) *labels.Matcher {
	t := map[labels.MatchType]labels.MatchType{
		labels.MatchEqual: labels.MatchNotEqual, labels.MatchNotEqual: labels.MatchEqual,
		labels.MatchRegexp: labels.MatchNotRegexp, labels.MatchNotRegexp: labels.MatchRegexp,
	}[m.Type]
	return labels.MustNewMatcher(t, m.Name, m.Value)
}

// LeMatcher matches the bucket whose upper bound is v. Integral bounds are
// spelled "1" by most client libraries and "1.0" once Prometheus 3
// normalises them, so both spellings match.
func LeMatcher(v float64) *labels.Matcher {
	s := Decimal(v)
	if strings.Contains(s, ".") {
		return labels.MustNewMatcher(labels.MatchEqual, labels.BucketLabel, s)
	}
	return labels.MustNewMatcher(labels.MatchRegexp, labels.BucketLabel, s+`|`+s+`\.0`)
}
