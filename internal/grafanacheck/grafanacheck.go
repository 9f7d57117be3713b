// Package grafanacheck checks a bundle's Grafana alerting provisioning file
// (-target grafana-alerting) against the rest of the bundle: it decodes the
// file strictly with the Grafana Foundation SDK's alerting types, and
// checks that every Prometheus alert of the bundle has one Grafana rule
// with its labels, annotations, `for` and condition, reading only series
// the metric contract or the rule files provide, and that the contact
// points and policy tree route every alert as the production Alertmanager
// configuration does. Only tests import it.
package grafanacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/alerting"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/expr"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/tensorwasm/obsbundle/internal/dashcheck"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/routing"
	"github.com/tensorwasm/obsbundle/rules"
)

// File is a decoded provisioning file.
type File struct {
	APIVersion    int
	Groups        []Group
	ContactPoints []ContactPoint
	Policies      []alerting.NotificationPolicy
}

// Group is a rule group of the file, with its rules as the SDK has them.
type Group struct {
	OrgID                  int64
	Name, Folder, Interval string
	Rules                  []alerting.Rule
}

// ContactPoint is a named contact point and its receivers.
type ContactPoint struct {
	OrgID     int64
	Name      string
	Receivers []alerting.ContactPoint
}

// Decode reads a provisioning file strictly: the file format's own fields
// (apiVersion, groups, contactPoints, policies and their organisation,
// name and folder), and inside them rules, receivers and policies with the
// SDK's strict decoders, so an unknown field, a missing required one or a
// query model the SDK does not know fails. The fields the file format
// holds on a rule's group (folder, group, organisation) must not be on the
// rule; they are given to the SDK's decoder from the group.
func Decode(data []byte) (*File, error) {
	dashcheck.RegisterPlugins()
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var raw struct {
		APIVersion int `json:"apiVersion"`
		Groups     []struct {
			OrgID    int64                        `json:"orgId"`
			Name     string                       `json:"name"`
			Folder   string                       `json:"folder"`
			Interval string                       `json:"interval"`
			Rules    []map[string]json.RawMessage `json:"rules"`
		} `json:"groups"`
		ContactPoints []struct {
			OrgID     int64                        `json:"orgId"`
			Name      string                       `json:"name"`
			Receivers []map[string]json.RawMessage `json:"receivers"`
		} `json:"contactPoints"`
		Policies []map[string]json.RawMessage `json:"policies"`
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("provisioning file: %w", err)
	}
	f := &File{APIVersion: raw.APIVersion}
	for _, g := range raw.Groups {
		out := Group{OrgID: g.OrgID, Name: g.Name, Folder: g.Folder, Interval: g.Interval}
		for i, r := range g.Rules {
			for _, k := range []string{"folderUID", "ruleGroup", "orgID"} {
				if _, ok := r[k]; ok {
					return nil, fmt.Errorf("group %s rule %d: %s belongs on the group in a provisioning file", g.Name, i, k)
				}
			}
			r["folderUID"], r["ruleGroup"], r["orgID"] = quote(g.Folder), quote(g.Name), json.RawMessage(fmt.Sprint(g.OrgID))
			var rule alerting.Rule
			if err := strict(r, rule.UnmarshalJSONStrict); err != nil {
				return nil, fmt.Errorf("group %s rule %d: %w", g.Name, i, err)
			}
			if err := models(&rule, r["data"]); err != nil {
				return nil, fmt.Errorf("group %s rule %d: %w", g.Name, i, err)
			}
			out.Rules = append(out.Rules, rule)
		}
		f.Groups = append(f.Groups, out)
	}
	for _, c := range raw.ContactPoints {
		out := ContactPoint{OrgID: c.OrgID, Name: c.Name}
		for i, r := range c.Receivers {
			if _, ok := r["name"]; ok {
				return nil, fmt.Errorf("contact point %s receiver %d: the name belongs on the contact point", c.Name, i)
			}
			r["name"] = quote(c.Name)
			var cp alerting.ContactPoint
			if err := strict(r, cp.UnmarshalJSONStrict); err != nil {
				return nil, fmt.Errorf("contact point %s receiver %d: %w", c.Name, i, err)
			}
			out.Receivers = append(out.Receivers, cp)
		}
		f.ContactPoints = append(f.ContactPoints, out)
	}
	for i, p := range raw.Policies {
		if string(p["orgId"]) != "1" {
			return nil, fmt.Errorf("policy tree %d: orgId %s, expected 1", i, p["orgId"])
		}
		delete(p, "orgId")
		var np alerting.NotificationPolicy
		if err := strict(p, np.UnmarshalJSONStrict); err != nil {
			return nil, fmt.Errorf("policy tree %d: %w", i, err)
		}
		f.Policies = append(f.Policies, np)
	}
	return f, nil
}

