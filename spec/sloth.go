package spec

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// Sloth writes its fields in snake_case in prometheus/v1 files and in
// camelCase in its Kubernetes CRD; keys lists both spellings of a field.
func keys(snake string) []string {
	parts := strings.Split(snake, "_")
	camel := parts[0]
	for _, p := range parts[1:] {
		camel += strings.ToUpper(p[:1]) + p[1:]
	}
	if camel == snake {
		return []string{snake}
	}
	return []string{snake, camel}
}

// fieldsOf lists the spellings of every field, for unknownKey.
func fieldsOf(snakes ...string) []string {
	var out []string
	for _, s := range snakes {
		out = append(out, keys(s)...)
	}
	return out
}

// sloth reads one Sloth document, plain or CRD; its spec part is the same.
func (im *importer) sloth(doc *yaml.Node, crd bool) error {
	body, prefix := doc, ""
	if crd {
		if k := unknownKey(doc, "apiVersion", "kind", "metadata", "spec"); k != nil {
			return importError(im.file, k, k.Value, "unknown field %q of a %s; expected apiVersion, kind, metadata, spec", k.Value, slothKind)
		}
		body, prefix = get(doc, "spec"), "spec."
		if body == nil || body.Kind != yaml.MappingNode {
			return importError(im.file, doc, "spec", "expected the %s's spec: service, labels, slos", slothKind)
		}
	}
	allowed := fieldsOf("service", "labels", "slos")
	if !crd {
		allowed = append(allowed, "version")
	}
	if k := unknownKey(body, allowed...); k != nil {
		why := "it has no counterpart in the bundle"
		if k.Value == "slo_plugins" || k.Value == "sloPlugins" {
			why = "SLO plugins are Sloth code run at generation time; what they change cannot be read from the file. Write their effect into the SLOs and remove them"
		}
		// The document's SLOs cannot map, but others of the file may.
		im.refuse(importError(im.file, k, prefix+k.Value, "unknown Sloth field %q (%s); expected one of %s; none of this document's SLOs is converted", k.Value, why, strings.Join(allowed, ", ")))
		return nil
	}
	name := scalar(get(body, "service"))
	if kebab(name) == "" {
		return importError(im.file, get(body, "service"), prefix+"service", "expected the name of the service, got %q", name)
	}
	svcLabels, err := stringMap(im.file, get(body, "labels"), prefix+"labels")
	if err != nil {
		return err
	}
	svc := im.service(name, name, "")
	slos := get(body, "slos")
	if slos == nil || slos.Kind != yaml.SequenceNode || len(slos.Content) == 0 {
		return importError(im.file, body, prefix+"slos", "expected a list of at least one SLO")
	}
	for i, n := range slos.Content {
		path := fmt.Sprintf("%sslos[%d]", prefix, i)
		p, err := im.slothSLO(n, path, svc, name, svcLabels)
		if err != nil {
			im.refuse(err)
			continue
		}
		im.pending = append(im.pending, p)
	}
	return nil
}

// slothSLO converts one SLO of a Sloth document.
func (im *importer) slothSLO(n *yaml.Node, path, svc, slothService string, svcLabels map[string]string) (pending, error) {
	fail := func(at *yaml.Node, field, format string, args ...any) (pending, error) {
		if at == nil {
			at = n
		}
		return pending{}, importError(im.file, at, join(path, field), format, args...)
	}
	if k := unknownKey(n, fieldsOf("name", "objective", "description", "labels", "sli", "alerting")...); k != nil {
		if k.Value == "plugins" {
			return fail(k, k.Value, "SLO plugins are Sloth code run at generation time; what they change cannot be read from the file. Write their effect into the SLO and remove plugins")
		}
		return fail(k, k.Value, "unknown Sloth field %q; expected name, objective, description, labels, sli, alerting", k.Value)
	}
	name := scalar(get(n, "name"))
	if sloName(name) == "" {
		return fail(get(n, "name"), "name", "expected the SLO's name, got %q", name)
	}
	objective, err := strconv.ParseFloat(scalar(get(n, "objective")), 64)
	if err != nil || objective <= 0 || objective >= 100 {
		return fail(get(n, "objective"), "objective", "expected a percentage strictly between 0 and 100 such as 99.9, got %q", scalar(get(n, "objective")))
	}
	shape, err := im.slothSLI(get(n, "sli"), join(path, "sli"))
	if err != nil {
		return pending{}, err
	}
	ownLabels, err := stringMap(im.file, get(n, "labels"), join(path, "labels"))
	if err != nil {
		return pending{}, err
	}
	o := model.SLO{Name: sloName(name), Description: scalar(get(n, "description")), Objective: model.Clean(objective / 100),
		Labels: im.keepNames(merged(svcLabels, ownLabels), model.ReservedLabel, fmt.Sprintf("service %s, SLO %s, labels", svc, sloName(name)))}
	// Sloth's alerts carry the identity labels of the series they read,
	// which routes may match too.
	identity := map[string]string{"sloth_service": slothService, "sloth_slo": name, "sloth_id": slothService + "-" + name}
	tiers, err := im.slothTiers(get(n, "alerting"), join(path, "alerting"), svc, o.Name, name, identity)
	if err != nil {
		return pending{}, err
	}
	o.Tiers = tiers
	return pending{service: svc, slo: o, shape: shape}, nil
}

