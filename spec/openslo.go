package spec

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// prometheusSources are the metricSource types whose queries are PromQL
// that the bundle's Prometheus rules can evaluate (compared lowercased).
var prometheusSources = []string{"prometheus", "thanos", "cortex", "mimir", "victoriametrics", "amazonprometheus", "grafanacloud"}

// object is one OpenSLO document: its kind, name and spec.
type object struct {
	kind, name, display string
	node, spec          *yaml.Node
}

func readObject(n *yaml.Node) object {
	md := get(n, "metadata")
	return object{kind: scalar(get(n, "kind")), name: scalar(get(md, "name")), display: scalar(get(md, "displayName")), node: n, spec: get(n, "spec")}
}

// openSLOV1 reads OpenSLO v1 documents: Services name and title the
// services; SLOs with inline or referenced SLIs, data sources, alert
// policies and alert conditions become SLOs and their tiers.
func (im *importer) openSLOV1(docs []*yaml.Node) error {
	byKind := map[string]map[string]object{}
	var slos []object
	for _, d := range docs {
		o := readObject(d)
		if o.name == "" {
			return importError(im.file, d, "metadata.name", "expected every OpenSLO object to have metadata.name")
		}
		switch o.kind {
		case "SLO":
			slos = append(slos, o)
		case "Service":
			im.service(o.name, firstOf(o.display, o.name), scalar(get(o.spec, "description")))
		case "SLI", "DataSource", "AlertPolicy", "AlertCondition":
		case "AlertNotificationTarget":
			im.changed("AlertNotificationTarget %s (line %d) is not converted: the bundle's Alertmanager routes by severity to its page and ticket receivers; configure those receivers instead", o.name, d.Line)
		default:
			im.changed("OpenSLO %s %s (line %d) is not converted: it has no counterpart in the bundle", o.kind, o.name, d.Line)
		}
		if byKind[o.kind] == nil {
			byKind[o.kind] = map[string]object{}
		}
		byKind[o.kind][o.name] = o
	}
	for _, o := range slos {
		p, err := im.openSLOObjective(o, byKind)
		if err != nil {
			im.refuse(err)
			continue
		}
		im.pending = append(im.pending, p)
	}
	return nil
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// openSLOObjective converts one OpenSLO v1 SLO.
func (im *importer) openSLOObjective(o object, refs map[string]map[string]object) (pending, error) {
	spec := o.spec
	fail := func(n *yaml.Node, field, format string, args ...any) (pending, error) {
		if n == nil {
			n = spec
		}
		if n == nil {
			n = o.node
		}
		return pending{}, importError(im.file, n, "spec."+field, "SLO %s: "+format, append([]any{o.name}, args...)...)
	}
	if k := unknownKey(spec, "description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives", "alertPolicies"); k != nil {
		return fail(k, k.Value, "unknown field %q; expected description, service, indicator or indicatorRef, timeWindow, budgetingMethod, objectives, alertPolicies", k.Value)
	}
	svcName := scalar(get(spec, "service"))
	if kebab(svcName) == "" {
		return fail(get(spec, "service"), "service", "expected the name of the service the SLO is about, got %q", svcName)
	}
	if bm := scalar(get(spec, "budgetingMethod")); bm != "" && bm != "Occurrences" {
		return fail(get(spec, "budgetingMethod"), "budgetingMethod", "only Occurrences budgets map (the bundle counts events); %s budgets count time slices. Use budgetingMethod: Occurrences", bm)
	}
	// The indicator first: what it measures decides whether the rest matters.
	shape, err := im.openSLOIndicator(o, refs)
	if err != nil {
		return pending{}, err
	}
	period, err := im.openSLOWindow(get(spec, "timeWindow"), "spec.timeWindow", o.name)
	if err != nil {
		return pending{}, err
	}
	objective, err := im.openSLOTarget(get(spec, "objectives"), o.name)
	if err != nil {
		return pending{}, err
	}
	svc := im.service(svcName, "", "")
	slo := model.SLO{Name: sloName(o.name), Description: firstOf(scalar(get(spec, "description")), o.display), Objective: objective, Period: period}
	tiers, err := im.openSLOTiers(get(spec, "alertPolicies"), o.name, svc, refs)
	if err != nil {
		return pending{}, err
	}
	slo.Tiers = tiers
	return pending{service: svc, slo: slo, shape: shape}, nil
}

// openSLOWindow maps a rolling time window onto the SLO's period.
func (im *importer) openSLOWindow(n *yaml.Node, path, slo string) (model.Duration, error) {
	if n == nil {
		im.changed("SLO %s has no timeWindow: its period is the default %s", slo, model.DefaultPeriod)
		return model.DefaultPeriod, nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) != 1 {
		return 0, importError(im.file, n, path, "SLO %s: expected one time window, got %s", slo, describe(n))
	}
	w := n.Content[0]
	if k := unknownKey(w, "duration", "isRolling", "calendar"); k != nil {
		return 0, importError(im.file, k, path+"[0]."+k.Value, "SLO %s: unknown field %q; expected duration, isRolling, calendar", slo, k.Value)
	}
	if r := get(w, "isRolling"); get(w, "calendar") != nil || (r != nil && r.Value != "true") {
		return 0, importError(im.file, w, path+"[0]", "SLO %s: only rolling time windows map, not calendar-aligned ones: the bundle's period is a window that ends now. Use isRolling: true", slo)
	}
	return durationOf(im.file, get(w, "duration"), path+"[0].duration", slo)
}

// durationOf reads an OpenSLO duration: Prometheus units (28d, 4w) map,
// months and years are refused as they have no fixed length.
func durationOf(file string, n *yaml.Node, path, slo string) (model.Duration, error) {
	v := scalar(n)
	if strings.HasSuffix(v, "M") || strings.HasSuffix(v, "Q") || strings.HasSuffix(v, "Y") {
		return 0, importError(file, n, path, "SLO %s: %q is a calendar unit with no fixed length (a month has 28 to 31 days), and the bundle's period is a fixed rolling window; write it in days, such as 30d or 28d", slo, v)
	}
	d, err := model.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, importError(file, n, path, "SLO %s: expected a duration such as 28d or 4w, got %q", slo, v)
	}
	return d, nil
}

