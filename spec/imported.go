package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// Defaults for what Sloth and OpenSLO specs do not say; the import lists
// them in its notes so users replace them.
const (
	importedGrafanaURL = "http://localhost:3000"
	importedVersion    = "1.0.0"
)

// importedRunbooks is a placeholder runbook base: the reserved .invalid
// domain shows it must be replaced.
func importedRunbooks(service string) string { return "https://runbooks.invalid/" + service }

// importedLabelPrefix renames a label or annotation of an imported file
// whose name the generator sets itself (Sloth's `severity: pageteam`), so
// its value is kept without hiding the generated one.
const importedLabelPrefix = "imported_"

// Options says how an import treats SLOs that cannot map.
type Options struct {
	// SkipUnmappable converts the SLOs that map and lists the others in
	// Notes.Skipped; without it one unmappable SLO refuses the whole file,
	// so nothing is ever dropped without the user asking.
	SkipUnmappable bool
}

// Notes is what an import of a Sloth or OpenSLO file tells its user
// besides the spec: the format read, the SLOs skipped, what had to change
// on the way, and the placeholders to replace.
type Notes struct {
	// Format names the format(s) read; empty for this project's own spec.
	Format       string
	Skipped      []string
	Changed      []string
	Placeholders []string
}

// String renders the notes as the summary printed after an import.
func (n Notes) String() string {
	if n.Format == "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "imported %s\n", n.Format)
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n", title)
		for _, l := range lines {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	section("skipped (could not map)", n.Skipped)
	section("changed on the way", n.Changed)
	section("placeholders to replace", n.Placeholders)
	return b.String()
}

// Load reads a spec file in any format -spec accepts, and says what an
// import skipped, changed or invented.
func Load(file string, opt Options) (model.Spec, Notes, error) {
	data, err := readFile(file)
	if err != nil {
		return model.Spec{}, Notes{}, err
	}
	return ParseWith(file, data, opt)
}

// source is the format family of one YAML document.
type source int

const (
	native source = iota
	slothPlain
	slothCRD
	openSLOAlpha
	openSLOV1
)

var sourceNames = map[source]string{
	slothPlain:   "Sloth prometheus/v1",
	slothCRD:     "Sloth PrometheusServiceLevel (sloth.slok.dev/v1)",
	openSLOAlpha: "OpenSLO v1alpha",
	openSLOV1:    "OpenSLO v1",
}

// Version markers of the formats read.
const (
	slothVersion      = "prometheus/v1"
	slothAPIVersion   = "sloth.slok.dev/v1"
	slothKind         = "PrometheusServiceLevel"
	openSLOV1Version  = "openslo/v1"
	openSLOAlphaVersn = "openslo/v1alpha"
)

// sourceOf recognises a document's format from its version fields alone,
// so a foreign file is never read as this project's spec (which has
// neither field).
func sourceOf(file string, n *yaml.Node) (source, error) {
	if n.Kind != yaml.MappingNode {
		return native, nil
	}
	if v := scalar(get(n, "version")); v == slothVersion {
		return slothPlain, nil
	}
	api := get(n, "apiVersion")
	if api == nil {
		return native, nil
	}
	switch api.Value {
	case slothAPIVersion:
		if k := scalar(get(n, "kind")); k != slothKind {
			return native, importError(file, get(n, "kind"), "kind", "%s documents this tool reads are of kind %s, got %q", slothAPIVersion, slothKind, k)
		}
		return slothCRD, nil
	case openSLOAlphaVersn:
		return openSLOAlpha, nil
	case openSLOV1Version:
		return openSLOV1, nil
	}
	return native, importError(file, api, "apiVersion", "expected one of %s (Sloth), %s or %s (OpenSLO), got %q; this project's own spec has no apiVersion",
		slothAPIVersion, openSLOV1Version, openSLOAlphaVersn, api.Value)
}

// documents splits a file into its YAML documents, and a top-level list of
// objects (the OpenSLO SDKs' form) into its items.
func documents(file string, data []byte) ([]*yaml.Node, error) {
	var out []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(file, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.SequenceNode && len(root.Content) > 0 && get(root.Content[0], "apiVersion") != nil {
			out = append(out, root.Content...)
			continue
		}
		out = append(out, root)
	}
	return out, nil
}

// importer gathers the SLOs of every document of one imported file, then
// assembles them into services.
type importer struct {
	file    string
	opt     Options
	notes   Notes
	formats map[source]bool
	// pending SLOs in file order, with the service each belongs to.
	pending []pending
	// services in order of first mention, with what their documents say.
	services []serviceInfo
	// refused holds one error per SLO that cannot map.
	refused []error
}

type serviceInfo struct {
	name, title, description string
}

// pending is one converted SLO before its service's selector is known.
type pending struct {
	service string
	slo     model.SLO
	shape   sliShape
}

// service registers a service name (kebab-cased) and returns it.
func (im *importer) service(name, title, description string) string {
	k := kebab(name)
	for i := range im.services {
		if im.services[i].name == k {
			if title != "" {
				im.services[i].title = title
			}
			if description != "" {
				im.services[i].description = description
			}
			return k
		}
	}
	im.services = append(im.services, serviceInfo{name: k, title: title, description: description})
	return k
}

func (im *importer) refuse(err error) { im.refused = append(im.refused, err) }

func (im *importer) changed(format string, args ...any) {
	im.notes.Changed = append(im.notes.Changed, fmt.Sprintf(format, args...))
}

// importFile reads documents of the Sloth and OpenSLO families.
func importFile(file string, docs []*yaml.Node, kinds []source, opt Options) (model.Spec, Notes, error) {
	im := &importer{file: file, opt: opt, formats: map[source]bool{}}
	var v1 []*yaml.Node
	for i, d := range docs {
		im.formats[kinds[i]] = true
		var err error
		switch kinds[i] {
		case slothPlain, slothCRD:
			err = im.sloth(d, kinds[i] == slothCRD)
		case openSLOAlpha:
			err = im.openSLOAlpha(d)
		case openSLOV1:
			v1 = append(v1, d)
		default:
			err = importError(file, d, "", "a document of this project's spec cannot sit in a file of %s documents", im.formatNames())
		}
		if err != nil {
			return model.Spec{}, Notes{}, err
		}
	}
	if len(v1) > 0 {
		if err := im.openSLOV1(v1); err != nil {
			return model.Spec{}, Notes{}, err
		}
	}
	im.notes.Format = im.formatNames()
	return im.finish()
}

func (im *importer) formatNames() string {
	var names []string
	for _, k := range []source{slothPlain, slothCRD, openSLOAlpha, openSLOV1} {
		if im.formats[k] {
			names = append(names, sourceNames[k])
		}
	}
	return strings.Join(names, ", ")
}

// finish refuses the file or lists the skipped SLOs, then builds the spec.
func (im *importer) finish() (model.Spec, Notes, error) {
	if len(im.refused) > 0 && !im.opt.SkipUnmappable {
		hint := fmt.Errorf("%s: %d SLO(s) or documents cannot map and %d SLO(s) can; nothing was converted. Fix the SLOs above, or pass -skip-unmappable to convert the others and list the skipped ones",
			im.file, len(im.refused), len(im.pending))
		return model.Spec{}, im.notes, errors.Join(append(im.refused, hint)...)
	}
	for _, err := range im.refused {
		im.notes.Skipped = append(im.notes.Skipped, err.Error())
	}
	if len(im.pending) == 0 {
		return model.Spec{}, im.notes, &Error{File: im.file, Msg: fmt.Sprintf("no SLO of this %s file maps, so there is nothing to generate", im.notes.Format)}
	}
	s := model.Spec{Version: importedVersion}
	for _, info := range im.services {
		svc, ok := im.assemble(info)
		if !ok {
			im.changed("service %s has no SLO that maps: not generated", info.name)
			continue
		}
		s.Services = append(s.Services, svc)
		im.notes.Placeholders = append(im.notes.Placeholders,
			fmt.Sprintf("service %s: runbookBaseURL %s and grafanaURL %s are invented (neither format names them); the runbook_url and dashboard_url of every alert point there. "+
				"Set services[].runbookBaseURL and services[].grafanaURL in a spec of this project's own format to replace them", svc.Name, svc.RunbookBaseURL, svc.GrafanaURL))
	}
	s.Name = bundleName(im.file, s.Services)
	im.separateSeverities(&s)
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		return model.Spec{}, im.notes, &Error{File: im.file, Msg: "the imported spec does not hold: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	return s, im.notes, nil
}

// separateSeverities keeps a tier's own severity label (Sloth's page_alert
// severity: pageteam, which routes match) unless some value marks page
// and ticket alerts both, when routing could not tell them apart: the
// ticket tiers then keep that value as imported_severity.
func (im *importer) separateSeverities(s *model.Spec) {
	page := s.SeverityValues(model.Page)
	for i := range s.Services {
		svc := &s.Services[i]
		for j := range svc.SLOs {
			o := &svc.SLOs[j]
			for k := range o.Tiers {
				t := &o.Tiers[k]
				value, own := t.Labels[model.LabelSeverity]
				if !own || t.Severity != model.Ticket || !slices.Contains(page, value) {
					continue
				}
				t.Labels = maps.Clone(t.Labels)
				delete(t.Labels, model.LabelSeverity)
				t.Labels[importedLabelPrefix+model.LabelSeverity] = value
				im.changed("service %s, SLO %s, tier %s: severity=%q marks page alerts too, so this ticket tier keeps it as %s%s and has severity=%q; point routes that read it at the new name",
					svc.Name, o.Name, t.Name, value, importedLabelPrefix, model.LabelSeverity, model.Ticket)
			}
		}
	}
}

// bundleName is the only service's name, or the file's for several.
func bundleName(file string, svcs []model.Service) string {
	if len(svcs) == 1 {
		return svcs[0].Name
	}
	if n := kebab(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))); n != "" {
		return n
	}
	return "imported"
}