// models decodes the query models of a rule strictly, by their datasource
// type. The SDK's strict decoder of a rule checks them, but drops each
// model it decoded without error (v0.0.22 takes the empty error list of a
// successful decoding for a failure, and so does its decoder of
// expressions for the expression it picked), so they are decoded again here.
func models(rule *alerting.Rule, data json.RawMessage) error {
	var queries []struct {
		Model json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal(data, &queries); err != nil {
		return err
	}
	for i, q := range queries {
		var head struct {
			Datasource struct{ Type string } `json:"datasource"`
			Type       string                `json:"type"`
		}
		if err := json.Unmarshal(q.Model, &head); err != nil {
			return err
		}
		var m variants.Dataquery
		var err error
		kind := head.Datasource.Type
		if kind == "__expr__" {
			kind += "/" + head.Type // the expression's own type picks its member
		}
		switch kind {
		case "prometheus":
			d := &prometheus.Dataquery{}
			m, err = d, strictBytes(q.Model, d.UnmarshalJSONStrict)
		case "__expr__" + "/reduce":
			d := &expr.TypeReduce{}
			m, err = &expr.Expr{TypeReduce: d}, strictBytes(q.Model, d.UnmarshalJSONStrict)
		case "__expr__" + "/threshold":
			d := &expr.TypeThreshold{}
			m, err = &expr.Expr{TypeThreshold: d}, strictBytes(q.Model, d.UnmarshalJSONStrict)
		default:
			err = fmt.Errorf("%q is neither a Prometheus query nor a reduce or threshold expression", kind)
		}
		if err != nil {
			return fmt.Errorf("query %d model: %w", i, err)
		}
		rule.Data[i].Model = m
	}
	return nil
}

func quote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// strict runs an SDK strict decoder on fields. The SDK's decoders return an
// empty error list on success, which is nil here.
func strict(fields map[string]json.RawMessage, decode func([]byte) error) error {
	data, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return strictBytes(data, decode)
}

func strictBytes(data []byte, decode func([]byte) error) error {
	err := decode(data)
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

// Interpolate expands a value as Grafana's file provisioning does, for a
// value that must name no environment variable: $$ is a $, and any other $
// would start a variable's name, an error here.
func Interpolate(s string) (string, error) {
	parts := strings.Split(s, "$$")
	for _, p := range parts {
		if strings.Contains(p, "$") {
			return "", fmt.Errorf("%q: Grafana would read an environment variable at its unescaped $", s)
		}
	}
	return strings.Join(parts, "$"), nil
}

// Check checks the provisioning file data of the bundle of s (see the
// package documentation), returning the first problem.
func Check(s model.Spec, data []byte) error {
	f, err := Decode(data)
	if err != nil {
		return err
	}
	if f.APIVersion != 1 {
		return fmt.Errorf("apiVersion %d, expected 1", f.APIVersion)
	}
	known, err := dashcheck.KnownSeries(s)
	if err != nil {
		return err
	}
	// SLOUnmeasured reads whether the service's targets are up: a series
	// Prometheus writes for every target it scrapes.
	known[model.UpSeries] = true
	byUID := map[string]alerting.Rule{}
	groupOf := map[string]Group{}
	for _, g := range f.Groups {
		if g.OrgID != 1 {
			return fmt.Errorf("group %s: orgId %d, expected 1", g.Name, g.OrgID)
		}
		for _, r := range g.Rules {
			if r.Uid == nil {
				return fmt.Errorf("group %s: rule %s has no UID", g.Name, r.Title)
			}
			if _, dup := byUID[*r.Uid]; dup {
				return fmt.Errorf("rule UID %s twice", *r.Uid)
			}
			byUID[*r.Uid], groupOf[*r.Uid] = r, g
		}
	}
	var alerts []prommodel.LabelSet
	for i := range s.Services {
		svc := &s.Services[i]
		groups, err := rules.Build(svc, s.Version)
		if err != nil {
			return err
		}
		for _, g := range groups.Groups {
			for _, pr := range g.Rules {
				if pr.Alert == "" {
					continue
				}
				uid := svc.GrafanaRuleUID(pr.Labels[model.LabelSLO], pr.Labels[model.LabelTier], pr.Alert)
				gr, ok := byUID[uid]
				if !ok {
					return fmt.Errorf("service %s alert %s (slo %q): no Grafana rule", svc.Name, pr.Alert, pr.Labels[model.LabelSLO])
				}
				delete(byUID, uid)
				where := fmt.Sprintf("service %s rule %s (%s)", svc.Name, pr.Alert, uid)
				grp := groupOf[uid]
				if grp.Name != g.Name || grp.Folder != svc.Title || grp.Interval != g.Interval.String() {
					return fmt.Errorf("%s: in group %s of folder %s every %s, expected %s of %s every %s",
						where, grp.Name, grp.Folder, grp.Interval, g.Name, svc.Title, g.Interval)
				}
				if gr.Title != pr.Alert {
					return fmt.Errorf("%s: title %q", where, gr.Title)
				}
				// As in Prometheus: no sample is no alert, and a failed
				// evaluation changes nothing.
				if gr.NoDataState != alerting.RuleNoDataStateOK || gr.ExecErrState != alerting.RuleExecErrStateKeepLast {
					return fmt.Errorf("%s: no data %s and errors %s, expected OK and KeepLast", where, gr.NoDataState, gr.ExecErrState)
				}
				if d, err := prommodel.ParseDuration(gr.For); err != nil || d != pr.For {
					return fmt.Errorf("%s: for %q, expected %s", where, gr.For, pr.For)
				}
				labels := map[string]string{}
				for k, v := range gr.Labels {
					if labels[k], err = Interpolate(v); err != nil {
						return fmt.Errorf("%s: label %s: %w", where, k, err)
					}
				}
				if !maps.Equal(labels, pr.Labels) {
					return fmt.Errorf("%s: labels %v, expected %v", where, labels, pr.Labels)
				}
				if err := annotations(gr.Annotations, pr.Annotations); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				if err := chain(gr, pr.Expr, known); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				ls := prommodel.LabelSet{"alertname": prommodel.LabelValue(pr.Alert)}
				for k, v := range pr.Labels {
					ls[prommodel.LabelName(k)] = prommodel.LabelValue(v)
				}
				alerts = append(alerts, ls)
			}
		}
	}
	if len(byUID) > 0 {
		uid := slices.Min(slices.Collect(maps.Keys(byUID)))
		return fmt.Errorf("the Grafana rule %s (%s) has no Prometheus alert", byUID[uid].Title, uid)
	}
	return notifications(s, f, alerts)
}

// annotations are equal but for Grafana's spelling of the alert's value.
func annotations(grafana, prom map[string]string) error {
	if !slices.Equal(slices.Sorted(maps.Keys(grafana)), slices.Sorted(maps.Keys(prom))) {
		return fmt.Errorf("annotations %v, expected %v", slices.Sorted(maps.Keys(grafana)), slices.Sorted(maps.Keys(prom)))
	}
	for k, v := range prom {
		g := grafana[k]
		if k == model.AnnotationDescription {
			g = strings.ReplaceAll(g, "$values.B.Value", "$value")
		} else if g != v {
			return fmt.Errorf("annotation %s %q, expected the Prometheus alert's %q", k, g, v)
		}
		if g != v {
			return fmt.Errorf("annotation %s %q, expected %q with $value read as $values.B.Value", k, grafana[k], v)
		}
	}
	return nil
}

// chain checks a rule's queries: A is the Prometheus alert's condition on
// the bundle's datasource, an instant query; B its last value; C, the
// rule's condition, B > 0.
func chain(r alerting.Rule, promExpr string, known map[string]bool) error {
	if r.Condition != "C" || len(r.Data) != 3 {
		return fmt.Errorf("condition %s over %d queries, expected C over A, B, C", r.Condition, len(r.Data))
	}
	for i, ref := range []string{"A", "B", "C"} {
		if q := r.Data[i]; q.RefId == nil || *q.RefId != ref {
			return fmt.Errorf("query %d is not %s", i, ref)
		}
	}
	a, b, c := r.Data[0], r.Data[1], r.Data[2]
	q, ok := a.Model.(*prometheus.Dataquery)
	if !ok || a.DatasourceUid == nil || *a.DatasourceUid != model.DatasourceUID ||
		q.Datasource == nil || q.Datasource.Uid == nil || *q.Datasource.Uid != model.DatasourceUID {
		return fmt.Errorf("query A is %T, not a query of the Prometheus datasource %q", a.Model, model.DatasourceUID)
	}
	if q.Instant == nil || !*q.Instant || (q.Range != nil && *q.Range) || q.RefId == nil || *q.RefId != "A" {
		return fmt.Errorf("query A is not an instant query of refId A")
	}
	text, err := Interpolate(q.Expr)
	if err != nil {
		return err
	}
	got, err := model.ParseExpr(text)
	if err != nil {
		return fmt.Errorf("query A does not parse: %w", err)
	}
	var unknown error
	parser.Inspect(got, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && !known[vs.Name] && unknown == nil {
			unknown = fmt.Errorf("query A reads %s, which neither the contract nor the rule files provide", vs.Name)
		}
		return nil
	})
	if unknown != nil {
		return unknown
	}
	want, err := Condition(promExpr)
	if err != nil {
		return err
	}
	if unwrap(got).String() != want {
		return fmt.Errorf("query A is\n%s\nnot the Prometheus alert's condition\n%s", unwrap(got), want)
	}
	red, ok := b.Model.(*expr.Expr)
	if !ok || red.TypeReduce == nil || red.TypeReduce.Expression != "A" || red.TypeReduce.Reducer != expr.TypeReduceReducerLast {
		return fmt.Errorf("query B is %T, not the last value of A", b.Model)
	}
	th, ok := c.Model.(*expr.Expr)
	if !ok || th.TypeThreshold == nil || th.TypeThreshold.Expression != "B" || len(th.TypeThreshold.Conditions) != 1 {
		return fmt.Errorf("query C is %T, not a threshold on B", c.Model)
	}
	ev := th.TypeThreshold.Conditions[0].Evaluator
	if ev.Type != expr.ExprTypeThresholdConditionsEvaluatorTypeGt || !slices.Equal(ev.Params, []float64{0}) {
		return fmt.Errorf("query C is B %s %v, expected B gt [0]", ev.Type, ev.Params)
	}
	for _, e := range []alerting.Query{b, c} {
		if e.DatasourceUid == nil || *e.DatasourceUid != "__expr__" {
			return fmt.Errorf("expression %s is not on Grafana's expression datasource", *e.RefId)
		}
	}
	return nil
}

// Condition is a Prometheus alert's expression without the incident
// (package rules): for a page alert that reads ALERTS, its own condition,
// the left side of `(cond unless on () ALERTS{...}) or on () (held...)`;
// for any other alert, the whole expression. It is printed as Prometheus'
// parser prints it, outer parentheses removed.
func Condition(promExpr string) (string, error) {
	e, err := model.ParseExpr(promExpr)
	if err != nil {
		return "", err
	}
	if !readsAlerts(e) {
		return unwrap(e).String(), nil
	}
	or, ok := unwrap(e).(*parser.BinaryExpr)
	if !ok || or.Op != parser.LOR {
		return "", fmt.Errorf("%s reads ALERTS but is not `cond or on () held`", e)
	}
	unless, ok := unwrap(or.LHS).(*parser.BinaryExpr)
	if !ok || unless.Op != parser.LUNLESS || !readsAlerts(unless.RHS) || readsAlerts(unless.LHS) {
		return "", fmt.Errorf("%s reads ALERTS but does not start with `cond unless on () ALERTS`", e)
	}
	return unwrap(unless.LHS).String(), nil
}

func unwrap(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

func readsAlerts(e parser.Node) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name == "ALERTS" {
			found = true
		}
		return nil
	})
	return found
}