// openSLOTarget reads the one objective's target (a ratio) or
// targetPercent (a percentage); both given must agree.
func (im *importer) openSLOTarget(n *yaml.Node, slo string) (float64, error) {
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) != 1 {
		return 0, importError(im.file, n, "spec.objectives", "SLO %s: expected exactly one objective; write one SLO per objective", slo)
	}
	obj := n.Content[0]
	if k := unknownKey(obj, "displayName", "target", "targetPercent"); k != nil {
		why := "it has no counterpart for a ratio SLI"
		if strings.HasPrefix(k.Value, "timeSlice") {
			why = "time-slice objectives do not map; the bundle counts events"
		}
		return 0, importError(im.file, k, "spec.objectives[0]."+k.Value, "SLO %s: field %q does not map (%s); expected target or targetPercent", slo, k.Value, why)
	}
	var got []float64
	if t := get(obj, "target"); t != nil {
		v, err := strconv.ParseFloat(t.Value, 64)
		if err != nil || v <= 0 || v >= 1 {
			return 0, importError(im.file, t, "spec.objectives[0].target", "SLO %s: expected a ratio strictly between 0 and 1 such as 0.995, got %q", slo, t.Value)
		}
		got = append(got, v)
	}
	if t := get(obj, "targetPercent"); t != nil {
		v, err := strconv.ParseFloat(t.Value, 64)
		if err != nil || v <= 0 || v >= 100 {
			return 0, importError(im.file, t, "spec.objectives[0].targetPercent", "SLO %s: expected a percentage strictly between 0 and 100 such as 99.5, got %q", slo, t.Value)
		}
		got = append(got, model.Clean(v/100))
	}
	switch {
	case len(got) == 0:
		return 0, importError(im.file, obj, "spec.objectives[0]", "SLO %s: expected target (0.995) or targetPercent (99.5)", slo)
	case len(got) == 2 && math.Abs(got[0]-got[1]) > 1e-12:
		return 0, importError(im.file, obj, "spec.objectives[0]", "SLO %s: target %s and targetPercent %s disagree; keep one", slo, model.Decimal(got[0]), model.Decimal(got[1]*100))
	}
	return model.Clean(got[0]), nil
}