// assemble builds one service from its pending SLOs. The selector is the
// equality matchers every SLO's events share; each SLO keeps the rest as
// its own narrowing, so per-route SLOs live in one service.
func (im *importer) assemble(info serviceInfo) (model.Service, bool) {
	var mine []pending
	for _, p := range im.pending {
		if p.service == info.name {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return model.Service{}, false
	}
	svc := model.Service{Name: info.name, Title: info.title, Description: info.description,
		Selector: commonSelector(mine), GrafanaURL: importedGrafanaURL, RunbookBaseURL: importedRunbooks(info.name)}
	if model.CheckTitle(svc.Title) != nil {
		svc.Title = "" // defaulted to the name
	}
	contract := &contract{}
	for _, p := range mine {
		o := p.slo
		o.SLI = p.shape.sli(svc.Selector, contract)
		svc.SLOs = append(svc.SLOs, o)
	}
	svc.Metrics = contract.metrics
	im.unshareAlerts(&svc)
	return svc, true
}

// unshareAlerts gives the tiers of SLOs that share one alert id (Sloth's
// alert name, which is legal to share) ids of their own,
// <alert>-<slo>-<tier>, as every alert of a service has its own runbook.
// Their Prometheus alert name stays the shared one (model.Tier.AlertName).
func (im *importer) unshareAlerts(svc *model.Service) {
	owners := map[string]int{}
	for _, o := range svc.SLOs {
		for _, t := range o.Tiers {
			owners[t.Alert]++
		}
	}
	for i := range svc.SLOs {
		o := &svc.SLOs[i]
		for j := range o.Tiers {
			t := &o.Tiers[j]
			if owners[t.Alert] < 2 {
				continue
			}
			id := strings.TrimSuffix(t.Alert, "-"+t.Name) + "-" + kebab(o.Name) + "-" + t.Name
			if t.AlertName == "" {
				t.AlertName = t.RuleName()
			}
			im.changed("service %s, SLO %s: alert %s is shared with another SLO; this SLO's tier %s keeps that name, with its runbook at %s", svc.Name, o.Name, t.RuleName(), t.Name, model.RunbookName(svc.Name, id))
			t.Alert = id
		}
	}
}

// commonSelector is the equality matchers present in the scope of every SLO.
func commonSelector(ps []pending) map[string]string {
	count := map[string]int{}
	for _, p := range ps {
		seen := map[string]bool{}
		for _, m := range p.shape.selectable() {
			if m.Type == labels.MatchEqual && m.Value != "" && !seen[m.String()] {
				seen[m.String()] = true
				count[m.String()]++
			}
		}
	}
	sel := map[string]string{}
	for _, m := range ps[0].shape.selectable() {
		if m.Type == labels.MatchEqual && m.Value != "" && count[m.String()] == len(ps) {
			sel[m.Name] = m.Value
		}
	}
	return sel
}

// contract collects the metrics the SLOs read, with the labels they use.
type contract struct{ metrics []model.Metric }

func (c *contract) use(name string, typ model.MetricType, ls []string, bucket *float64) {
	i := slices.IndexFunc(c.metrics, func(m model.Metric) bool { return m.Name == name })
	if i < 0 {
		c.metrics = append(c.metrics, model.Metric{Name: name, Type: typ})
		i = len(c.metrics) - 1
	}
	m := &c.metrics[i]
	for _, l := range ls {
		if !slices.Contains(m.Labels, l) {
			m.Labels = append(m.Labels, l)
		}
	}
	sort.Strings(m.Labels)
	if bucket != nil && !slices.Contains(m.Buckets, *bucket) {
		m.Buckets = append(m.Buckets, *bucket)
		sort.Float64s(m.Buckets)
	}
}

// importError is an Error at a node of an imported file.
func importError(file string, n *yaml.Node, path, format string, args ...any) error {
	e := &Error{File: file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// get returns the value of key (the first spelling found) in a mapping.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for _, k := range keys {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				return n.Content[i+1]
			}
		}
	}
	return nil
}

