// Package routing generates Alertmanager configurations from the model:
// alerts routed by severity to a page and a ticket receiver, grouped per
// service and SLO, and inhibitions so that one failure notifies once: a
// faster tier of an SLO silences its slower tiers, a page silences the
// tickets of its SLO and the SLOUnmeasured alerts of its service (a service
// that dies mid-incident has paged already).
package routing

import (
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/internal/generated"
	"github.com/tensorwasm/obsbundle/model"
)

// Production returns the configuration for a real Alertmanager: pages go to
// PagerDuty, tickets to Slack, each reading its secret from a file.
func Production(s model.Spec) ([]byte, error) {
	return render(s, map[string]any{
		"pagerduty_configs": []map[string]any{{"routing_key_file": model.PagerDutyKeyFile, "send_resolved": true}},
	}, map[string]any{
		"slack_configs": []map[string]any{{"api_url_file": model.SlackURLFile, "channel": model.SlackChannel(s.Name), "send_resolved": true}},
	}, ProductionTimers)
}

// Demo returns the demo stack's configuration: both receivers are webhooks
// of the simulator at base, with short timers so the demo is lively.
func Demo(s model.Spec, base string) ([]byte, error) {
	hook := func(receiver string) map[string]any {
		return map[string]any{"webhook_configs": []map[string]any{{"url": model.DemoWebhookURL(base, receiver), "send_resolved": true}}}
	}
	return render(s, hook(model.PageReceiver), hook(model.TicketReceiver), Timers{Wait: "10s", Interval: "1m"})
}

// Timers are the root route's grouping delays.
type Timers struct{ Wait, Interval string }

// ProductionTimers are the grouping delays of the production routing.
var ProductionTimers = Timers{Wait: "30s", Interval: "5m"}

// Route is one node of the routing tree, in the terms Alertmanager and
// Grafana's notification policies share. Empty fields inherit the parent's.
type Route struct {
	Receiver string
	// Matchers are the matchers all of which an alert must meet.
	Matchers                                 []Matcher
	GroupBy                                  []string
	GroupWait, GroupInterval, RepeatInterval string
	Routes                                   []Route
}

// Matcher matches a label: equal to Value, or when Regex, matching it as
// a regular expression.
type Matcher struct {
	Label, Value string
	Regex        bool
}

func (m Matcher) String() string {
	if m.Regex {
		return fmt.Sprintf("%s=~%q", m.Label, m.Value)
	}
	return match(m.Label, m.Value)
}

// Op is the matcher's operator, as both Alertmanager and Grafana write it.
func (m Matcher) Op() string {
	if m.Regex {
		return "=~"
	}
	return "="
}

// severityOf matches the alerts of sev by their severity label, whose
// values a spec's tiers may add to (model.Spec.SeverityMatcher).
func severityOf(s model.Spec, sev model.Severity) Matcher {
	m := s.SeverityMatcher(sev)
	return Matcher{Label: m.Name, Value: m.Value, Regex: m.Type == labels.MatchRegexp}
}

// Tree is the routing tree of spec s: alerts route by severity to the page
// and the ticket receiver; anything else reaches the root's ticket
// receiver.
func Tree(s model.Spec, t Timers) Route {
	page := severityOf(s, model.Page)
	return Route{
		Receiver: model.TicketReceiver,
		// One group per service and SLO: an SLO's page alerts open and
		// close one incident together (package rules), and a group
		// notifies once for it. Alerts of no SLO group per service.
		GroupBy:        []string{model.LabelService, model.LabelSLO},
		GroupWait:      t.Wait,
		GroupInterval:  t.Interval,
		RepeatInterval: "4h",
		Routes: []Route{
			// A service that dies leaves every SLO it has unmeasured at
			// once: one notification for the service.
			{Matchers: []Matcher{{Label: "alertname", Value: model.AlertName(model.UnmeasuredAlert)}, page},
				Receiver: model.PageReceiver, RepeatInterval: "1h", GroupBy: []string{model.LabelService}},
			{Matchers: []Matcher{page}, Receiver: model.PageReceiver, RepeatInterval: "1h"},
			{Matchers: []Matcher{severityOf(s, model.Ticket)}, Receiver: model.TicketReceiver, RepeatInterval: "24h"},
		},
	}
}

