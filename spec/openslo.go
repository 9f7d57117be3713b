package spec

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// opensloVersion marks OpenSLO v1 documents.
const opensloVersion = "openslo/v1"

type opensloDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec yaml.Node `yaml:"spec"`
}

type opensloSLO struct {
	Description  string `yaml:"description"`
	Service      string `yaml:"service"`
	IndicatorRef string `yaml:"indicatorRef"`
	Indicator    *struct {
		Metadata struct{ Name string } `yaml:"metadata"`
		Spec     opensloSLI            `yaml:"spec"`
	} `yaml:"indicator"`
	TimeWindow []struct {
		Duration  string `yaml:"duration"`
		IsRolling bool   `yaml:"isRolling"`
	} `yaml:"timeWindow"`
	BudgetingMethod string `yaml:"budgetingMethod"`
	Objectives      []struct {
		Target float64 `yaml:"target"`
	} `yaml:"objectives"`
}

type opensloSLI struct {
	RatioMetric *struct {
		Good  *opensloMetric `yaml:"good"`
		Bad   *opensloMetric `yaml:"bad"`
		Total *opensloMetric `yaml:"total"`
	} `yaml:"ratioMetric"`
	ThresholdMetric *struct{} `yaml:"thresholdMetric"`
}

type opensloMetric struct {
	MetricSource struct {
		Type string `yaml:"type"`
		Spec struct {
			Query string `yaml:"query"`
		} `yaml:"spec"`
	} `yaml:"metricSource"`
}

// isOpenSLO says whether the first document of data is an OpenSLO v1 one.
func isOpenSLO(doc *yaml.Node) bool {
	var head struct {
		APIVersion string `yaml:"apiVersion"`
	}
	return doc.Decode(&head) == nil && head.APIVersion == opensloVersion
}

// parseOpenSLO reads OpenSLO v1 SLO documents (with their SLIs inline or
// as separate SLI documents) into the model. Each SLO gets the four
// standard burn-rate tiers; OpenSLO's alert policies are not read.
func parseOpenSLO(file string, data []byte) (model.Spec, error) {
	var docs []opensloDoc
	var nodes []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return model.Spec{}, yamlError(file, err)
		}
		var d opensloDoc
		if err := n.Decode(&d); err != nil {
			return model.Spec{}, yamlError(file, err)
		}
		docs, nodes = append(docs, d), append(nodes, &n)
	}
	slis := map[string]opensloSLI{}
	for _, d := range docs {
		if d.Kind == "SLI" {
			var sli opensloSLI
			if err := d.Spec.Decode(&sli); err != nil {
				return model.Spec{}, yamlError(file, err)
			}
			slis[d.Metadata.Name] = sli
		}
	}
	var s model.Spec
	var svc *model.Service
	for i, d := range docs {
		if d.Kind != "SLO" {
			continue
		}
		o, got, err := opensloObjective(file, nodes[i], d, slis)
		if err != nil {
			return s, err
		}
		if svc == nil {
			svc = &got
			s.Name, s.Version = got.Name, importedVersion
		} else if err := merge(svc, got); err != nil {
			return s, importError(file, at(nodes[i], "spec"), "spec", "%v", err)
		}
		svc.SLOs = append(svc.SLOs, o)
	}
	if svc == nil {
		return s, &Error{File: file, Msg: "expected at least one OpenSLO document of kind SLO"}
	}
	s.Services = []model.Service{*svc}
	return s, nil
}

func opensloObjective(file string, n *yaml.Node, d opensloDoc, slis map[string]opensloSLI) (model.SLO, model.Service, error) {
	var spec opensloSLO
	if err := d.Spec.Decode(&spec); err != nil {
		return model.SLO{}, model.Service{}, yamlError(file, err)
	}
	fail := func(path, format string, args ...any) error {
		var steps []any
		for _, p := range append([]string{"spec"}, splitPath(path)...) {
			steps = append(steps, p)
		}
		return importError(file, at(n, steps...), "spec."+path, format, args...)
	}
	if spec.BudgetingMethod != "" && spec.BudgetingMethod != "Occurrences" {
		return model.SLO{}, model.Service{}, fail("budgetingMethod", "only Occurrences budgets map (events, not time slices), got %q", spec.BudgetingMethod)
	}
	if len(spec.Objectives) != 1 {
		return model.SLO{}, model.Service{}, fail("objectives", "expected exactly one objective, got %d", len(spec.Objectives))
	}
	period := model.DefaultPeriod
	if len(spec.TimeWindow) > 0 {
		if !spec.TimeWindow[0].IsRolling {
			return model.SLO{}, model.Service{}, fail("timeWindow", "only rolling time windows map, not calendar-aligned ones")
		}
		p, err := model.ParseDuration(spec.TimeWindow[0].Duration)
		if err != nil {
			return model.SLO{}, model.Service{}, fail("timeWindow", "expected a duration such as 28d, got %q", spec.TimeWindow[0].Duration)
		}
		period = p
	}
	sli, ok := slis[spec.IndicatorRef]
	if spec.Indicator != nil {
		sli, ok = spec.Indicator.Spec, true
	}
	if !ok {
		return model.SLO{}, model.Service{}, fail("indicatorRef", "no SLI document named %q", spec.IndicatorRef)
	}
	r := sli.RatioMetric
	switch {
	case r == nil:
		return model.SLO{}, model.Service{}, fail("indicator", "only ratioMetric SLIs map (bad over total events)")
	case r.Bad == nil || r.Total == nil:
		return model.SLO{}, model.Service{}, fail("indicator", "expected a ratioMetric of bad over total: a good-over-total ratio gives no selector for the failures")
	}
	bad, err := parseCounterRate(r.Bad.MetricSource.Spec.Query)
	if err != nil {
		return model.SLO{}, model.Service{}, fail("indicator", "bad query: %v", err)
	}
	total, err := parseCounterRate(r.Total.MetricSource.Spec.Query)
	if err != nil {
		return model.SLO{}, model.Service{}, fail("indicator", "total query: %v", err)
	}
	svc, events, err := eventService(kebab(spec.Service), bad, total)
	if err != nil {
		return model.SLO{}, model.Service{}, fail("indicator", "%v", err)
	}
	o := model.SLO{Name: sloName(d.Metadata.Name), Description: spec.Description, Objective: model.Clean(spec.Objectives[0].Target),
		Period: period, SLI: model.SLI{Events: &events}}
	for _, t := range slothTiers {
		sev := model.Ticket
		if t.page {
			sev = model.Page
		}
		o.Tiers = append(o.Tiers, model.Tier{Name: t.name, Alert: kebab(d.Metadata.Name) + "-" + t.name, Severity: sev,
			Long: model.Duration(t.long), Short: model.Duration(t.short), Factor: t.factor})
	}
	return o, svc, nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range bytes.Split([]byte(p), []byte(".")) {
		out = append(out, string(s))
	}
	return out
}
