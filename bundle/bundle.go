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
	"runtime"
	"sort"
	"sync"

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
	// from names what produced the file, for the error when two
	// producers claim one path.
	from string
}

// Bundle is the whole generated output of one spec.
type Bundle struct {
	Name    string
	Version string
	// Files are sorted by path; the manifest is among them.
	Files []File
	// Stats counts rules per service, for summaries.
	Stats []ServiceStats
	// attributed counts the files attribute has seen.
	attributed int
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
	return BuildWith(s, Options{Targets: extra})
}

// Options are what a bundle is built with besides its spec.
type Options struct {
	// Targets are the outputs besides the plain files.
	Targets []targets.Target
	// Kubernetes sets how the cluster selects the Kubernetes target's
	// objects (PrometheusRule labels, Grafana instances).
	Kubernetes targets.KubernetesOptions
}

// BuildWith is Build with every option.
func BuildWith(s model.Spec, o Options) (*Bundle, error) {
	if err := o.Kubernetes.Validate(); err != nil {
		return nil, err
	}
	b := &Bundle{Name: s.Name, Version: s.Version}
	want := map[targets.Target]bool{}
	for _, t := range o.Targets {
		want[t] = true
	}
	k8s := targets.Bundle{Name: s.Name, Version: s.Version, Options: o.Kubernetes}
	parts, err := eachService(s.Services, func(svc *model.Service) (*Bundle, error) {
		p := &Bundle{}
		return p, p.addService(svc, s.Name, s.Version, want, k8s)
	})
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		b.Files = append(b.Files, p.Files...)
		b.Stats = append(b.Stats, p.Stats...)
		b.Dashboards = append(b.Dashboards, p.Dashboards...)
	}
	overview, err := dashboards.Overview(s)
	if err != nil {
		return nil, fmt.Errorf("overview dashboard: %w", err)
	}
	if err := b.addDashboard("the SLO overview", model.OverviewFolder, overview); err != nil {
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
	b.add("the Grafana provisioning", model.DashboardProviderFile, provider)
	b.add("the Grafana provisioning", model.DatasourceFile, ds)
	production, err := routing.Production(s)
	if err != nil {
		return nil, err
	}
	demo, err := routing.Demo(s, model.DemoSimulatorURL)
	if err != nil {
		return nil, err
	}
	b.add("the production routing", model.AlertmanagerFile, production)
	b.add("the demo routing", model.AlertmanagerDemoFile, demo)
	if want[targets.Kubernetes] {
		if err := b.addKubernetes(k8s, production); err != nil {
			return nil, err
		}
	}
	if want[targets.GrafanaAlerting] {
		if err := b.addGrafanaAlerting(s); err != nil {
			return nil, err
		}
	}
	return b, b.seal()
}

