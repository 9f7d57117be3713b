//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

// Package bundle assembles every artefact generated from a spec into one
// versioned, content-addressed set of files, and is the only package that
// writes them to disk.
package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/tensorwasm/obsbundle/alerttests"
	"github.com/tensorwasm/obsbundle/dashboards"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/report"
	"github.com/tensorwasm/obsbundle/routing"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/runbooks"
	"github.com/tensorwasm/obsbundle/targets"
)

// File is one generated file, by its path inside the bundle.
type File struct {
	Path string `json:"path"`
	Data []byte `json:"-"`
}

// Bundle is the whole generated output of one spec.
type Bundle struct {
	Name    string
	Version string
	// Files are sorted by path; the manifest is among them.
	Files []File
	// Stats counts rules per service, for summaries.
	Stats []ServiceStats
	// Dashboards lists the dashboard files.
	Dashboards []string
}

// ServiceStats counts what was generated for one service.
type ServiceStats struct {
	Service   string
	RuleFile  string
	Recording int
	Alerting  int
}

// Manifest describes a bundle: what produced it and a checksum per file.
type Manifest struct {
	Name             string          `json:"name"`
	Version          string          `json:"version"`
	Generator        string          `json:"generator"`
	GeneratorVersion string          `json:"generatorVersion"`
	Files            []ManifestEntry `json:"files"`
}

// ManifestEntry is one file of the bundle.
type ManifestEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
}

// Build generates the bundle of a validated spec, with the plain files and
// the content of every extra target asked for. It is a pure function: equal
// inputs give byte-identical bundles.
func Build(s model.Spec, extra ...targets.Target) (*Bundle, error) {
	b := &Bundle{Name: s.Name, Version: s.Version}
	want := map[targets.Target]bool{}
	for _, t := range extra {
		want[t] = true
	}
	k8s := targets.Bundle{Name: s.Name, Version: s.Version}
	for i := range s.Services {
		svc := &s.Services[i]
		data, groups, err := rules.File(svc, s.Version)
		if err != nil {
			return nil, err
		}
		st := ServiceStats{Service: svc.Name, RuleFile: model.RuleFile(svc.Name)}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					st.Alerting++
				} else {
					st.Recording++
				}
			}
		}
		b.Stats = append(b.Stats, st)
		b.Files = append(b.Files, File{Path: st.RuleFile, Data: data})
		if want[targets.Kubernetes] {
			pr, err := targets.PrometheusRule(k8s, svc.Name, *groups)
			if err != nil {
				return nil, err
			}
			b.Files = append(b.Files, File{Path: "kubernetes/" + svc.Name + "-prometheusrule.yaml", Data: pr})
		}
		if want[targets.Mimir] {
			ns, err := targets.MimirNamespace(svc.Name, *groups)
			if err != nil {
				return nil, err
			}
			b.Files = append(b.Files, File{Path: "mimir/" + svc.Name + ".yaml", Data: ns})
		}
		tests, err := alerttests.File(svc, *groups, path.Base(st.RuleFile))
		if err != nil {
			return nil, err
		}
		b.Files = append(b.Files, File{Path: model.RuleTestFile(svc.Name), Data: tests})
		cells := report.Analyze(svc)
		if len(cells) > 0 {
			b.Files = append(b.Files,
				File{Path: model.ReportFile(svc.Name), Data: report.Markdown(svc, cells)},
				File{Path: model.ReportChart(svc.Name), Data: report.SVG(svc, cells)})
		}
		d, err := dashboards.Service(svc, s.Version)
		if err != nil {
			return nil, fmt.Errorf("service %s dashboard: %w", svc.Name, err)
		}
		for path, data := range runbooks.Runbooks(runbooks.Input{Service: svc, Groups: *groups, Cells: cells, Panels: panelLinks(svc, d)}) {
			b.Files = append(b.Files, File{Path: path, Data: data})
		}
		if err := b.addDashboard(svc.Title, d); err != nil {
			return nil, err
		}
	}
	overview, err := dashboards.Overview(s)
	if err != nil {
		return nil, fmt.Errorf("overview dashboard: %w", err)
	}
	if err := b.addDashboard(model.OverviewFolder, overview); err != nil {
		return nil, err
	}
	provider, err := dashboards.Provider()
	if err != nil {
		return nil, err
	}
	ds, err := dashboards.Datasource(model.DefaultPrometheusURL, model.DefaultAlertmanagerURL)
	if err != nil {
		return nil, err
	}
	b.Files = append(b.Files, File{Path: model.DashboardProviderFile, Data: provider}, File{Path: model.DatasourceFile, Data: ds})
	production, err := routing.Production(s)
	if err != nil {
		return nil, err
	}
	demo, err := routing.Demo(s, model.DemoSimulatorURL)
	if err != nil {
		return nil, err
	}
	b.Files = append(b.Files, File{Path: model.AlertmanagerFile, Data: production}, File{Path: model.AlertmanagerDemoFile, Data: demo})
	if want[targets.Kubernetes] {
		if err := b.addKubernetes(k8s, production); err != nil {
			return nil, err
		}
	}
	return b, b.seal()
}