// scalar is a node's value, or "" for no node.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// unknownKey returns the first key of a mapping not among allowed, so a
// field the import does not understand is refused, never dropped.
func unknownKey(n *yaml.Node, allowed ...string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !slices.Contains(allowed, n.Content[i].Value) {
			return n.Content[i]
		}
	}
	return nil
}

// stringMap reads a mapping of strings (labels, annotations).
func stringMap(file string, n *yaml.Node, path string) (map[string]string, error) {
	if n == nil || n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, importError(file, n, path, "expected a mapping of names to strings, got %s", describe(n))
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, importError(file, v, join(path, k.Value), "expected a string, got %s", describe(v))
		}
		out[k.Value] = v.Value
	}
	return out, nil
}

// keepNames moves labels or annotations whose names the generator owns to
// importedLabelPrefix+name, noting each move, so no value is lost and no
// generated one is hidden.
func (im *importer) keepNames(ls map[string]string, reserved func(string) bool, where string) map[string]string {
	if len(ls) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		if reserved(k) {
			im.changed("%s: %s=%q is kept as %s%s=%q, because the bundle sets %s itself; point routes or templates that read it at the new name",
				where, k, ls[k], importedLabelPrefix, k, ls[k], k)
			out[importedLabelPrefix+k] = ls[k]
			continue
		}
		out[k] = ls[k]
	}
	return out
}

