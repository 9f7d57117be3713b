// Package diff compares two bundles the way a release reviewer reads them,
// on what the bundle means rather than on its bytes: every recording rule
// and alert (keyed by service, SLO and name) with its expression shown
// before and after, each SLO's objective and period, each tier's factor,
// windows, `for` and severity, labels and annotations, every dashboard
// panel and its queries, the Alertmanager routing (receivers, routes and
// their matchers, inhibitions), and files added or removed. Nothing that
// did not change is reported; identical bundles give no changes.
//
// A change is breaking when something may still depend on what went away:
// a removed recording rule that a rule or panel of either bundle reads, or
// a removed alert that a route of either bundle matches by name.
package diff

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tensorwasm/obsbundle/model"
)

// Change is one difference between two bundles.
type Change struct {
	// Kind is what changed: file, SLO, recording rule, alert, panel,
	// receiver, route, inhibition.
	Kind string
	What string
	// Before and After show a changed expression or setting; empty for
	// additions and removals.
	Before, After string
	Breaking      bool
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
		_, _ = fmt.Sscanf(v, "%d", &n)
		return n
	}
	return major(r.NewVersion) > major(r.OldVersion)
}

// String renders the report as Markdown.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Bundle changes: %s -> %s\n\n", r.OldVersion, r.NewVersion)
	if len(r.Changes) == 0 {
		b.WriteString("No changes to rules, SLOs, panels, routing or files.\n")
	}
	for _, c := range r.Changes {
		mark := ""
		if c.Breaking {
			mark = " **BREAKING**"
		}
		fmt.Fprintf(&b, "- %s%s: %s\n", c.Kind, mark, c.What)
		if c.Before != "" || c.After != "" {
			fmt.Fprintf(&b, "  - before: `%s`\n  - after: `%s`\n", c.Before, c.After)
		}
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

// Compare reads two bundle directories and lists their differences. A
// rule or panel query that does not parse is an error: a diff that skipped
// it could miss a change.
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
	r.files(old, next)
	r.slos(old, next)
	r.records(old, next)
	r.alerts(old, next)
	r.panels(old, next)
	r.routing(old, next)
	return r, nil
}

// bundle is what a comparison reads of a bundle directory.
type bundle struct {
	version string
	files   map[string]bool
	rules   ruleSet
	panels  map[string]panel
	routing map[string]routing // by Alertmanager file
	// queried holds the series names any rule or panel reads.
	queried map[string]bool
}

func load(dir string) (*bundle, error) {
	b := &bundle{files: map[string]bool{}, panels: map[string]panel{}, routing: map[string]routing{}, queried: map[string]bool{},
		rules: ruleSet{records: map[string]rule{}, alerts: map[string]rule{}, slos: map[string]*sloFacts{}}}
	path := filepath.Join(dir, model.ManifestFile)
	manifest, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s is not a bundle: %w", dir, err)
	}
	var m struct {
		Version string
		Files   []struct{ Path string }
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b.version = m.Version
	for _, f := range m.Files {
		b.files[f.Path] = true
		if err := b.read(dir, f.Path); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// read reads one file of the manifest by what it holds.
func (b *bundle) read(dir, rel string) error {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	_, _, dashboard := model.DashboardOf(rel)
	if !model.IsRuleFile(rel) && !dashboard && !model.IsAlertmanagerFile(rel) {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	switch {
	case model.IsRuleFile(rel):
		err = b.readRules(data)
	case dashboard:
		err = b.readDashboard(data)
	default:
		err = b.readRouting(rel, data)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (r *Report) add(c Change) { r.Changes = append(r.Changes, c) }

func (r *Report) files(old, next *bundle) {
	for _, f := range union(old.files, next.files) {
		switch {
		case !old.files[f]:
			r.add(Change{Kind: "file", What: "added " + f})
		case !next.files[f]:
			r.add(Change{Kind: "file", What: "removed " + f})
		}
	}
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

// changed reports every key of two string maps whose value differs.
func changedKeys(a, b map[string]string) []string {
	var out []string
	for _, k := range union(a, b) {
		av, aok := a[k]
		bv, bok := b[k]
		if av != bv || aok != bok {
			out = append(out, k)
		}
	}
	return out
}
