// Package rules turns a service of the model into Prometheus recording and
// alerting rules, and checks them with Prometheus' own parsers.
//
// Events are counted once, at the evaluation interval: each evaluation
// records the bad and total events of the last interval, so the recordings
// tile time without overlap. Every longer window is the sum of those tiles
// divided by the sum of the totals: exact, traffic-weighted, and without a
// rate() over days of raw series. The SLO period is summed from coarser
// 4m tiles in a slower group, to keep a 30d window cheap.
package rules

import (
	"fmt"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/model"
)

// Build returns the rule groups of one service. The service must have passed
// model validation; expressions are parsed as they are built, and a failure
// there is reported, not panicked on.
func Build(svc *model.Service, bundleVersion string) (rulefmt.RuleGroups, error) {
	return (&builder{svc: svc}).build(bundleVersion)
}

func (b *builder) build(bundleVersion string) (rulefmt.RuleGroups, error) {
	svc := b.svc
	for _, o := range svc.SLOs {
		b.group(model.GroupName(svc.Name, o.Name), svc.EvaluationInterval, b.sloRules(o))
		b.group(model.PeriodGroupName(svc.Name, o.Name), model.PeriodTile, b.periodRules(o))
	}
	b.group(model.ServiceGroupName(svc.Name), svc.EvaluationInterval, b.serviceRules(bundleVersion))
	return rulefmt.RuleGroups{Groups: b.groups}, b.err
}

// Standalone returns the alerting rules of one service, in their groups,
// as a ruler that cannot read the ALERTS series of these alerts runs them
// (Grafana-managed alerting): each alert on its own condition, its tier's
// guarded windows or the SLO being unmeasured, without the incident's hold
// and exclusion (incident.go). Names, labels, annotations and `for` are
// those Build gives; the recording rules are left out, as they still run
// in Prometheus, and so are groups that hold no alert.
func Standalone(svc *model.Service, bundleVersion string) (rulefmt.RuleGroups, error) {
	b := &builder{svc: svc, standalone: true}
	all, err := b.build(bundleVersion)
	if err != nil {
		return rulefmt.RuleGroups{}, err
	}
	var out rulefmt.RuleGroups
	for _, g := range all.Groups {
		alerts := g
		alerts.Rules = nil
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts.Rules = append(alerts.Rules, r)
			}
		}
		if len(alerts.Rules) > 0 {
			out.Groups = append(out.Groups, alerts)
		}
	}
	return out, nil
}

// builder accumulates groups and the first expression error.
type builder struct {
	svc    *model.Service
	groups []rulefmt.RuleGroup
	err    error
	// standalone leaves the incident out of page alerts (Standalone).
	standalone bool
}

func (b *builder) group(name string, interval model.Duration, rs []rulefmt.Rule) {
	b.groups = append(b.groups, rulefmt.RuleGroup{Name: name, Interval: prommodel.Duration(interval), Rules: rs})
}

// expr parses and pretty-prints a generated expression, so every rule file
// holds only PromQL the real parser accepted.
func (b *builder) expr(format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	e, err := model.ParseExpr(s)
	if err != nil {
		if b.err == nil {
			b.err = fmt.Errorf("service %s: generated expression %q does not parse: %w", b.svc.Name, s, err)
		}
		return s
	}
	return parser.Prettify(e)
}

// record builds a recording rule carrying the SLO's identity labels.
func (b *builder) record(name string, o model.SLO, expr string) rulefmt.Rule {
	return rulefmt.Rule{Record: name, Expr: expr, Labels: b.sloLabels(o)}
}

// sloLabels are the identity labels of every rule of an SLO, plus the SLO's
// own labels (validation keeps those off the identity names).
func (b *builder) sloLabels(o model.SLO) map[string]string {
	ls := map[string]string{model.LabelService: b.svc.Name, model.LabelSLO: o.Name}
	for k, v := range o.Labels {
		ls[k] = v
	}
	return ls
}

// ref selects the series an SLO's recording rule produced.
func (b *builder) ref(record string, o model.SLO) string {
	return model.RecordedSelector(record, b.svc.Name, o.Name)
}