// addKubernetes adds a sidecar ConfigMap per dashboard and the production
// Alertmanager configuration as a Secret.
func (b *Bundle) addKubernetes(k8s targets.Bundle, alertmanager []byte) error {
	for _, path := range b.Dashboards {
		data, _ := b.File(path)
		cm, err := targets.DashboardConfigMap(k8s, path, data)
		if err != nil {
			return err
		}
		b.Files = append(b.Files, File{Path: "kubernetes/dashboards/" + strings.TrimSuffix(filepath.Base(path), ".json") + ".yaml", Data: cm})
	}
	secret, err := targets.AlertmanagerSecret(k8s, alertmanager)
	if err != nil {
		return err
	}
	b.Files = append(b.Files, File{Path: "kubernetes/alertmanager-secret.yaml", Data: secret})
	return nil
}

// seal sorts the files and (re)writes the manifest over them.
func (b *Bundle) seal() error {
	kept := b.Files[:0]
	for _, f := range b.Files {
		if f.Path != model.ManifestFile {
			kept = append(kept, f)
		}
	}
	b.Files = kept
	manifest, err := b.manifest()
	if err != nil {
		return err
	}
	b.Files = append(b.Files, File{Path: model.ManifestFile, Data: manifest})
	sort.Slice(b.Files, func(i, j int) bool { return b.Files[i].Path < b.Files[j].Path })
	return nil
}

// KeepRunbookProse carries the operator-written sections of the runbooks
// in dir (a previous bundle's runbooks/, or the team's copy) into this
// bundle's runbooks, byte for byte.
func (b *Bundle) KeepRunbookProse(dir string) error {
	for i, f := range b.Files {
		name, ok := strings.CutPrefix(f.Path, "runbooks/")
		if !ok {
			continue
		}
		previous, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the previous runbook: %w", err)
		}
		b.Files[i].Data = runbooks.Merge(f.Data, previous)
	}
	return b.seal()
}

// panelLinks maps each SLO to the dashboard panels its runbooks link to:
// its summary panels, and the traffic or latency panels of its SLI; the
// service's own runbooks get the traffic and latency rows.
func panelLinks(svc *model.Service, d dashboard.Dashboard) map[string][]runbooks.Panel {
	out := map[string][]runbooks.Panel{}
	row := ""
	for _, p := range d.Panels {
		if p.RowPanel != nil {
			row = deref(p.RowPanel.Title)
			continue
		}
		if p.Panel == nil || p.Panel.Id == nil {
			continue
		}
		title := deref(p.Panel.Title)
		link := runbooks.Panel{Title: title, URL: fmt.Sprintf("%s?viewPanel=%d", svc.DashboardURL(), *p.Panel.Id)}
		for _, o := range svc.SLOs {
			m, _ := svc.Metric(o.SLI.MetricName())
			if strings.HasPrefix(title, o.Name+" ") || row == m.Row {
				out[o.Name] = append(out[o.Name], link)
			}
		}
		for _, m := range svc.Metrics {
			if row == m.Row && m.Name == svc.SLOs[0].SLI.MetricName() {
				out[""] = append(out[""], link)
			}
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// addDashboard renders a dashboard into the folder named folder.
func (b *Bundle) addDashboard(folder string, d dashboard.Dashboard) error {
	data, err := dashboards.Render(d)
	if err != nil {
		return err
	}
	path := model.DashboardFile(folder, *d.Uid)
	b.Dashboards = append(b.Dashboards, path)
	b.Files = append(b.Files, File{Path: path, Data: data})
	return nil
}

func (b *Bundle) manifest() ([]byte, error) {
	m := Manifest{Name: b.Name, Version: b.Version, Generator: model.Generator, GeneratorVersion: model.GeneratorVersion}
	for _, f := range b.Files {
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, ManifestEntry{Path: f.Path, SHA256: hex.EncodeToString(sum[:]), Bytes: len(f.Data)})
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return append(out, '\n'), nil
}

// File returns the content of the file at path.
func (b *Bundle) File(path string) ([]byte, bool) {
	for _, f := range b.Files {
		if f.Path == path {
			return f.Data, true
		}
	}
	return nil, false
}

// JSON renders the whole bundle as one document: its identity and every
// file's content, for piping into other tools.
func (b *Bundle) JSON() ([]byte, error) {
	type file struct {
		Path    string `json:"path"`
		Content string `json:"content"`
	}
	doc := struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Files   []file `json:"files"`
	}{Name: b.Name, Version: b.Version}
	for _, f := range b.Files {
		doc.Files = append(doc.Files, file{Path: f.Path, Content: string(f.Data)})
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
