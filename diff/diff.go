// Package diff compares two bundles the way a release reviewer reads them:
// alerts added, removed or changed (expression, so thresholds and windows,
// `for`, severity and other labels), recording rules added or removed, and
// dashboard panels added or removed. A change is breaking when something
// may still depend on what went away: a removed recording rule that either
// bundle's rules or dashboards query, or a removed alert that an
// Alertmanager configuration of either bundle names.
package diff

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// Change is one difference between two bundles.
type Change struct {
	Kind     string // alert, recording rule, panel
	What     string
	Breaking bool
}

// Report is every change from one bundle to the next.
type Report struct {
	OldVersion, NewVersion string
	Changes                []Change
}

// Breaking says whether any change is breaking.
func (r *Report) Breaking() bool {
	for _, c := range r.Changes {
		if c.Breaking {
			return true
		}
	}
	return false
}

// MajorBumped says whether the new version's major number is higher.
func (r *Report) MajorBumped() bool {
	major := func(v string) int {
		var n int
		fmt.Sscanf(v, "%d", &n)
		return n
	}
	return major(r.NewVersion) > major(r.OldVersion)
}

// String renders the report as Markdown.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Bundle changes: %s -> %s\n\n", r.OldVersion, r.NewVersion)
	if len(r.Changes) == 0 {
		b.WriteString("No changes to alerts, recording rules or panels.\n")
	}
	for _, c := range r.Changes {
		mark := ""
		if c.Breaking {
			mark = " **BREAKING**"
		}
		fmt.Fprintf(&b, "- %s%s: %s\n", c.Kind, mark, c.What)
	}
	if r.Breaking() {
		if r.MajorBumped() {
			b.WriteString("\nBreaking changes come with a major version bump.\n")
		} else {
			b.WriteString("\nBreaking changes need a major version bump.\n")
		}
	}
	return b.String()
}

// Compare reads two bundle directories and lists their differences.
func Compare(oldDir, newDir string) (*Report, error) {
	old, err := load(oldDir)
	if err != nil {
		return nil, err
	}
	next, err := load(newDir)
	if err != nil {
		return nil, err
	}
	r := &Report{OldVersion: old.version, NewVersion: next.version}
	r.alerts(old, next)
	r.records(old, next)
	r.panels(old, next)
	return r, nil
}

// bundle is what a comparison reads of a bundle directory.
type bundle struct {
	version string
	alerts  map[string]alert // by name, service and SLO
	records map[string]bool  // by name and labels
	queried map[string]bool  // series names any rule or panel reads
	panels  map[string]bool  // "dashboard: panel"
	routing string           // every Alertmanager configuration, concatenated
}

type alert struct {
	expr, forDuration string
	labels            map[string]string
}

func load(dir string) (*bundle, error) {
	b := &bundle{alerts: map[string]alert{}, records: map[string]bool{}, queried: map[string]bool{}, panels: map[string]bool{}}
	manifest, err := os.ReadFile(filepath.Join(dir, model.ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a bundle: %w", dir, err)
	}
	var m struct{ Version string }
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, model.ManifestFile), err)
	}
	b.version = m.Version
	return b, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		_, _, dashboard := model.DashboardOf(rel)
		switch {
		case model.IsRuleFile(rel):
			return b.readRules(path)
		case dashboard:
			return b.readDashboard(path)
		case model.IsAlertmanagerFile(rel):
			data, err := os.ReadFile(path)
			b.routing += string(data)
			return err
		}
		return nil
	})
}

func (b *bundle) readRules(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	groups, err := rules.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			expr, err := model.ParseExpr(r.Expr)
			if err != nil {
				return err
			}
			b.reads(expr)
			if r.Record != "" {
				b.records[r.Record+labelString(r.Labels)] = true
				continue
			}
			key := r.Alert + "{" + model.LabelService + "=" + r.Labels[model.LabelService] + "," + model.LabelSLO + "=" + r.Labels[model.LabelSLO] + "}"
			b.alerts[key] = alert{expr: expr.String(), forDuration: r.For.String(), labels: r.Labels}
		}
	}
	return nil
}

func (b *bundle) readDashboard(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var d struct {
		Title  string
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range d.Panels {
		if p.Type != "row" {
			b.panels[d.Title+": "+p.Title] = true
		}
		for _, t := range p.Targets {
			if expr, err := model.ParseExpr(grafanaVariables.Replace(t.Expr)); err == nil {
				b.reads(expr)
			}
		}
	}
	return nil
}

// grafanaVariables stand in for the values Grafana substitutes, so panel
// queries parse.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h")

func (b *bundle) reads(expr parser.Expr) {
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			b.queried[vs.Name] = true
		}
		return nil
	})
}

func labelString(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + ls[k]
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func (r *Report) alerts(old, next *bundle) {
	for _, key := range union(old.alerts, next.alerts) {
		o, inOld := old.alerts[key]
		n, inNew := next.alerts[key]
		name := key[:strings.Index(key, "{")]
		switch {
		case !inOld:
			r.add("alert", "added "+key, false)
		case !inNew:
			named := strings.Contains(old.routing, name) || strings.Contains(next.routing, name)
			r.add("alert", "removed "+key+routedNote(named), named)
		default:
			if o.expr != n.expr {
				r.add("alert", fmt.Sprintf("%s expression changed (threshold or windows): `%s` -> `%s`", key, o.expr, n.expr), false)
			}
			if o.forDuration != n.forDuration {
				r.add("alert", fmt.Sprintf("%s `for` changed: %s -> %s", key, o.forDuration, n.forDuration), false)
			}
			for _, l := range union(o.labels, n.labels) {
				if o.labels[l] != n.labels[l] {
					r.add("alert", fmt.Sprintf("%s label %s changed: %q -> %q", key, l, o.labels[l], n.labels[l]), false)
				}
			}
		}
	}
}

func routedNote(named bool) string {
	if named {
		return " (an Alertmanager configuration names it)"
	}
	return ""
}

func (r *Report) records(old, next *bundle) {
	for _, key := range union(old.records, next.records) {
		name := key[:strings.Index(key, "{")]
		switch {
		case !old.records[key]:
			r.add("recording rule", "added "+key, false)
		case !next.records[key]:
			queried := old.queried[name] || next.queried[name]
			note := ""
			if queried {
				note = " (still queried by rules or dashboards)"
			}
			r.add("recording rule", "removed "+key+note, queried)
		}
	}
}

func (r *Report) panels(old, next *bundle) {
	for _, key := range union(old.panels, next.panels) {
		switch {
		case !old.panels[key]:
			r.add("panel", "added "+key, false)
		case !next.panels[key]:
			r.add("panel", "removed "+key, false)
		}
	}
}

func (r *Report) add(kind, what string, breaking bool) {
	r.Changes = append(r.Changes, Change{Kind: kind, What: what, Breaking: breaking})
}

// union lists the keys of two maps, sorted.
func union[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}