// openSLOIndicator finds the SLO's ratio SLI, inline or by reference, and
// maps its queries.
func (im *importer) openSLOIndicator(o object, refs map[string]map[string]object) (sliShape, error) {
	var sli *yaml.Node
	path := "spec.indicator.spec"
	if in := get(o.spec, "indicator"); in != nil {
		sli = get(in, "spec")
	} else if ref := get(o.spec, "indicatorRef"); ref != nil {
		d, ok := refs["SLI"][ref.Value]
		if !ok {
			return sliShape{}, importError(im.file, ref, "spec.indicatorRef", "SLO %s: no SLI document named %q in this file", o.name, ref.Value)
		}
		sli, path = d.spec, "SLI "+ref.Value+" spec"
	}
	if sli == nil {
		return sliShape{}, importError(im.file, o.spec, "spec.indicator", "SLO %s: expected indicator or indicatorRef", o.name)
	}
	if th := get(sli, "thresholdMetric"); th != nil {
		return sliShape{}, importError(im.file, th, path+".thresholdMetric", "SLO %s: a threshold metric compares one value with a bound per time slice; the bundle counts good and bad events. "+
			"Write a ratioMetric of events instead (for latency, a histogram bucket over its count)", o.name)
	}
	r := get(sli, "ratioMetric")
	if r == nil {
		return sliShape{}, importError(im.file, sli, path, "SLO %s: expected a ratioMetric", o.name)
	}
	if k := unknownKey(r, "counter", "good", "bad", "total", "rawType", "raw"); k != nil {
		return sliShape{}, importError(im.file, k, path+".ratioMetric."+k.Value, "SLO %s: unknown field %q", o.name, k.Value)
	}
	if raw := get(r, "raw"); raw != nil {
		return sliShape{}, importError(im.file, raw, path+".ratioMetric.raw", "SLO %s: a precomputed ratio cannot be split into bad and total events, which the bundle counts exactly; write good (or bad) and total queries", o.name)
	}
	bare := scalar(get(r, "counter")) == "true"
	total, err := im.openSLOQuery(get(r, "total"), path+".ratioMetric.total", o.name, refs)
	if err != nil {
		return sliShape{}, err
	}
	good, bad := get(r, "good"), get(r, "bad")
	which, n := "bad", bad
	if good != nil {
		which, n = "good", good
	}
	if (good == nil) == (bad == nil) {
		return sliShape{}, importError(im.file, r, path+".ratioMetric", "SLO %s: expected exactly one of good and bad, with total", o.name)
	}
	q, err := im.openSLOQuery(n, path+".ratioMetric."+which, o.name, refs)
	if err != nil {
		return sliShape{}, err
	}
	var shape sliShape
	if which == "good" {
		shape, err = goodOverTotal(q, total, bare)
	} else {
		shape, err = badOverTotal(q, total, bare)
	}
	if err != nil {
		return sliShape{}, importError(im.file, n, path+".ratioMetric."+which, "SLO %s: %v", o.name, err)
	}
	return shape, nil
}

// openSLOQuery reads a metric's PromQL query, refusing sources whose
// queries Prometheus cannot run.
func (im *importer) openSLOQuery(n *yaml.Node, path, slo string, refs map[string]map[string]object) (string, error) {
	src := get(n, "metricSource")
	if src == nil {
		return "", importError(im.file, n, path, "SLO %s: expected metricSource with type and spec.query", slo)
	}
	typ, spec := scalar(get(src, "type")), get(src, "spec")
	if ref := get(src, "metricSourceRef"); ref != nil {
		ds, ok := refs["DataSource"][ref.Value]
		if !ok {
			return "", importError(im.file, ref, path+".metricSource.metricSourceRef", "SLO %s: no DataSource document named %q in this file", slo, ref.Value)
		}
		typ = firstOf(typ, scalar(get(ds.spec, "type")))
	}
	if !slices.Contains(prometheusSources, strings.ToLower(typ)) {
		return "", importError(im.file, firstNode(get(src, "type"), src), path+".metricSource.type", "SLO %s: metric source %q does not map: the bundle is Prometheus rules, so only Prometheus-compatible sources do (%s)",
			slo, typ, strings.Join(prometheusSources, ", "))
	}
	q := get(spec, "query", "promql")
	if q == nil || q.Value == "" {
		return "", importError(im.file, firstNode(spec, src), path+".metricSource.spec", "SLO %s: expected spec.query with a PromQL query", slo)
	}
	return q.Value, nil
}