// alertmanager renders a route as Alertmanager's configuration has it.
func (r Route) alertmanager() map[string]any {
	out := map[string]any{"receiver": r.Receiver}
	if len(r.Matchers) > 0 {
		var ms []string
		for _, m := range r.Matchers {
			ms = append(ms, m.String())
		}
		out["matchers"] = ms
	}
	for k, v := range map[string]string{"group_wait": r.GroupWait, "group_interval": r.GroupInterval, "repeat_interval": r.RepeatInterval} {
		if v != "" {
			out[k] = v
		}
	}
	if len(r.GroupBy) > 0 {
		out["group_by"] = r.GroupBy
	}
	if len(r.Routes) > 0 {
		var routes []map[string]any
		for _, c := range r.Routes {
			routes = append(routes, c.alertmanager())
		}
		out["routes"] = routes
	}
	return out
}

func render(s model.Spec, page, ticket map[string]any, t Timers) ([]byte, error) {
	cfg := map[string]any{
		"route": Tree(s, t).alertmanager(),
		"receivers": []map[string]any{
			withName(model.PageReceiver, page),
			withName(model.TicketReceiver, ticket),
		},
		"inhibit_rules": inhibitions(s),
	}
	// Tests load every configuration with Alertmanager's loader and
	// amtool check-config; generation only writes it.
	return generated.YAML(cfg)
}

func withName(name string, receiver map[string]any) map[string]any {
	out := map[string]any{"name": name}
	for k, v := range receiver {
		out[k] = v
	}
	return out
}

// inhibitions: per SLO, each tier silences the tiers with a lower burn
// factor while it fires; and a page silences the tickets of its SLO.
func inhibitions(s model.Spec) []map[string]any {
	var rules []map[string]any
	equal := []string{model.LabelService, model.LabelSLO}
	for _, svc := range s.Services {
		for _, o := range svc.SLOs {
			tiers := append([]model.Tier{}, o.Tiers...)
			sort.SliceStable(tiers, func(i, j int) bool { return tiers[i].Factor > tiers[j].Factor })
			for i, t := range tiers {
				var slower []string
				for _, u := range tiers[i+1:] {
					if u.Factor < t.Factor {
						slower = append(slower, u.Name)
					}
				}
				if len(slower) == 0 {
					continue
				}
				scope := []string{match(model.LabelService, svc.Name), match(model.LabelSLO, o.Name)}
				rules = append(rules, map[string]any{
					"source_matchers": append(append([]string{}, scope...), match(model.LabelTier, t.Name)),
					"target_matchers": append(append([]string{}, scope...), model.LabelTier+`=~"`+strings.Join(slower, "|")+`"`),
					"equal":           equal,
				})
			}
		}
	}
	unmeasured := match("alertname", model.AlertName(model.UnmeasuredAlert))
	page := severityOf(s, model.Page).String()
	return append(rules, map[string]any{
		"source_matchers": []string{page},
		"target_matchers": []string{severityOf(s, model.Ticket).String()},
		"equal":           equal,
	}, map[string]any{
		// A service that dies mid-incident leaves its other SLOs
		// unmeasured too; the incident has paged already. The SLO's own
		// page holds it open (package rules), so nothing hides the outage.
		"source_matchers": []string{page, fmt.Sprintf("alertname!=%q", model.AlertName(model.UnmeasuredAlert))},
		"target_matchers": []string{unmeasured},
		"equal":           []string{model.LabelService},
	})
}

func match(label, value string) string { return fmt.Sprintf("%s=%q", label, value) }