// slothSLI maps events SLIs (counter ratios and Sloth's latency form) and
// refuses raw and plugin SLIs with what to write instead.
func (im *importer) slothSLI(n *yaml.Node, path string) (sliShape, error) {
	if n == nil {
		return sliShape{}, importError(im.file, n, path, "expected sli.events with error_query and total_query")
	}
	if raw := get(n, "raw"); raw != nil {
		return sliShape{}, importError(im.file, raw, path+".raw", "a raw error-ratio query cannot be split into bad and total events, which the bundle counts exactly; "+
			"write it as sli.events with error_query and total_query (the numerator and denominator of the ratio)")
	}
	if plugin := get(n, "plugin"); plugin != nil {
		return sliShape{}, importError(im.file, plugin, path+".plugin", "SLI plugins are Sloth code and their query cannot be read from the file; write the SLI as sli.events with the error_query and total_query the plugin generates")
	}
	if k := unknownKey(n, "events"); k != nil {
		return sliShape{}, importError(im.file, k, path+"."+k.Value, "unknown SLI kind %q; expected events", k.Value)
	}
	ev := get(n, "events")
	if k := unknownKey(ev, fieldsOf("error_query", "total_query")...); k != nil {
		return sliShape{}, importError(im.file, k, path+".events."+k.Value, "unknown field %q; expected error_query and total_query", k.Value)
	}
	errQ, totalQ := get(ev, keys("error_query")...), get(ev, keys("total_query")...)
	if errQ == nil || totalQ == nil {
		return sliShape{}, importError(im.file, ev, path+".events", "expected both error_query and total_query")
	}
	shape, err := badOverTotal(errQ.Value, totalQ.Value, false)
	if err != nil {
		at, field := errQ, "error_query"
		if strings.HasPrefix(err.Error(), "total query") {
			at, field = totalQ, "total_query"
		}
		return sliShape{}, importError(im.file, at, path+".events."+field, "%v", err)
	}
	return shape, nil
}

// slothTiers maps Sloth's two alerts onto the standard tiers: its page
// alert onto fast and medium (severity page), its ticket alert onto slow
// and very-slow (severity ticket). Every tier keeps Sloth's alert name,
// its sloth_severity label and the sloth_id, sloth_service and sloth_slo
// labels of identity, so the routes written for Sloth's alerts keep
// matching. Each alert's labels and annotations, over those of alerting
// itself, go onto its tiers; a disabled alert has no tiers.
func (im *importer) slothTiers(n *yaml.Node, path, svc, slo, rawName string, identity map[string]string) ([]model.Tier, error) {
	if k := unknownKey(n, fieldsOf("name", "labels", "annotations", "page_alert", "ticket_alert")...); k != nil {
		return nil, importError(im.file, k, path+"."+k.Value, "unknown field %q; expected name, labels, annotations, page_alert, ticket_alert", k.Value)
	}
	name := scalar(get(n, "name"))
	base := kebab(name)
	if base == "" {
		base = kebab(rawName)
	}
	common, err := im.slothAlert(n, path, nil)
	if err != nil {
		return nil, err
	}
	var tiers []model.Tier
	for _, which := range []struct {
		field string
		sev   model.Severity
	}{{"page_alert", model.Page}, {"ticket_alert", model.Ticket}} {
		an := get(n, keys(which.field)...)
		a, err := im.slothAlert(an, path+"."+which.field, &common)
		if err != nil {
			return nil, err
		}
		if a.disable {
			im.changed("service %s, SLO %s: Sloth's %s is disabled, so its %s tiers are not generated", svc, slo, which.field, which.sev)
			continue
		}
		where := fmt.Sprintf("service %s, SLO %s, %s", svc, slo, which.field)
		ls := merged(merged(identity, im.keepNames(a.labels, tierReserved, where+" labels")), map[string]string{model.LabelSlothSeverity: string(which.sev)})
		as := im.keepNames(a.annotations, model.ReservedAnnotation, where+" annotations")
		for _, t := range standardTiers {
			if t.Severity != which.sev {
				continue
			}
			t.Alert = base + "-" + t.Name
			if name != "" && name != model.AlertName(t.Alert) {
				t.AlertName = name
			}
			t.Labels, t.Annotations, t.For = ls, as, a.forDuration
			tiers = append(tiers, t)
		}
	}
	return tiers, nil
}

// tierReserved says whether a tier may not carry label name as it is: a
// tier may set its own severity value (model.Tier.SeverityLabel).
func tierReserved(name string) bool { return name != model.LabelSeverity && model.ReservedLabel(name) }

// slothAlert is one of Sloth's alerts, over the defaults in common.
type slothAlert struct {
	disable             bool
	forDuration         model.Duration
	labels, annotations map[string]string
}

func (im *importer) slothAlert(n *yaml.Node, path string, common *slothAlert) (slothAlert, error) {
	var a slothAlert
	if common != nil {
		if k := unknownKey(n, "disable", "for", "labels", "annotations"); k != nil {
			return a, importError(im.file, k, path+"."+k.Value, "unknown field %q; expected disable, for, labels, annotations", k.Value)
		}
		if f := get(n, "for"); f != nil {
			d, err := model.ParseDuration(f.Value)
			if err != nil || d < 0 {
				return a, importError(im.file, f, path+".for", "expected a duration such as 5m, got %q", f.Value)
			}
			a.forDuration = d
		}
		if d := get(n, "disable"); d != nil {
			v, err := strconv.ParseBool(d.Value)
			if err != nil {
				return a, importError(im.file, d, path+".disable", "expected true or false, got %q", d.Value)
			}
			a.disable = v
		}
	}
	ls, err := stringMap(im.file, get(n, "labels"), path+".labels")
	if err != nil {
		return a, err
	}
	as, err := stringMap(im.file, get(n, "annotations"), path+".annotations")
	if err != nil {
		return a, err
	}
	if common != nil {
		ls, as = merged(common.labels, ls), merged(common.annotations, as)
	}
	a.labels, a.annotations = ls, as
	return a, nil
}