func firstNode(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

// openSLOTiers maps the burn-rate conditions of an SLO's alert policies
// onto tiers; without alert policies the SLO gets the standard four.
func (im *importer) openSLOTiers(n *yaml.Node, slo, svc string, refs map[string]map[string]object) ([]model.Tier, error) {
	name := sloName(slo)
	if n == nil || len(n.Content) == 0 {
		im.changed("service %s, SLO %s has no alertPolicies: it gets the standard tiers (14.4x 1h/5m and 6x 6h/30m page, 3x 1d/2h and 1x 3d/6h ticket)", svc, name)
		var out []model.Tier
		for _, t := range standardTiers {
			t.Alert = kebab(slo) + "-" + t.Name
			out = append(out, t)
		}
		return out, nil
	}
	var tiers []model.Tier
	for i, item := range n.Content {
		path := fmt.Sprintf("spec.alertPolicies[%d]", i)
		policy, err := im.resolve(item, "alertPolicyRef", "AlertPolicy", path, slo, refs)
		if err != nil {
			return nil, err
		}
		conds := get(policy.spec, "conditions")
		if conds == nil || conds.Kind != yaml.SequenceNode || len(conds.Content) == 0 {
			return nil, importError(im.file, policy.node, path, "SLO %s: alert policy %s has no conditions", slo, policy.name)
		}
		for j, c := range conds.Content {
			cond, err := im.resolve(c, "conditionRef", "AlertCondition", fmt.Sprintf("%s.conditions[%d]", path, j), slo, refs)
			if err != nil {
				return nil, err
			}
			t, err := im.burnRateTier(cond, slo, svc)
			if err != nil {
				return nil, err
			}
			tiers = append(tiers, t)
		}
	}
	return tiers, nil
}

// resolve returns an inline object or the document a reference names.
func (im *importer) resolve(n *yaml.Node, refKey, kind, path, slo string, refs map[string]map[string]object) (object, error) {
	if n.Kind == yaml.ScalarNode {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: refKey}, n}}
	}
	if ref := get(n, refKey); ref != nil {
		o, ok := refs[kind][ref.Value]
		if !ok {
			return object{}, importError(im.file, ref, path+"."+refKey, "SLO %s: no %s document named %q in this file", slo, kind, ref.Value)
		}
		return o, nil
	}
	o := readObject(n)
	if o.spec == nil {
		return object{}, importError(im.file, n, path, "SLO %s: expected an inline %s (kind, metadata, spec) or %s", slo, kind, refKey)
	}
	return o, nil
}

// burnRateTier maps one burn-rate alert condition: its threshold is the
// factor, its lookback window the long window; the short window, which
// OpenSLO does not name, is a twelfth of it (as in the standard tiers).
func (im *importer) burnRateTier(c object, slo, svc string) (model.Tier, error) {
	cond := get(c.spec, "condition")
	fail := func(n *yaml.Node, field, format string, args ...any) (model.Tier, error) {
		return model.Tier{}, importError(im.file, firstNode(n, cond, c.node), "AlertCondition "+c.name+"."+field, "SLO %s: "+format, append([]any{slo}, args...)...)
	}
	if kind := scalar(get(cond, "kind")); kind != "burnrate" {
		return fail(get(cond, "kind"), "condition.kind", "only burnrate conditions map onto the bundle's burn-rate tiers, got %q", kind)
	}
	if op := scalar(get(cond, "op")); op != "" && op != "gte" && op != "gt" {
		return fail(get(cond, "op"), "condition.op", "a burn-rate alert fires above its threshold: expected op gte or gt, got %q", op)
	}
	factor, err := strconv.ParseFloat(scalar(get(cond, "threshold")), 64)
	if err != nil || factor <= 0 {
		return fail(get(cond, "threshold"), "condition.threshold", "expected a positive burn rate such as 14.4, got %q", scalar(get(cond, "threshold")))
	}
	lb := get(cond, "lookbackWindow")
	if v := scalar(lb); strings.HasPrefix(v, "-") {
		im.changed("AlertCondition %s: lookbackWindow %s read as %s (a window looks back by definition)", c.name, v, strings.TrimPrefix(v, "-"))
		lb = &yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimPrefix(v, "-"), Line: lb.Line, Column: lb.Column}
	}
	long, err := durationOf(im.file, lb, "AlertCondition "+c.name+".condition.lookbackWindow", slo)
	if err != nil {
		return model.Tier{}, err
	}
	short := model.Duration((long.Std()/12 + time.Minute - 1) / time.Minute * time.Minute)
	var after model.Duration
	if a := get(cond, "alertAfter"); a != nil {
		if after, err = durationOf(im.file, a, "AlertCondition "+c.name+".condition.alertAfter", slo); err != nil {
			return model.Tier{}, err
		}
	}
	sev, ok := severityOf(scalar(get(c.spec, "severity")))
	if !ok {
		return fail(get(c.spec, "severity"), "severity", "severity %q does not say whether the alert pages; expected page, critical or high (page) or ticket, warning, medium, low or info (ticket)", scalar(get(c.spec, "severity")))
	}
	name := kebab(c.name)
	im.changed("service %s, SLO %s: AlertCondition %s becomes tier %s (%sx over %s, short window %s = a twelfth of it, for %s, %s)",
		svc, sloName(slo), c.name, name, model.Decimal(factor), long, short, after, sev)
	return model.Tier{Name: name, Alert: kebab(slo) + "-" + name, Severity: sev, Long: long, Short: short, Factor: factor, For: after}, nil
}

