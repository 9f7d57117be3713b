// Package ruleset loads the rules a live check compares with a server: a
// bundle directory, a spec (this project's, Sloth's or OpenSLO), the
// built-in TensorWasm spec, or a plain Prometheus rule file such as a
// team's current Sloth output.
package ruleset

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/spec"
)

// Set is a named collection of rule groups.
type Set struct {
	// Name says where the rules came from, for reports.
	Name string
	// Version is the bundle's version ("" for a plain rule file).
	Version string
	Groups  []rulefmt.RuleGroup
	// Spec is the typed spec when the rules were built from one; a bundle
	// directory or rule file has none.
	Spec *model.Spec
	// Dashboards are the UIDs of the bundle's dashboards (none for a rule
	// file).
	Dashboards []string
}

// Builtin is TensorWasm's built-in spec's rules.
func Builtin() (*Set, error) {
	s := catalog.TensorWasm()
	return FromSpec("built-in TensorWasm spec "+s.Version, s)
}

// FromSpec builds every service's rules from a validated spec.
func FromSpec(name string, s model.Spec) (*Set, error) {
	set := &Set{Name: name, Version: s.Version, Spec: &s}
	for i := range s.Services {
		set.Dashboards = append(set.Dashboards, model.DashboardUID(s.Services[i].Name))
		_, groups, err := rules.File(&s.Services[i], s.Version)
		if err != nil {
			return nil, err
		}
		set.Groups = append(set.Groups, groups.Groups...)
	}
	set.Dashboards = append(set.Dashboards, model.OverviewUID(s.Name))
	sort.Strings(set.Dashboards)
	return set, nil
}

// Load reads path: a bundle directory (holding manifest.json), a spec, or
// a Prometheus rule file (a YAML document with top-level "groups").
func Load(path string) (*Set, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return loadBundle(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if isRuleFile(data) {
		groups, err := rules.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &Set{Name: filepath.Base(path), Groups: groups.Groups}, nil
	}
	s, err := spec.LoadFile(path)
	if err != nil {
		return nil, err
	}
	return FromSpec(filepath.Base(path)+" "+s.Version, s)
}

// isRuleFile says whether a YAML document starts with a "groups:" key.
func isRuleFile(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		return strings.HasPrefix(line, "groups:")
	}
	return false
}

func loadBundle(dir string) (*Set, error) {
	b, err := os.ReadFile(filepath.Join(dir, model.ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a bundle directory: %w", dir, err)
	}
	var m struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Files   []struct {
			Path string `json:"path"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, model.ManifestFile), err)
	}
	set := &Set{Name: m.Name + " " + m.Version, Version: m.Version}
	var files []string
	for _, f := range m.Files {
		if model.IsRuleFile(f.Path) {
			files = append(files, f.Path)
		}
		if _, uid, ok := model.DashboardOf(f.Path); ok {
			set.Dashboards = append(set.Dashboards, uid)
		}
	}
	sort.Strings(set.Dashboards)
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("bundle %s holds no rule file", dir)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		groups, err := rules.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		set.Groups = append(set.Groups, groups.Groups...)
	}
	return set, nil
}

// Recorded lists the names the set's recording rules write.
func (s *Set) Recorded() map[string]bool {
	out := map[string]bool{}
	for _, g := range s.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				out[r.Record] = true
			}
		}
	}
	return out
}

// Selector is a raw series selector some rule reads.
type Selector struct {
	Metric string
	// Matchers are the selector's matchers without the metric name, as
	// PromQL (`job="x",status=~"5.."`).
	Matchers string
	vs       *parser.VectorSelector
}

// String is the selector as PromQL.
func (s Selector) String() string { return s.vs.String() }

// RawSelectors lists the selectors of raw series (not written by a
// recording rule of the set, nor ALERTS) that the rules read, deduplicated
// and sorted.
func (s *Set) RawSelectors() []Selector {
	recorded := s.Recorded()
	seen := map[string]bool{}
	var out []Selector
	for _, g := range s.Groups {
		for _, r := range g.Rules {
			expr, err := model.ParseExpr(r.Expr)
			if err != nil {
				continue
			}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok || vs.Name == "" || recorded[vs.Name] || vs.Name == "ALERTS" || vs.Name == "ALERTS_FOR_STATE" {
					return nil
				}
				plain := &parser.VectorSelector{Name: vs.Name, LabelMatchers: vs.LabelMatchers}
				key := plain.String()
				if seen[key] {
					return nil
				}
				seen[key] = true
				var ms []string
				for _, m := range vs.LabelMatchers {
					if m.Name != "__name__" {
						ms = append(ms, m.String())
					}
				}
				out = append(out, Selector{Metric: vs.Name, Matchers: strings.Join(ms, ","), vs: plain})
				return nil
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Fetch lists what to download so that every raw selector is covered: per
// metric, one selector with the equality matchers that all of that
// metric's selectors share (the service's selector, typically). A bucket
// selector with le="0.5" and one without fetch the union once.
func Fetch(sets ...*Set) []string {
	type acc struct {
		common map[string]string
		n      int
	}
	by := map[string]*acc{}
	for _, s := range sets {
		for _, sel := range s.RawSelectors() {
			eq := map[string]string{}
			for _, m := range sel.vs.LabelMatchers {
				if m.Name != "__name__" && m.Type.String() == "=" {
					eq[m.Name] = m.Value
				}
			}
			a := by[sel.Metric]
			if a == nil {
				by[sel.Metric] = &acc{common: eq, n: 1}
				continue
			}
			for k, v := range a.common {
				if eq[k] != v {
					delete(a.common, k)
				}
			}
		}
	}
	var out []string
	for metric, a := range by {
		keys := make([]string, 0, len(a.common))
		for k := range a.common {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var ms []string
		for _, k := range keys {
			ms = append(ms, fmt.Sprintf("%s=%q", k, a.common[k]))
		}
		out = append(out, metric+"{"+strings.Join(ms, ",")+"}")
	}
	sort.Strings(out)
	return out
}

// Intervals returns the longest group interval (evaluations align to it)
// and the shortest.
func (s *Set) Intervals() (shortest, longest time.Duration) {
	for _, g := range s.Groups {
		iv := time.Duration(g.Interval)
		if iv == 0 {
			iv = time.Minute
		}
		if shortest == 0 || iv < shortest {
			shortest = iv
		}
		if iv > longest {
			longest = iv
		}
	}
	return shortest, longest
}