// addService adds every file of one service: rules, alert tests, report,
// runbooks, dashboard, and the service's part of the extra targets.
func (b *Bundle) addService(svc *model.Service, bundle, version string, want map[targets.Target]bool, k8s targets.Bundle) error {
	data, groups, err := rules.File(svc, version)
	if err != nil {
		return err
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
	b.add("the rules of service "+svc.Name, st.RuleFile, data)
	if want[targets.Kubernetes] {
		pr, err := targets.PrometheusRule(k8s, svc.Name, *groups)
		if err != nil {
			return err
		}
		b.add("the PrometheusRule of service "+svc.Name, model.PrometheusRuleFile(svc.Name), pr)
	}
	if want[targets.Mimir] {
		ns, err := targets.MimirNamespace(svc.Name, *groups)
		if err != nil {
			return err
		}
		b.add("the Mimir namespace of service "+svc.Name, model.MimirFile(svc.Name), ns)
	}
	tests, err := alerttests.File(svc, *groups, path.Base(st.RuleFile))
	if err != nil {
		return err
	}
	b.Files = append(b.Files, File{Path: model.RuleTestFile(svc.Name), Data: tests})
	cells := report.Analyze(svc)
	if len(cells) > 0 {
		b.Files = append(b.Files,
			File{Path: model.ReportFile(svc.Name), Data: report.Markdown(svc, cells)},
			File{Path: model.ReportChart(svc.Name), Data: report.SVG(svc, cells)})
	}
	b.attribute("the alert tests and report of service " + svc.Name)
	d, panels, err := dashboards.Service(svc, bundle, version)
	if err != nil {
		return fmt.Errorf("service %s dashboard: %w", svc.Name, err)
	}
	for path, data := range runbooks.Runbooks(runbooks.Input{Service: svc, Groups: *groups, Cells: cells, Panels: panels}) {
		b.add("the runbooks of service "+svc.Name, path, data)
	}
	if err := b.addDashboard("the dashboard of service "+svc.Name, svc.Title, d); err != nil {
		return err
	}
	return nil
}

// eachService runs build on every service, on as many cores as there are,
// and returns the results in the services' order; the first error in that
// order wins, so output and errors do not depend on scheduling.
func eachService(svcs []model.Service, build func(*model.Service) (*Bundle, error)) ([]*Bundle, error) {
	parts := make([]*Bundle, len(svcs))
	errs := make([]error, len(svcs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(svcs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				parts[i], errs[i] = build(&svcs[i])
			}
		}()
	}
	for i := range svcs {
		next <- i
	}
	close(next)
	wg.Wait()
	return parts, firstError(errs)
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// addKubernetes adds, per dashboard, a sidecar ConfigMap and a
// grafana-operator GrafanaDashboard (a cluster runs one or the other), and
// the production Alertmanager configuration as a Secret.
func (b *Bundle) addKubernetes(k8s targets.Bundle, alertmanager []byte) error {
	for _, path := range b.Dashboards {
		data, _ := b.File(path)
		_, uid, _ := model.DashboardOf(path)
		cm, err := targets.DashboardConfigMap(k8s, path, data)
		if err != nil {
			return err
		}
		b.add("the ConfigMap of dashboard "+uid, model.DashboardConfigMapFile(uid), cm)
		gd, err := targets.GrafanaDashboard(k8s, path, data)
		if err != nil {
			return err
		}
		b.add("the GrafanaDashboard of dashboard "+uid, model.GrafanaDashboardFile(uid), gd)
	}
	secret, err := targets.AlertmanagerSecret(k8s, alertmanager)
	if err != nil {
		return err
	}
	b.add("the Alertmanager Secret", model.AlertmanagerSecretFile, secret)
	return nil
}

// addGrafanaAlerting adds the Grafana alerting provisioning file: every
// service's alerts as Grafana rules, which read the series the rule files
// record, with the contact points and policies of the production routing.
func (b *Bundle) addGrafanaAlerting(s model.Spec) error {
	var services []targets.GrafanaService
	for i := range s.Services {
		svc := &s.Services[i]
		alerts, err := rules.Standalone(svc, s.Version)
		if err != nil {
			return err
		}
		services = append(services, targets.GrafanaService{Service: svc, Alerts: alerts})
	}
	data, err := targets.GrafanaAlertingProvisioning(s.Name, services)
	if err != nil {
		return err
	}
	b.add("the Grafana alerting provisioning", model.GrafanaAlertingFile, data)
	return nil
}

// add adds a file that producer generated.
func (b *Bundle) add(producer, path string, data []byte) {
	b.Files = append(b.Files, File{Path: path, Data: data, from: producer})
}

// attribute names producer as the source of the files added without one
// since the last call.
func (b *Bundle) attribute(producer string) {
	for i := b.attributed; i < len(b.Files); i++ {
		if b.Files[i].from == "" {
			b.Files[i].from = producer
		}
	}
	b.attributed = len(b.Files)
}

// seal checks that no two files share a path, sorts the files and
// (re)writes the manifest over them.
func (b *Bundle) seal() error {
	kept := b.Files[:0]
	for _, f := range b.Files {
		if f.Path != model.ManifestFile {
			kept = append(kept, f)
		}
	}
	b.Files = kept
	if err := b.distinct(); err != nil {
		return err
	}
	manifest, err := b.manifest()
	if err != nil {
		return err
	}
	b.add("the manifest", model.ManifestFile, manifest)
	sort.Slice(b.Files, func(i, j int) bool { return b.Files[i].Path < b.Files[j].Path })
	return nil
}

// distinct reports the first path two files share: a generator bug, as
// every path comes from model's naming functions.
func (b *Bundle) distinct() error {
	by := map[string]string{}
	for _, f := range b.Files {
		from := f.from
		if from == "" {
			from = "an unnamed producer"
		}
		if first, ok := by[f.Path]; ok {
			return fmt.Errorf("internal error: %s and %s both produce the file %s", first, from, f.Path)
		}
		by[f.Path] = from
	}
	return nil
}

// KeepRunbookProse carries the operator-written sections of the runbooks
// in dir (a previous bundle's runbooks/, or the team's copy) into this
// bundle's runbooks, byte for byte. Runbooks are read from the layout
// RunbookName gives (one directory per service); a bundle of one service
// also reads the flat layout of earlier bundles, one file per alert.
func (b *Bundle) KeepRunbookProse(dir string) error {
	services := map[string]bool{}
	for _, f := range b.Files {
		if svc, _, ok := model.RunbookOf(f.Path); ok {
			services[svc] = true
		}
	}
	for i, f := range b.Files {
		svc, id, ok := model.RunbookOf(f.Path)
		if !ok {
			continue
		}
		previous, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(model.RunbookName(svc, id))))
		if errors.Is(err, fs.ErrNotExist) && len(services) == 1 {
			previous, err = os.ReadFile(filepath.Join(dir, filepath.Base(filepath.FromSlash(f.Path))))
		}
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

// addDashboard renders a dashboard into the folder named folder.
func (b *Bundle) addDashboard(producer, folder string, d dashboard.Dashboard) error {
	data, err := dashboards.Render(d)
	if err != nil {
		return err
	}
	path := model.DashboardFile(folder, *d.Uid)
	b.Dashboards = append(b.Dashboards, path)
	b.add(producer, path, data)
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