// severityOf maps OpenSLO's free-form severity onto page or ticket.
func severityOf(s string) (model.Severity, bool) {
	switch strings.ToLower(s) {
	case "page", "critical", "high":
		return model.Page, true
	case "ticket", "warning", "medium", "low", "info":
		return model.Ticket, true
	}
	return "", false
}

// openSLOAlpha reads an OpenSLO v1alpha SLO as Sloth reads it: one SLO per
// objective, each with a ratioMetrics of good (or bad) over total.
func (im *importer) openSLOAlpha(d *yaml.Node) error {
	o := readObject(d)
	switch o.kind {
	case "Service":
		im.service(o.name, firstOf(o.display, o.name), scalar(get(o.spec, "description")))
		return nil
	case "SLO":
	default:
		im.changed("OpenSLO v1alpha %s %s (line %d) is not converted: it has no counterpart in the bundle", o.kind, o.name, d.Line)
		return nil
	}
	spec := o.spec
	if k := unknownKey(spec, "description", "service", "budgetingMethod", "objectives", "timeWindows", "indicator"); k != nil {
		im.refuse(importError(im.file, k, "spec."+k.Value, "SLO %s: unknown OpenSLO v1alpha field %q", o.name, k.Value))
		return nil
	}
	svcName := scalar(get(spec, "service"))
	if kebab(svcName) == "" {
		im.refuse(importError(im.file, firstNode(get(spec, "service"), d), "spec.service", "SLO %s: expected the name of the service", o.name))
		return nil
	}
	if bm := scalar(get(spec, "budgetingMethod")); bm != "" && bm != "Occurrences" {
		im.refuse(importError(im.file, get(spec, "budgetingMethod"), "spec.budgetingMethod", "SLO %s: only Occurrences budgets map (the bundle counts events), got %s", o.name, bm))
		return nil
	}
	period, err := im.alphaWindow(get(spec, "timeWindows"), o.name)
	if err != nil {
		im.refuse(err)
		return nil
	}
	objs := get(spec, "objectives")
	if objs == nil || objs.Kind != yaml.SequenceNode || len(objs.Content) == 0 {
		im.refuse(importError(im.file, firstNode(objs, d), "spec.objectives", "SLO %s: expected at least one objective", o.name))
		return nil
	}
	svc := im.service(svcName, "", "")
	for i, obj := range objs.Content {
		p, err := im.alphaObjective(o, obj, i, len(objs.Content), svc, period)
		if err != nil {
			im.refuse(err)
			continue
		}
		im.pending = append(im.pending, p)
	}
	return nil
}

// alphaWindow maps v1alpha's timeWindows (count and unit) onto a period.
func (im *importer) alphaWindow(n *yaml.Node, slo string) (model.Duration, error) {
	if n == nil {
		im.changed("SLO %s has no timeWindows: its period is the default %s", slo, model.DefaultPeriod)
		return model.DefaultPeriod, nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) != 1 {
		return 0, importError(im.file, n, "spec.timeWindows", "SLO %s: expected one time window", slo)
	}
	w := n.Content[0]
	if c := get(w, "calendar"); c != nil || scalar(get(w, "isRolling")) == "false" {
		return 0, importError(im.file, w, "spec.timeWindows[0]", "SLO %s: only rolling time windows map, not calendar-aligned ones; use isRolling: true", slo)
	}
	count, err := strconv.Atoi(scalar(get(w, "count")))
	unit := map[string]time.Duration{"Second": time.Second, "Minute": time.Minute, "Hour": time.Hour, "Day": 24 * time.Hour, "Week": 7 * 24 * time.Hour}[scalar(get(w, "unit"))]
	if err != nil || count <= 0 || unit == 0 {
		return 0, importError(im.file, w, "spec.timeWindows[0]", "SLO %s: expected a positive count and a unit of Day or Week (Month, Quarter and Year have no fixed length; write days), got count %q unit %q",
			slo, scalar(get(w, "count")), scalar(get(w, "unit")))
	}
	return model.Duration(time.Duration(count) * unit), nil
}