// notifications checks the contact points and the policy tree against the
// production Alertmanager configuration: the same receivers, and every
// alert routed to the same receiver with the same grouping and timers, by
// a route below the root.
func notifications(s model.Spec, f *File, alerts []prommodel.LabelSet) error {
	prodYAML, err := routing.Production(s)
	if err != nil {
		return err
	}
	prod, err := amconfig.Load(string(prodYAML))
	if err != nil {
		return err
	}
	var names []string
	for _, r := range prod.Receivers {
		names = append(names, r.Name)
	}
	var points []string
	for _, c := range f.ContactPoints {
		points = append(points, c.Name)
		if c.OrgID != 1 || len(c.Receivers) != 1 {
			return fmt.Errorf("contact point %s: orgId %d, %d receivers; expected orgId 1 and one receiver", c.Name, c.OrgID, len(c.Receivers))
		}
		r := c.Receivers[0]
		settings, _ := r.Settings.(map[string]any)
		if r.DisableResolveMessage == nil || *r.DisableResolveMessage {
			return fmt.Errorf("contact point %s does not send resolved alerts, as the Alertmanager receivers do", c.Name)
		}
		switch c.Name {
		case model.PageReceiver:
			if r.Type != alerting.ContactPointTypePagerduty || settings["integrationKey"] != "${"+model.PagerDutyKeyEnv+"}" {
				return fmt.Errorf("contact point %s: %s %v, expected PagerDuty with the key from $%s", c.Name, r.Type, settings, model.PagerDutyKeyEnv)
			}
		case model.TicketReceiver:
			if r.Type != alerting.ContactPointTypeSlack || settings["url"] != "${"+model.SlackURLEnv+"}" {
				return fmt.Errorf("contact point %s: %s %v, expected Slack with the URL from $%s", c.Name, r.Type, settings, model.SlackURLEnv)
			}
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(points)), slices.Sorted(slices.Values(names))) {
		return fmt.Errorf("contact points %v, expected the Alertmanager receivers %v", points, names)
	}
	if len(f.Policies) != 1 {
		return fmt.Errorf("%d policy trees, expected one", len(f.Policies))
	}
	route, err := alertmanagerRoute(f.Policies[0])
	if err != nil {
		return err
	}
	cfg := map[string]any{"route": route, "receivers": []map[string]string{}}
	for _, n := range points {
		cfg["receivers"] = append(cfg["receivers"].([]map[string]string), map[string]string{"name": n})
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	grafana, err := amconfig.Load(string(data))
	if err != nil {
		return fmt.Errorf("the policy tree as an Alertmanager route: %w\n%s", err, data)
	}
	gTree, pTree := dispatch.NewRoute(grafana.Route, nil), dispatch.NewRoute(prod.Route, nil)
	severities := map[string]bool{}
	for _, ls := range alerts {
		g, p := gTree.Match(ls), pTree.Match(ls)
		if len(g) != 1 || len(p) != 1 {
			return fmt.Errorf("%v: %d Grafana policies and %d Alertmanager routes match, expected one each", ls, len(g), len(p))
		}
		if g[0] == gTree {
			return fmt.Errorf("%v reaches only the root policy", ls)
		}
		if !equalOpts(g[0].RouteOpts, p[0].RouteOpts) {
			return fmt.Errorf("%v: Grafana routes it with %v, Alertmanager with %v", ls, g[0].RouteOpts, p[0].RouteOpts)
		}
		severities[string(ls[model.LabelSeverity])] = true
	}
	known := slices.Concat(s.SeverityValues(model.Page), s.SeverityValues(model.Ticket))
	for sev := range severities {
		if !slices.Contains(known, sev) {
			return fmt.Errorf("severity %q has no receiver", sev)
		}
	}
	return nil
}

func equalOpts(a, b dispatch.RouteOpts) bool {
	return a.Receiver == b.Receiver && maps.Equal(a.GroupBy, b.GroupBy) && a.GroupByAll == b.GroupByAll &&
		a.GroupWait == b.GroupWait && a.GroupInterval == b.GroupInterval && a.RepeatInterval == b.RepeatInterval
}

// alertmanagerRoute is a Grafana policy as an Alertmanager route: the two
// share their fields but for matchers, which Grafana writes as
// [name, operator, value] triples.
func alertmanagerRoute(p alerting.NotificationPolicy) (map[string]any, error) {
	out := map[string]any{}
	if p.Receiver != nil {
		out["receiver"] = *p.Receiver
	}
	if len(p.GroupBy) > 0 {
		out["group_by"] = p.GroupBy
	}
	for k, v := range map[string]*string{"group_wait": p.GroupWait, "group_interval": p.GroupInterval, "repeat_interval": p.RepeatInterval} {
		if v != nil {
			if _, err := time.ParseDuration(*v); err != nil {
				return nil, fmt.Errorf("%s %q: %w", k, *v, err)
			}
			out[k] = *v
		}
	}
	if p.Match != nil || p.MatchRe != nil || p.Matchers != nil || p.Continue != nil {
		return nil, fmt.Errorf("policy uses more than object_matchers")
	}
	if p.ObjectMatchers != nil {
		var ms []string
		for _, m := range *p.ObjectMatchers {
			if len(m) != 3 {
				return nil, fmt.Errorf("object matcher %v is not [name, operator, value]", m)
			}
			v, err := Interpolate(m[2])
			if err != nil {
				return nil, err
			}
			ms = append(ms, fmt.Sprintf("%s%s%q", m[0], m[1], v))
		}
		out["matchers"] = ms
	}
	var routes []map[string]any
	for _, c := range p.Routes {
		r, err := alertmanagerRoute(c)
		if err != nil {
			return nil, err
		}
		routes = append(routes, r)
	}
	if len(routes) > 0 {
		out["routes"] = routes
	}
	return out, nil
}
