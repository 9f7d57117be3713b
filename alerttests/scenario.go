package alerttests

import (
	"fmt"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/model"
)

// Value sequences in promtool's notation, one sample per scrape (15s).
// Every series of a scenario has the same length, 242 samples, so the data
// covers the whole replayed hour.
const (
	// rising stays 0 for ten minutes (no traffic, so no window holds a
	// ratio yet), then counts one event per scrape. A window's increase is
	// then the same under Prometheus 3's left-open and promtool 2.42's
	// left-closed ranges, and a ratio of two rising series is exactly 1.
	rising = "0x40 1+1x200"
	// flat is a counter that exists but never moves.
	flat = "0x241"
	// alive is the unrelated series that keeps the TSDB populated when a
	// scenario is about missing series.
	alive = "1x80"
)

// aliveSeries is the unrelated series of the absent scenario.
var aliveSeries = labels.FromStrings(prommodel.MetricNameLabel, "up", "job", "alerttests")

// input is one input series of a scenario.
type input struct {
	series labels.Labels
	values string
}

// scenario is the data one test group feeds to the rules.
type scenario struct {
	name  string
	input []input
}

// planner picks the scenario of every alerting rule of one service.
type planner struct {
	svc *model.Service
	// absent maps an SLO to the selector its SLOMetricAbsent rule watches,
	// read from the generated rules so the scenario follows them.
	absent map[string]string
}

// newPlanner indexes the absent selectors of the generated groups.
func newPlanner(svc *model.Service, groups rulefmt.RuleGroups) (*planner, error) {
	p := &planner{svc: svc, absent: map[string]string{}}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != model.AlertName(model.AbsentAlert) {
				continue
			}
			sel, err := absentSelector(r.Expr)
			if err != nil {
				return nil, fmt.Errorf("alert %s of SLO %s: %w", r.Alert, r.Labels[model.LabelSLO], err)
			}
			p.absent[r.Labels[model.LabelSLO]] = sel
		}
	}
	return p, nil
}

// absentSelector returns the selector inside absent(...) of expr.
func absentSelector(expr string) (string, error) {
	e, err := model.ParseExpr(expr)
	if err != nil {
		return "", err
	}
	var sel string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if c, ok := n.(*parser.Call); ok && c.Func.Name == "absent" && len(c.Args) == 1 {
			if vs, ok := c.Args[0].(*parser.VectorSelector); ok && sel == "" {
				sel = vs.String()
			}
		}
		return nil
	})
	if sel == "" {
		return "", fmt.Errorf("no absent(<selector>) in %q", expr)
	}
	return sel, nil
}

// scenario maps a generated alerting rule back to the model element it
// came from. A rule of an unknown kind is an error, so a new kind of alert
// cannot go untested unnoticed.
func (p *planner) scenario(r rulefmt.Rule) (scenario, error) {
	slo := r.Labels[model.LabelSLO]
	if r.Alert == model.AlertName(model.AbsentAlert) {
		return p.absentScenario(r.Alert, slo)
	}
	for _, o := range p.svc.SLOs {
		for _, t := range o.Tiers {
			if o.Name == slo && model.AlertName(t.Alert) == r.Alert {
				return p.sloScenario(r.Alert, o)
			}
		}
	}
	for _, a := range p.svc.Alerts {
		if model.AlertName(a.Alert) != r.Alert {
			continue
		}
		switch {
		case a.ErrorRatio != nil:
			o, ok := p.svc.SLO(a.ErrorRatio.SLO)
			if !ok {
				return scenario{}, fmt.Errorf("unknown SLO %q", a.ErrorRatio.SLO)
			}
			return p.sloScenario(r.Alert, o)
		case a.Quantile != nil:
			return p.quantileScenario(r.Alert, a)
		}
	}
	return scenario{}, fmt.Errorf("no test scenario for this kind of alert")
}