// alphaObjective maps one v1alpha objective onto an SLO.
func (im *importer) alphaObjective(o object, obj *yaml.Node, i, n int, svc string, period model.Duration) (pending, error) {
	path := fmt.Sprintf("spec.objectives[%d]", i)
	if k := unknownKey(obj, "ratioMetrics", "target", "displayName", "value", "op"); k != nil {
		return pending{}, importError(im.file, k, path+"."+k.Value, "SLO %s: field %q does not map; expected ratioMetrics and target", o.name, k.Value)
	}
	target, err := strconv.ParseFloat(scalar(get(obj, "target")), 64)
	if err != nil || target <= 0 || target >= 1 {
		return pending{}, importError(im.file, firstNode(get(obj, "target"), obj), path+".target", "SLO %s: expected a ratio strictly between 0 and 1 such as 0.999, got %q", o.name, scalar(get(obj, "target")))
	}
	r := get(obj, "ratioMetrics")
	if r == nil {
		return pending{}, importError(im.file, obj, path+".ratioMetrics", "SLO %s: only ratioMetrics objectives map (good or bad over total events)", o.name)
	}
	query := func(field string) (*yaml.Node, string, error) {
		m := get(r, field)
		if m == nil {
			return nil, "", nil
		}
		if src := scalar(get(m, "source")); !slices.Contains(prometheusSources, strings.ToLower(src)) {
			return m, "", importError(im.file, firstNode(get(m, "source"), m), path+".ratioMetrics."+field+".source", "SLO %s: metric source %q does not map: only Prometheus-compatible sources do (%s)",
				o.name, src, strings.Join(prometheusSources, ", "))
		}
		if qt := scalar(get(m, "queryType")); qt != "" && qt != "promql" {
			return m, "", importError(im.file, get(m, "queryType"), path+".ratioMetrics."+field+".queryType", "SLO %s: expected queryType promql, got %q", o.name, qt)
		}
		return m, scalar(get(m, "query")), nil
	}
	_, total, err := query("total")
	if err != nil {
		return pending{}, err
	}
	goodN, good, err := query("good")
	if err != nil {
		return pending{}, err
	}
	badN, bad, err := query("bad")
	if err != nil {
		return pending{}, err
	}
	var shape sliShape
	switch {
	case total == "" || (goodN == nil) == (badN == nil):
		return pending{}, importError(im.file, r, path+".ratioMetrics", "SLO %s: expected total and exactly one of good and bad", o.name)
	case goodN != nil:
		shape, err = goodOverTotal(good, total, false)
		if err != nil {
			return pending{}, importError(im.file, goodN, path+".ratioMetrics.good", "SLO %s: %v", o.name, err)
		}
	default:
		shape, err = badOverTotal(bad, total, false)
		if err != nil {
			return pending{}, importError(im.file, badN, path+".ratioMetrics.bad", "SLO %s: %v", o.name, err)
		}
	}
	name := o.name
	if n > 1 {
		name = o.name + "-" + firstOf(scalar(get(obj, "displayName")), strconv.Itoa(i))
	}
	slo := model.SLO{Name: sloName(name), Description: firstOf(scalar(get(o.spec, "description")), o.display), Objective: model.Clean(target), Period: period}
	im.changed("service %s, SLO %s: OpenSLO v1alpha names no alerts, so it gets the standard tiers (14.4x 1h/5m and 6x 6h/30m page, 3x 1d/2h and 1x 3d/6h ticket)", svc, slo.Name)
	for _, t := range standardTiers {
		t.Alert = kebab(name) + "-" + t.Name
		slo.Tiers = append(slo.Tiers, t)
	}
	return pending{service: svc, slo: slo, shape: shape}, nil
}
