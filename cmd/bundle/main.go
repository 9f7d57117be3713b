// Command bundle generates a versioned observability bundle (Prometheus
// rules and a manifest) from TensorWasm's built-in spec or a YAML spec.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/diff"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/spec"
	"github.com/tensorwasm/obsbundle/targets"
)

const usage = `Usage: bundle [flags]
       bundle -diff OLD NEW

Generates an observability bundle under OUT/NAME/VERSION: Prometheus
recording and alerting rules with promtool unit tests, Grafana dashboards and
provisioning, a time-to-first-alert report, and a manifest of checksums.
Without -spec it uses TensorWasm's built-in spec.

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code (0 success,
// 1 failure, 2 bad usage) and writes only to the given streams. A panic
// is a bug, but still one line and exit code 1, like any other failure.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(stderr, "bundle: internal error:", strings.Join(strings.Fields(fmt.Sprint(r)), " "))
			code = 1
		}
	}()
	fs := flag.NewFlagSet("bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var (
		out     = fs.String("out", "dist", "directory to write the bundle under")
		file    = fs.String("spec", "", "YAML spec `file` (default: TensorWasm's built-in spec)")
		version = fs.String("version", "", "bundle semantic `version` X.Y.Z (default: the spec's)")
		check   = fs.Bool("check", false, "validate and generate, but write nothing")
		target  = fs.String("target", "files", "outputs: files, kubernetes, mimir, grafana-alerting, comma-separated (files are always written)")
		compare = fs.Bool("diff", false, "compare two bundle directories given as arguments (OLD NEW); exit 3 on a breaking change without a major version bump")
		prose   = fs.String("runbooks", "", "keep the operator-written sections of the runbooks in `dir` (e.g. the previous bundle's runbooks/)")
		simul   = fs.Bool("report", false, "print the time-to-first-alert report of every alert tier (the analysis; go run ./cmd/report adds a replay on simulated traffic); write nothing")
		asJSON  = fs.Bool("json", false, "print the whole bundle as one JSON document on stdout; write nothing")
		skip    = fs.Bool("skip-unmappable", false, "when importing a Sloth or OpenSLO file, convert the SLOs that map and list the others, instead of refusing the file")
		k8s     = targets.KubernetesOptions{RuleLabels: pairs{}, RuleAnnotations: pairs{}, GrafanaSelector: pairs{}}
	)
	fs.Var(pairs(k8s.RuleLabels), "rule-label", "`KEY=VALUE` label of every PrometheusRule (-target kubernetes), e.g. release=<kube-prometheus-stack release>; repeatable")
	fs.Var(pairs(k8s.RuleAnnotations), "rule-annotation", "`KEY=VALUE` annotation of every PrometheusRule (-target kubernetes); repeatable")
	fs.Var(pairs(k8s.GrafanaSelector), "grafana-instance-label", "`KEY=VALUE` label of the grafana-operator Grafana instances that import the GrafanaDashboards (-target kubernetes; default dashboards=grafana); repeatable")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *compare {
		return diffBundles(fs.Args(), stdout, stderr)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bundle: unexpected argument %q (see -h)\n", fs.Arg(0))
		return 2
	}
	ts, err := targets.Parse(*target)
	if err != nil {
		fmt.Fprintln(stderr, "bundle: -target:", err)
		return 2
	}
	if err := kubernetesFlags(k8s, ts); err != nil {
		fmt.Fprintln(stderr, "bundle:", err)
		return 2
	}
	b, err := generate(*file, *version, spec.Options{SkipUnmappable: *skip}, stderr, bundle.Options{Targets: ts, Kubernetes: k8s})
	if err == nil && *prose != "" {
		err = b.KeepRunbookProse(*prose)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bundle: "+strings.ReplaceAll(err.Error(), "\n", "\nbundle: "))
		return 1
	}
	switch {
	case *simul:
		if err := printReport(stdout, b); err != nil {
			fmt.Fprintln(stderr, "bundle:", err)
			return 1
		}
	case *asJSON:
		doc, err := b.JSON()
		if err != nil {
			fmt.Fprintln(stderr, "bundle:", err)
			return 1
		}
		_, _ = stdout.Write(doc)
	case *check:
		summarize(stdout, b, "checked, nothing written")
	default:
		dir, err := b.Write(*out)
		if err != nil {
			fmt.Fprintln(stderr, "bundle:", err)
			return 1
		}
		summarize(stdout, b, "written to "+dir)
	}
	return 0
}

// exitBreaking is the exit code of -diff on a breaking change that the
// version does not announce.
const exitBreaking = 3

// diffBundles prints the changes between two bundle directories.
func diffBundles(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "bundle: -diff takes two bundle directories: OLD NEW")
		return 2
	}
	r, err := diff.Compare(args[0], args[1])
	if err != nil {
		fmt.Fprintln(stderr, "bundle:", err)
		return 1
	}
	fmt.Fprint(stdout, r)
	if r.Breaking() && !r.MajorBumped() {
		return exitBreaking
	}
	return 0
}

// kubernetesFlags checks the flags of the Kubernetes objects: valid, and
// given only with the target they apply to.
func kubernetesFlags(o targets.KubernetesOptions, ts []targets.Target) error {
	if len(o.RuleLabels)+len(o.RuleAnnotations)+len(o.GrafanaSelector) > 0 && !slices.Contains(ts, targets.Kubernetes) {
		return errors.New("-rule-label, -rule-annotation and -grafana-instance-label apply to -target kubernetes")
	}
	return o.Validate()
}

// generate loads the spec (or the built-in one), applies a version override
// and builds the bundle. An import's summary (what it skipped, changed and
// invented) goes to notes, also when the import fails.
func generate(file, version string, opt spec.Options, notes io.Writer, o bundle.Options) (*bundle.Bundle, error) {
	s := catalog.TensorWasm()
	if file != "" {
		var err error
		var n spec.Notes
		s, n, err = spec.Load(file, opt)
		fmt.Fprint(notes, n)
		if err != nil {
			return nil, err
		}
	}
	if version != "" {
		if err := model.CheckVersion(version); err != nil {
			return nil, fmt.Errorf("-version: %w", err)
		}
		s.Version = version
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return build(s, o)
}

// build is bundle.BuildWith; tests replace it to check how failures surface.
var build = bundle.BuildWith

func summarize(w io.Writer, b *bundle.Bundle, where string) {
	fmt.Fprintf(w, "%s %s: %d files, %s\n", b.Name, b.Version, len(b.Files), where)
	counts := map[string]string{}
	for _, st := range b.Stats {
		counts[st.RuleFile] = fmt.Sprintf("%d recording rules, %d alerts", st.Recording, st.Alerting)
	}
	for _, f := range b.Files {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-48s %s", f.Path, counts[f.Path]), " "))
	}
}

// printReport prints the bundle's time-to-first-alert reports.
func printReport(w io.Writer, b *bundle.Bundle) error {
	for _, f := range b.Files {
		if strings.HasPrefix(f.Path, "report/") && strings.HasSuffix(f.Path, ".md") {
			if _, err := w.Write(f.Data); err != nil {
				return err
			}
		}
	}
	return nil
}
