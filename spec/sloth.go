package spec

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// slothVersion marks a Sloth spec.
const slothVersion = "prometheus/v1"

// slothSpec is the part of Sloth's prometheus/v1 spec that maps.
type slothSpec struct {
	Service string `yaml:"service"`
	SLOs    []struct {
		Name        string  `yaml:"name"`
		Objective   float64 `yaml:"objective"`
		Description string  `yaml:"description"`
		SLI         struct {
			Raw    *struct{} `yaml:"raw"`
			Plugin *struct{} `yaml:"plugin"`
			Events *struct {
				ErrorQuery string `yaml:"error_query"`
				TotalQuery string `yaml:"total_query"`
			} `yaml:"events"`
		} `yaml:"sli"`
		Alerting struct {
			Name        string                 `yaml:"name"`
			PageAlert   struct{ Disable bool } `yaml:"page_alert"`
			TicketAlert struct{ Disable bool } `yaml:"ticket_alert"`
		} `yaml:"alerting"`
	} `yaml:"slos"`
}

// slothTiers are the alerts Sloth generates for every SLO: its page alert
// covers the two fast pairs of windows, its ticket alert the two slow ones.
var slothTiers = []struct {
	name        string
	page        bool
	long, short time.Duration
	factor      float64
}{
	{"fast", true, time.Hour, 5 * time.Minute, 14.4},
	{"medium", true, 6 * time.Hour, 30 * time.Minute, 6},
	{"slow", false, 24 * time.Hour, 2 * time.Hour, 3},
	{"very-slow", false, 72 * time.Hour, 6 * time.Hour, 1},
}

// parseSloth reads a Sloth prometheus/v1 spec into the model.
func parseSloth(file string, doc *yaml.Node) (model.Spec, error) {
	var in slothSpec
	if err := doc.Decode(&in); err != nil {
		return model.Spec{}, yamlError(file, err)
	}
	name := kebab(in.Service)
	s := model.Spec{Name: name, Version: importedVersion}
	var svc *model.Service
	for i, slo := range in.SLOs {
		path := fmt.Sprintf("slos[%d].sli", i)
		switch {
		case slo.SLI.Raw != nil:
			return s, importError(file, at(doc, "slos", i, "sli", "raw"), path+".raw", "a raw error-ratio query cannot be split into bad and total events; write it as sli.events with error_query and total_query")
		case slo.SLI.Plugin != nil:
			return s, importError(file, at(doc, "slos", i, "sli", "plugin"), path+".plugin", "SLI plugins are Sloth code and do not map; write the SLI as sli.events")
		case slo.SLI.Events == nil:
			return s, importError(file, at(doc, "slos", i, "sli"), path, "expected sli.events with error_query and total_query")
		}
		bad, err := parseCounterRate(slo.SLI.Events.ErrorQuery)
		if err != nil {
			return s, importError(file, at(doc, "slos", i, "sli", "events", "error_query"), path+".events.error_query", "%v", err)
		}
		total, err := parseCounterRate(slo.SLI.Events.TotalQuery)
		if err != nil {
			return s, importError(file, at(doc, "slos", i, "sli", "events", "total_query"), path+".events.total_query", "%v", err)
		}
		got, events, err := eventService(name, bad, total)
		if err != nil {
			return s, importError(file, at(doc, "slos", i, "sli", "events"), path+".events", "%v", err)
		}
		if svc == nil {
			svc = &got
		} else if err := merge(svc, got); err != nil {
			return s, importError(file, at(doc, "slos", i, "sli", "events"), path+".events", "%v", err)
		}
		o := model.SLO{Name: sloName(slo.Name), Description: slo.Description, Objective: model.Clean(slo.Objective / 100),
			SLI: model.SLI{Events: &events}}
		alert := kebab(slo.Alerting.Name)
		if alert == "" {
			alert = kebab(slo.Name)
		}
		for _, t := range slothTiers {
			if (t.page && slo.Alerting.PageAlert.Disable) || (!t.page && slo.Alerting.TicketAlert.Disable) {
				continue
			}
			sev := model.Ticket
			if t.page {
				sev = model.Page
			}
			o.Tiers = append(o.Tiers, model.Tier{Name: t.name, Alert: alert + "-" + t.name, Severity: sev,
				Long: model.Duration(t.long), Short: model.Duration(t.short), Factor: t.factor})
		}
		svc.SLOs = append(svc.SLOs, o)
	}
	if svc == nil {
		return s, importError(file, at(doc, "slos"), "slos", "expected at least one SLO")
	}
	s.Services = []model.Service{*svc}
	return s, nil
}

// merge adds the contract of another SLO's service to svc; both must
// select the service the same way.
func merge(svc *model.Service, other model.Service) error {
	if fmt.Sprint(svc.Selector) != fmt.Sprint(other.Selector) {
		return fmt.Errorf("this SLO selects the service with %v, an earlier one with %v; one spec describes one service", other.Selector, svc.Selector)
	}
	for _, m := range other.Metrics {
		if existing, ok := svc.Metric(m.Name); ok {
			for i := range svc.Metrics {
				if svc.Metrics[i].Name == m.Name {
					svc.Metrics[i].Labels = unionStrings(existing.Labels, m.Labels)
				}
			}
			continue
		}
		svc.Metrics = append(svc.Metrics, m)
	}
	return nil
}

func unionStrings(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