// merged is b laid over a (either may be nil).
func merged(a, b map[string]string) map[string]string {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// standardTiers are the alerts Sloth generates for every SLO: its page
// alert covers the two fast pairs of windows, its ticket alert the two
// slow ones. They are also the tiers of an OpenSLO SLO without alert
// policies.
var standardTiers = []model.Tier{
	{Name: "fast", Severity: model.Page, Long: model.Duration(time.Hour), Short: model.Duration(5 * time.Minute), Factor: 14.4},
	{Name: "medium", Severity: model.Page, Long: model.Duration(6 * time.Hour), Short: model.Duration(30 * time.Minute), Factor: 6},
	{Name: "slow", Severity: model.Ticket, Long: model.Duration(24 * time.Hour), Short: model.Duration(2 * time.Hour), Factor: 3},
	{Name: "very-slow", Severity: model.Ticket, Long: model.Duration(72 * time.Hour), Short: model.Duration(6 * time.Hour), Factor: 1},
}

// kebab turns an identifier into the kebab case alert ids use; a run of
// capitals is one word ("HTTPErrors" -> http-errors).
func kebab(s string) string {
	rs := []rune(s)
	var b strings.Builder
	dash := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	for i, r := range rs {
		switch {
		case r >= 'A' && r <= 'Z':
			prevLower := i > 0 && (rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9')
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := i > 0 && rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				dash()
			}
			b.WriteRune(r - 'A' + 'a')
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			dash()
		}
	}
	out := strings.Trim(b.String(), "-")
	for out != "" && (out[0] >= '0' && out[0] <= '9' || out[0] == '-') {
		out = out[1:]
	}
	return strings.Trim(out, "-")
}

// sloName turns an identifier into an SLO name (letters, digits, _).
func sloName(s string) string {
	return strings.ReplaceAll(kebab(s), "-", "_")
}