// sloScenario makes every event of the SLO bad.
func (p *planner) sloScenario(alert string, o model.SLO) (scenario, error) {
	switch {
	case o.SLI.Events != nil:
		_, bad := p.svc.EventSelectors(o.SLI.Events)
		lbls, err := concrete(bad)
		if err != nil {
			return scenario{}, err
		}
		return scenario{
			name:  fmt.Sprintf("%s fires when every %s event fails", alert, o.Name),
			input: []input{{lbls, rising}},
		}, nil
	case o.SLI.Latency != nil:
		in, err := p.slowRequests(o.SLI.Latency)
		if err != nil {
			return scenario{}, err
		}
		return scenario{
			name:  fmt.Sprintf("%s fires when every %s request is slower than %s", alert, o.Name, seconds(o.SLI.Latency.Threshold)),
			input: in,
		}, nil
	}
	return scenario{}, fmt.Errorf("SLO %s has no SLI", o.Name)
}

// slowRequests is a histogram whose every observation lands above the
// latency threshold: _count and the +Inf bucket rise, the threshold's
// bucket stays 0.
func (p *planner) slowRequests(l *model.Latency) ([]input, error) {
	countSel, fastSel := p.svc.HistogramSelectors(l)
	count, err := concrete(countSel)
	if err != nil {
		return nil, err
	}
	fast := bucket(count, l.Metric, model.Decimal(l.Threshold))
	if err := verify(fast, fastSel); err != nil {
		return nil, err
	}
	return []input{
		{count, rising},
		{fast, flat},
		{bucket(count, l.Metric, "+Inf"), rising},
	}, nil
}

// quantileScenario puts every observation of the histogram in the buckets
// above the alert's threshold, so every quantile lies above it.
func (p *planner) quantileScenario(alert string, a model.ThresholdAlert) (scenario, error) {
	q := a.Quantile
	sel := p.svc.QuantileSelector(q)
	base, err := concrete(sel)
	if err != nil {
		return scenario{}, err
	}
	m, ok := p.svc.Metric(q.Metric)
	if !ok || len(m.Buckets) == 0 {
		return scenario{}, fmt.Errorf("histogram %s has no bucket bounds in the contract", q.Metric)
	}
	var in []input
	for _, bound := range m.Buckets {
		values := rising
		if bound <= a.Above {
			values = flat
		}
		in = append(in, input{bucket(base, q.Metric, model.Decimal(bound)), values})
	}
	in = append(in, input{bucket(base, q.Metric, "+Inf"), rising})
	for _, s := range in {
		if err := verify(s.series, sel); err != nil {
			return scenario{}, err
		}
	}
	return scenario{
		name:  fmt.Sprintf("%s fires when every request is slower than %s", alert, seconds(a.Above)),
		input: in,
	}, nil
}

// absentScenario removes every series the SLO's absent rule watches. The
// series every other SLO's absent rule watches stay present (as long as
// they do not match this one's), so this rule's alert is the only
// SLOMetricAbsent firing and the test pins it alone.
func (p *planner) absentScenario(alert, slo string) (scenario, error) {
	sel, ok := p.absent[slo]
	if !ok {
		return scenario{}, fmt.Errorf("no absent rule for SLO %q", slo)
	}
	in := []input{{aliveSeries, alive}}
	for _, o := range p.svc.SLOs {
		other, ok := p.absent[o.Name]
		if o.Name == slo || !ok {
			continue
		}
		lbls, err := concrete(other)
		if err != nil {
			return scenario{}, err
		}
		hides, err := matchesAll(lbls, sel)
		if err != nil {
			return scenario{}, err
		}
		if !hides {
			in = append(in, input{lbls, flat})
		}
	}
	return scenario{
		name:  fmt.Sprintf("%s fires when the series of %s are missing", alert, slo),
		input: in,
	}, nil
}

// bucket is the bucket series of histogram with upper bound le, carrying
// the other labels of base.
func bucket(base labels.Labels, histogram, le string) labels.Labels {
	b := labels.NewBuilder(base)
	b.Set(prommodel.MetricNameLabel, model.BucketSeries(histogram))
	b.Set(labels.BucketLabel, le)
	return b.Labels()
}

// seconds spells a latency in seconds as a duration for test names.
func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).String()
}
