// Package alerttests generates, for one service, a Prometheus rule unit-test
// file in promtool's format that covers every alerting rule the rules
// package generates: for each rule, a scenario that should trip it, a check
// that nothing of that alert name fires one evaluation before the expected
// time, and a check that it fires at that time with all its labels and
// expanded annotations.
//
// The expectations are computed from the model, by arithmetic: scenarios
// hold one sample per evaluation, counters flat and then rising, so every
// tile, window and ratio the rules record is a simple sum (expect.go).
// Nothing is evaluated at generation time. Running the file with promtool
// checks the generated rules against that arithmetic, and the package's
// tests replay every scenario with Prometheus' own engine as well.
// Scenarios are chosen so both agree: promtool 2.42's range selectors are
// closed on the left, Prometheus 3's open, and every input here yields the
// same alerts under both.
package alerttests

import (
	"fmt"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/internal/generated"
	"github.com/tensorwasm/obsbundle/model"
)

// testFile is promtool's unit-test file (`promtool test rules`).
type testFile struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	// GroupEvalOrder pins the order promtool evaluates groups in (file
	// order); without it the order is random, and an SLO's alerts would
	// read its period group's results of this evaluation or the last.
	GroupEvalOrder []string    `yaml:"group_eval_order"`
	Tests          []testGroup `yaml:"tests"`
}

// testGroup is one test: input series and the alerts expected from them.
type testGroup struct {
	Name          string          `yaml:"name"`
	Interval      string          `yaml:"interval"`
	InputSeries   []inputSeries   `yaml:"input_series"`
	AlertRuleTest []alertTestCase `yaml:"alert_rule_test"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// alertTestCase lists every alert of one name firing at one time; promtool
// compares the whole set, so an empty list asserts that none fires.
type alertTestCase struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []expAlert `yaml:"exp_alerts"`
}

// expAlert is one expected alert; promtool adds the alertname label.
type expAlert struct {
	Labels      map[string]string `yaml:"exp_labels"`
	Annotations map[string]string `yaml:"exp_annotations"`
}

// File returns the promtool test file for svc's rule groups, whose rule
// file (as rules.File writes it) sits in the same directory under the name
// ruleFile (e.g. "tensor-wasm.rules.yaml").
func File(svc *model.Service, groups rulefmt.RuleGroups, ruleFile string) ([]byte, error) {
	p, err := newPlanner(svc, groups)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", svc.Name, err)
	}
	tf := testFile{RuleFiles: []string{ruleFile}, EvaluationInterval: svc.EvaluationInterval.String()}
	for _, g := range groups.Groups {
		tf.GroupEvalOrder = append(tf.GroupEvalOrder, g.Name)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			tg, err := p.test(r)
			if err != nil {
				return nil, fmt.Errorf("service %s, group %s, alert %s: %w", svc.Name, g.Name, r.Alert, err)
			}
			tf.Tests = append(tf.Tests, tg)
		}
	}
	return render(tf)
}

// test builds the test group of one alerting rule.
func (p *planner) test(r rulefmt.Rule) (testGroup, error) {
	sc, err := p.scenario(r)
	if err != nil {
		return testGroup{}, err
	}
	every := p.svc.EvaluationInterval.Std()
	tg := testGroup{
		Name:     sc.name,
		Interval: model.Duration(sc.spacing).String(),
		AlertRuleTest: []alertTestCase{
			{EvalTime: model.Duration(sc.at - every).String(), Alertname: r.Alert, ExpAlerts: append([]expAlert{}, sc.before...)},
			{EvalTime: model.Duration(sc.at).String(), Alertname: r.Alert, ExpAlerts: sc.alerts},
		},
	}
	for _, s := range sc.input {
		values := valuesString(s.values)
		if s.native {
			values = nativeValuesString(s.values, s.offset)
		}
		tg.InputSeries = append(tg.InputSeries, inputSeries{Series: seriesString(s.series), Values: values})
	}
	return tg, nil
}

// render writes the test file as YAML (maps come out sorted by key, so the
// bytes depend on the input alone).
func render(tf testFile) ([]byte, error) { return generated.YAML(tf) }
