package bundle_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/alerttests"
	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/grafanacheck"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/internal/specgen"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/spec"
	"github.com/tensorwasm/obsbundle/targets"
)

// The property test runs a small, fixed sample by default, so CI stays
// fast. Longer runs:
//
//	go test -run TestPropertiesOfGeneratedSpecs -timeout 2h ./bundle/ -args -specs 500 -seed 7
//
// -replay-every N replays an outage on every Nth spec (0: none); -shrink=false
// reports failing specs whole, which is faster when most fail; -only 3,17
// checks just those specs of the seed, to reproduce a reported failure.
var (
	propSpecs  = flag.Int("specs", 16, "how many random specs the property test generates")
	propSeed   = flag.Uint64("seed", 1, "the property test's seed")
	propReplay = flag.Int("replay-every", 10, "replay a full outage with the engine on every Nth spec (0: never)")
	propOnly   = flag.String("only", "", "check only these spec indices (comma-separated), to reproduce a failure")
	propShrink = flag.Bool("shrink", true, "reduce each failing spec to a smaller one that fails the same way")
	shrinkTime = flag.Duration("shrink-time", 2*time.Second, "how long to try reducing each failing spec")
)

// failure is one property that did not hold for one spec.
type failure struct {
	index    int
	property string
	err      string
	yaml     string // a reduced spec that still fails the same way
	reduced  string // the reduced spec's error, when it reads differently
}

// TestPropertiesOfGeneratedSpecs generates random valid specs and checks,
// for each: the YAML of the spec loads back as the same spec; bundle.Build
// succeeds without panicking; every file path is unique; no two recording
// rules of a service write the same series; the Grafana alerting target
// mirrors the alerts and routing (or refuses an interval Grafana cannot
// schedule); the bundle writes;
// Debian's `promtool check rules` and `promtool test rules` pass on the
// written rules and tests; and, on every tenth spec, an engine replay of a
// full outage from clean history fires every page tier at its analytic
// time, within one evaluation interval, and the Grafana rule of each page
// tier would fire where the Prometheus alert starts (grafanaReplay).
//
// Every failing spec is reported with the seed, its index, the property,
// the error, and the YAML of a reduced spec that fails the same way.
func TestPropertiesOfGeneratedSpecs(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed; .ci/run installs Debian's prometheus")
		}
		t.Log("promtool not installed: the promtool properties are not checked")
		promtool = ""
	}
	start := time.Now()
	var failures []failure
	held, unchecked := map[string]int{}, map[string]int{}
	replayed := 0
	var stats replayStats
	only := map[int]bool{}
	for _, f := range strings.Split(*propOnly, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			only[n] = true
		}
	}
	for i := range *propSpecs {
		if len(only) > 0 && !only[i] {
			continue
		}
		g, err := generate(*propSeed, i)
		if err != nil {
			failures = append(failures, failure{index: i, property: "generate", err: err.Error()})
			continue
		}
		checks := []struct {
			name string
			fn   func(model.Spec) error
		}{
			{"yaml round trip", roundTrip},
			{"build", build},
			{"unique paths", uniquePaths},
			{"recorded once", recordedOnce},
			{"grafana alerting", grafanaAlerting},
			{"write", write(t)},
		}
		if promtool != "" {
			checks = append(checks, struct {
				name string
				fn   func(model.Spec) error
			}{"promtool", runPromtool(t, promtool)})
		}
		for _, c := range checks {
			err := c.fn(g.Spec)
			if err == nil {
				held[c.name]++
				continue
			}
			if errors.Is(err, errNotChecked) {
				unchecked[c.name]++
				continue
			}
			small := shrink(g.Spec, c.fn, err)
			f := failure{index: i, property: c.name, err: err.Error(), yaml: specgen.YAML(small)}
			if e := c.fn(small); e != nil && e.Error() != err.Error() {
				f.reduced = e.Error()
			}
			failures = append(failures, f)
		}
		if *propReplay > 0 && i%*propReplay == 0 {
			replayed++
			fs := replayOutages(t, g, &stats)
			for _, f := range fs {
				f.index = i
				failures = append(failures, f)
			}
			if len(fs) == 0 {
				held["outage replay"]++
			}
		}
	}
	t.Logf("%d specs (seed %d) in %s; held: %v; not checked (no bundle): %v; %d outage replays",
		*propSpecs, *propSeed, time.Since(start).Round(time.Millisecond), held, unchecked, replayed)
	t.Logf("outage replays: %d page tiers, %d fired (largest gap to the analytic time %s, at most one evaluation interval allowed), %d never fire by the analysis",
		stats.tiers, stats.fired, stats.worst, stats.never)
	if len(failures) == 0 {
		return
	}
	byProperty := map[string][]int{}
	bySignature := map[string]int{}
	for _, f := range failures {
		byProperty[f.property] = append(byProperty[f.property], f.index)
		bySignature[f.property+": "+kind(f.err)]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d failures over %d specs (seed %d):\n", len(failures), *propSpecs, *propSeed)
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for k := range byProperty {
			if !yield(k) {
				return
			}
		}
	}) {
		specs := slices.Compact(byProperty[p])
		fmt.Fprintf(&b, "  %s: %d specs %v\n", p, len(specs), specs)
	}
	fmt.Fprintf(&b, "by kind of error (names and numbers left out):\n")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range bySignature {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "  %4d  %s\n", bySignature[k], k)
	}
	shown := map[string]bool{}
	for _, f := range failures {
		fmt.Fprintf(&b, "\n--- seed %d, spec %d, %s: %s\n", *propSeed, f.index, f.property, firstLines(f.err, 6))
		if f.reduced != "" {
			fmt.Fprintf(&b, "    reduced to the spec below, which fails with: %s\n", firstLines(f.reduced, 4))
		}
		// Identical reduced specs print once.
		if f.yaml != "" && !shown[f.yaml] {
			shown[f.yaml] = true
			fmt.Fprintf(&b, "%s", indent(f.yaml))
		}
	}
	t.Error(b.String())
}

// generate recovers a panic of the generator (a spec validation refused).
func generate(seed uint64, i int) (g specgen.Generated, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return specgen.Generate(seed, i), nil
}

// roundTrip: the spec's YAML loads, validates and gives the same spec.
func roundTrip(s model.Spec) error {
	back, err := spec.Parse("generated.yaml", []byte(specgen.YAML(s)))
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(s, back) {
		return fmt.Errorf("the spec changed through YAML:\nwas %+v\nnow %+v", s, back)
	}
	return nil
}

// buildSafely runs bundle.Build, turning a panic into an error.
func buildSafely(s model.Spec) (b *bundle.Bundle, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, panicSite(debug.Stack()))
		}
	}()
	return bundle.Build(s)
}

// panicSite keeps the first frames of this module's code from a stack.
func panicSite(stack []byte) string {
	var out []string
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.Contains(l, "obsbundle/") && i+1 < len(lines) && !strings.Contains(lines[i+1], "_test.go") &&
			!strings.Contains(l, "panic") && strings.HasPrefix(lines[i+1], "\t") {
			out = append(out, "at "+strings.TrimSpace(lines[i+1]))
			if len(out) == 2 {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// errNotChecked says a property needs a bundle that Build did not make.
var errNotChecked = errors.New("not checked: Build failed")

func build(s model.Spec) error {
	_, err := buildSafely(s)
	return err
}

// grafanaAlerting builds the Grafana alerting target and checks it whole
// (grafanacheck): strict decoding, one rule per alert with its labels,
// annotations, for and condition, queries of known series, and routing as
// Alertmanager's. A service with alerts at an evaluation interval Grafana
// cannot schedule must be refused instead, naming the interval.
func grafanaAlerting(s model.Spec) error {
	if _, err := buildSafely(s); err != nil {
		return errNotChecked
	}
	b, err := bundle.Build(s, targets.GrafanaAlerting)
	for i := range s.Services {
		svc := &s.Services[i]
		alerts, aerr := rules.Standalone(svc, s.Version)
		if aerr != nil {
			return aerr
		}
		if len(alerts.Groups) > 0 && svc.EvaluationInterval.Std()%targets.GrafanaBaseInterval != 0 {
			want := fmt.Sprintf("evaluation interval %s is not a multiple of 10s", svc.EvaluationInterval)
			if err == nil || !strings.Contains(err.Error(), want) {
				return fmt.Errorf("service %s: expected the refusal %q, got %v", svc.Name, want, err)
			}
			return nil
		}
	}
	if err != nil {
		return err
	}
	data, _ := b.File(model.GrafanaAlertingFile)
	return grafanacheck.Check(s, data)
}

func uniquePaths(s model.Spec) error {
	b, err := buildSafely(s)
	if err != nil {
		return errNotChecked
	}
	seen := map[string]bool{}
	var dups []string
	for _, f := range b.Files {
		if seen[f.Path] {
			dups = append(dups, f.Path)
		}
		seen[f.Path] = true
	}
	if len(dups) > 0 {
		return fmt.Errorf("%v: %d paths given more than once", dups, len(dups))
	}
	return nil
}

func write(t *testing.T) func(model.Spec) error {
	return func(s model.Spec) error {
		b, err := buildSafely(s)
		if err != nil {
			return errNotChecked
		}
		_, err = b.Write(t.TempDir())
		return err
	}
}

// runPromtool writes every file of the bundle (a path given twice goes to
// a side directory, so nothing is lost) and runs promtool check rules and
// promtool test rules on the rules and test files. When Build fails, it
// checks instead the rules and test files of each service that still
// generates them, as the bundle would hold them.
func runPromtool(t *testing.T, promtool string) func(model.Spec) error {
	return func(s model.Spec) error {
		dir := t.TempDir()
		var ruleFiles, testFiles []string
		put := func(i int, path string, data []byte) error {
			p := filepath.Join(dir, filepath.FromSlash(path))
			if _, err := os.Stat(p); err == nil {
				p = filepath.Join(dir, fmt.Sprintf(".dup%d", i), filepath.FromSlash(path))
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return err
			}
			switch {
			case strings.HasPrefix(path, "rules/") && strings.HasSuffix(path, ".rules.yaml"):
				ruleFiles = append(ruleFiles, p)
			case strings.HasPrefix(path, "rules/") && strings.HasSuffix(path, ".test.yaml"):
				testFiles = append(testFiles, p)
			}
			return nil
		}
		if b, err := buildSafely(s); err == nil {
			for i, f := range b.Files {
				if err := put(i, f.Path, f.Data); err != nil {
					return err
				}
			}
			if len(ruleFiles) != len(s.Services) || len(testFiles) != len(s.Services) {
				return fmt.Errorf("expected a rules and a test file per service (%d), got %d and %d", len(s.Services), len(ruleFiles), len(testFiles))
			}
		} else {
			for i := range s.Services {
				svc := &s.Services[i]
				data, groups, err := rules.File(svc, s.Version)
				if err != nil {
					continue // reported by build
				}
				if err := put(0, model.RuleFile(svc.Name), data); err != nil {
					return err
				}
				if tests, err := alerttests.File(svc, *groups, filepath.Base(model.RuleFile(svc.Name))); err == nil {
					if err := put(0, model.RuleTestFile(svc.Name), tests); err != nil {
						return err
					}
				}
			}
		}
		var errs []error
		if len(ruleFiles) > 0 {
			if out, err := exec.Command(promtool, append([]string{"check", "rules"}, ruleFiles...)...).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("promtool check rules: %v\n%s", err, failing(out)))
			}
		}
		for _, f := range testFiles {
			cmd := exec.Command(promtool, "test", "rules", filepath.Base(f))
			cmd.Dir = filepath.Dir(f)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("promtool test rules %s: %v\n%s", filepath.Base(f), err, failing(out)))
			}
		}
		return errors.Join(errs...)
	}
}

// failing keeps the lines of promtool's output that say what failed.
func failing(out []byte) string {
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "Checking") || strings.HasPrefix(l, "SUCCESS") || strings.HasPrefix(l, "Unit Testing") {
			continue
		}
		keep = append(keep, l)
	}
	return firstLines(strings.Join(keep, "\n"), 8)
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "..."
		}
	}
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}

// kind is the gist of an error message, for counting failures by cause:
// its last clause, without names, numbers and quoted text.
func kind(msg string) string {
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	msg = kindMap.ReplaceAllString(msg, "")
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	return strings.Join(strings.Fields(sigNoise.ReplaceAllString(msg, "")), " ")
}

var kindMap = regexp.MustCompile(`map\[[^\]]*\]`)

// signature is an error message without names and numbers, to tell
// whether a reduced spec still fails the same way.
func signature(err error, s model.Spec) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	for _, svc := range s.Services {
		msg = strings.ReplaceAll(msg, svc.Name, "")
		for _, o := range svc.SLOs {
			msg = strings.ReplaceAll(msg, o.Name, "")
		}
	}
	return sigNoise.ReplaceAllString(msg, "")
}

var sigNoise = regexp.MustCompile(`"[^"]*"|[0-9][0-9a-z.]*|[A-Z][A-Za-z0-9]+|\[[^\]]*\]`)

// shrink removes services, SLOs, tiers, alerts and metrics from s one at a
// time while the spec stays valid and check still fails the same way.
func shrink(s model.Spec, check func(model.Spec) error, err error) model.Spec {
	if !*propShrink {
		return s
	}
	want := signature(err, s)
	still := func(c model.Spec) bool {
		if c.Validate() != nil {
			return false
		}
		e := check(c)
		return e != nil && signature(e, c) == want
	}
	deadline := time.Now().Add(*shrinkTime)
	for budget := 200; budget > 0 && time.Now().Before(deadline); {
		smaller := false
		for _, c := range candidates(s) {
			if budget--; budget <= 0 {
				break
			}
			if still(c) {
				s, smaller = c, true
				break
			}
		}
		if !smaller {
			break
		}
	}
	return s
}

// candidates are s with one part removed, biggest parts first.
func candidates(s model.Spec) []model.Spec {
	var out []model.Spec
	clone := func() model.Spec {
		c := s
		c.Services = slices.Clone(s.Services)
		for i := range c.Services {
			svc := &c.Services[i]
			svc.SLOs = slices.Clone(svc.SLOs)
			for j := range svc.SLOs {
				svc.SLOs[j].Tiers = slices.Clone(svc.SLOs[j].Tiers)
			}
			svc.Alerts = slices.Clone(svc.Alerts)
			svc.Metrics = slices.Clone(svc.Metrics)
		}
		return c
	}
	for i := range s.Services {
		if len(s.Services) > 1 {
			c := clone()
			c.Services = slices.Delete(c.Services, i, i+1)
			out = append(out, c)
		}
	}
	for i, svc := range s.Services {
		for j := range svc.SLOs {
			c := clone()
			name := c.Services[i].SLOs[j].Name
			c.Services[i].SLOs = slices.Delete(c.Services[i].SLOs, j, j+1)
			c.Services[i].Alerts = slices.DeleteFunc(c.Services[i].Alerts, func(a model.ThresholdAlert) bool {
				return a.ErrorRatio != nil && a.ErrorRatio.SLO == name
			})
			out = append(out, c)
		}
		for j := range svc.Alerts {
			c := clone()
			c.Services[i].Alerts = slices.Delete(c.Services[i].Alerts, j, j+1)
			out = append(out, c)
		}
		for j, o := range svc.SLOs {
			for k := range o.Tiers {
				c := clone()
				c.Services[i].SLOs[j].Tiers = slices.Delete(c.Services[i].SLOs[j].Tiers, k, k+1)
				out = append(out, c)
			}
		}
		for j := range svc.Metrics {
			c := clone()
			c.Services[i].Metrics = slices.Delete(c.Services[i].Metrics, j, j+1)
			out = append(out, c)
		}
	}
	return out
}

// replayOutages replays, for every SLO with page tiers, a full outage after
// clean history with the engine, and checks each page tier fires at its
// analytic time, within one evaluation interval (or never, if the analysis
// says so).
// replayStats sums up what the outage replays checked.
type replayStats struct {
	tiers, fired, never int
	worst               time.Duration
}

func replayOutages(t *testing.T, g specgen.Generated, stats *replayStats) []failure {
	var out []failure
	for i := range g.Spec.Services {
		svc := &g.Spec.Services[i]
		for j, o := range svc.SLOs {
			var pages []model.Tier
			for _, tr := range o.Tiers {
				if tr.Severity == model.Page {
					pages = append(pages, tr)
				}
			}
			if len(pages) == 0 {
				continue
			}
			if err := replayOutage(t, g.Spec.Version, svc, o, pages, g.Witnesses[i][j], stats); err != nil {
				one := g.Spec
				s := *svc
				s.SLOs = []model.SLO{o}
				s.Alerts = nil
				one.Services = []model.Service{s}
				out = append(out, failure{property: "outage replay", err: err.Error(), yaml: specgen.YAML(one)})
			}
		}
	}
	return out
}

// perScrape is how many events the simulated service serves per scrape.
const perScrape = 100

var replayEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func replayOutage(t *testing.T, version string, svc *model.Service, o model.SLO, pages []model.Tier, w specgen.Witness, stats *replayStats) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, panicSite(debug.Stack()))
		}
	}()
	interval := svc.EvaluationInterval.Std()
	tile := model.PeriodTile.Std()
	var longest, last time.Duration
	for _, tr := range pages {
		longest = max(longest, tr.Long.Std())
		last = max(last, tr.Long.Std()+tr.For.Std())
	}
	// Clean history as long as every long window (in whole coarse tiles,
	// plus one), then the outage.
	history := (longest+tile-1)/tile*tile + tile
	t0 := replayEpoch.Add(history)
	end := t0.Add(last + 2*interval)

	all, err := rules.Build(svc, version)
	if err != nil {
		return err
	}
	var groups []rulefmt.RuleGroup
	for _, gr := range all.Groups {
		if gr.Name == model.GroupName(svc.Name, o.Name) || gr.Name == model.PeriodGroupName(svc.Name, o.Name) {
			groups = append(groups, gr)
		}
	}
	ev, err := evaluator.New(groups...)
	if err != nil {
		return err
	}
	defer ev.Close()
	outageAt := int64(history / interval)
	feed := func(at time.Time, add func(labels.Labels, float64)) {
		n := int64(at.Sub(replayEpoch) / interval)
		good, bad := float64(perScrape*min(n, outageAt)), float64(perScrape*max(0, n-outageAt))
		base := func(name string, extra map[string]string) labels.Labels {
			b := labels.NewBuilder(labels.EmptyLabels())
			for k, v := range extra {
				b.Set(k, v)
			}
			for k, v := range svc.Selector {
				b.Set(k, v)
			}
			b.Set(prommodel.MetricNameLabel, name)
			return b.Labels()
		}
		if !w.Latency {
			add(base(w.Metric, w.Good), good)
			if w.GoodMetric != "" {
				add(base(w.GoodMetric, w.Good), good)
			}
			if bad > 0 {
				add(base(w.Metric, w.Bad), bad)
				if w.BadMetric != "" {
					add(base(w.BadMetric, w.Bad), bad)
				}
			}
			return
		}
		// Good observations fall in the first bucket, bad ones above the last.
		h, _ := svc.Metric(w.Metric)
		add(base(model.CountSeries(w.Metric), w.Good), good+bad)
		for _, le := range h.Buckets {
			add(base(model.BucketSeries(w.Metric), with(w.Good, labels.BucketLabel, model.Decimal(le))), good)
		}
		add(base(model.BucketSeries(w.Metric), with(w.Good, labels.BucketLabel, "+Inf")), good+bad)
	}
	if err := ev.Run(context.Background(), replayEpoch, end, interval, feed); err != nil {
		return err
	}
	var errs []string
	wants := make([]time.Duration, len(pages))
	oks := make([]bool, len(pages))
	for i, tr := range pages {
		wants[i], oks[i] = analyticFiring(svc, o, tr, history, !w.Latency)
	}
	for i, tr := range pages {
		want, ok := wants[i], oks[i]
		never := "never"
		if by := held(pages, wants, oks, i); by != "" {
			ok, never = false, "never (held by tier "+by+")"
		}
		got, fired := firstFiring(ev, tr.RuleName(), o.Name, tr.Name)
		stats.tiers++
		if !ok {
			stats.never++
		}
		if ok && fired {
			stats.fired++
			stats.worst = max(stats.worst, absDuration(got.Sub(t0)-want))
		}
		switch {
		case !ok && fired:
			errs = append(errs, fmt.Sprintf("tier %s (%s, %sx, long %s, short %s, for %s): fired %s into the outage; the analysis says %s",
				tr.Name, o.Alerting, model.Decimal(tr.Factor), tr.Long, tr.Short, tr.For, model.Duration(got.Sub(t0)), never))
		case ok && !fired:
			errs = append(errs, fmt.Sprintf("tier %s (%s, %sx, long %s, short %s, for %s): never fired; the analysis says %s into the outage",
				tr.Name, o.Alerting, model.Decimal(tr.Factor), tr.Long, tr.Short, tr.For, model.Duration(want)))
		case ok && fired && absDuration(got.Sub(t0)-want) > interval:
			errs = append(errs, fmt.Sprintf("tier %s (%s, %sx, long %s, short %s, for %s): fired %s into the outage; the analysis says %s (±%s)",
				tr.Name, o.Alerting, model.Decimal(tr.Factor), tr.Long, tr.Short, tr.For, model.Duration(got.Sub(t0)), model.Duration(want), model.Duration(interval)))
		}
	}
	errs = append(errs, grafanaReplay(ev, version, svc, o, pages, end)...)
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// held names the slower page tier that fires strictly before page tier i
// and so holds the SLO's incident: tier i does not start while it fires
// (package rules). At one evaluation the faster tier runs first and fires.
func held(pages []model.Tier, wants []time.Duration, oks []bool, i int) string {
	for j, s := range pages {
		if oks[i] && oks[j] && s.Factor < pages[i].Factor && wants[j] < wants[i] {
			return s.Name
		}
	}
	return ""
}

// grafanaReplay checks, on a replay, the Grafana rules of the page tiers
// (-target grafana-alerting): a rule fires while its query, the tier's
// standalone condition, returns a sample above 0. Every sample the query
// returns over the replay is above 0, and it returns one at the evaluation
// where the Prometheus alert became active.
func grafanaReplay(ev *evaluator.Evaluator, version string, svc *model.Service, o model.SLO, pages []model.Tier, end time.Time) []string {
	alone, err := rules.Standalone(svc, version)
	if err != nil {
		return []string{err.Error()}
	}
	var errs []string
	interval := svc.EvaluationInterval.Std()
	for _, g := range alone.Groups {
		for _, r := range g.Rules {
			var tier *model.Tier
			for i, tr := range pages {
				if r.Labels[model.LabelSLO] == o.Name && r.Labels[model.LabelTier] == tr.Name && r.Alert == tr.RuleName() {
					tier = &pages[i]
				}
			}
			if tier == nil {
				continue
			}
			m, err := ev.QueryRange(context.Background(), r.Expr, replayEpoch, end, interval)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			returned := map[int64]bool{}
			for _, series := range m {
				for _, p := range series.Floats {
					returned[p.T] = true
					if !(p.F > 0) {
						errs = append(errs, fmt.Sprintf("Grafana rule %s: its query returned %v at %s, which its condition B > 0 misses",
							r.Alert, p.F, time.UnixMilli(p.T).UTC().Format(time.RFC3339)))
					}
				}
			}
			if got, fired := firstFiring(ev, r.Alert, o.Name, tier.Name); fired {
				// The alert became active at the evaluation at or before
				// `for` before it fired; evaluations are on the grid of
				// the interval from the epoch.
				since := got.Add(-tier.For.Std()).Sub(replayEpoch)
				start := replayEpoch.Add(since / interval * interval)
				if !returned[start.UnixMilli()] {
					errs = append(errs, fmt.Sprintf("Grafana rule %s: its query returns nothing at %s, where the Prometheus alert started",
						r.Alert, start.Format(time.RFC3339)))
				}
			}
		}
	}
	return errs
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		if a != k {
			out[a] = b
		}
	}
	return out
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func firstFiring(ev *evaluator.Evaluator, alert, slo, tier string) (time.Time, bool) {
	for _, e := range ev.Events {
		if e.Alert == alert && e.State == evaluator.Firing && e.Labels.Get(model.LabelSLO) == slo && e.Labels.Get(model.LabelTier) == tier {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// analyticFiring is when a page tier fires after the start of a full
// outage (every event bad) that follows `history` of clean traffic at a
// constant perScrape events per evaluation interval, or false for never.
//
// Ratio tiers: after k outage tiles a window of W tiles holds k/W bad
// events (k <= W); the tier is pending at the first k where both windows
// reach the threshold (and the long window holds minEvents). A window of 6h
// or more sums the coarse tiles, so it holds the outage only up to the last
// multiple of 4m. For an events SLI the bad series first appears with the
// outage, so its first outage tile counts nothing (the tiles' baseline rule). Budget tiers
// compare bad events per second over each window with factor x the
// allowance, the budget ratio times the average event rate of the coarse
// tiles over the period, recorded every 4m from the first multiple of 4m
// after the epoch (at the epoch no counter has an earlier sample, so there
// is no tile), and want each window's error ratio above the budget ratio;
// the tier also waits until the coarse tiles cover its long window. It
// fires `for` later, at the next evaluation. A page tier that a slower one
// holds never fires (held).
func analyticFiring(svc *model.Service, o model.SLO, tr model.Tier, history time.Duration, newBad bool) (time.Duration, bool) {
	interval := svc.EvaluationInterval.Std()
	tile := model.PeriodTile.Std()
	long, short := int64(tr.Long.Std()/interval), int64(tr.Short.Std()/interval)
	budget := o.BudgetRatio()
	threshold := tr.Threshold(budget)
	if o.MinEvents > 0 && float64(long*perScrape) < o.MinEvents {
		return 0, false
	}
	fine := float64(perScrape)
	// coarse returns the period's total events and number of coarse tiles
	// as of the last coarse evaluation at or before at (since the epoch).
	coarse := func(at time.Duration) (sum float64, n int) {
		u := at / tile * tile
		for v := u; v > 0 && v > u-o.Period.Std(); v -= tile {
			// The coarse tile at the epoch does not exist: at the first
			// evaluation no series has an earlier sample, so there is no
			// fine tile to sum.
			n++
			sum += fine * float64(tile/interval)
			if first := history + interval; newBad && first > v-tile && first <= v {
				sum -= fine // the outage's first tile, the bad series' baseline
			}
		}
		return sum, n
	}
	for k := int64(1); k <= long+short+1+int64(tile/interval); k++ {
		at := history + time.Duration(k)*interval
		ok := true
		for _, w := range []int64{long, short} {
			held := min(k, w) // outage tiles in the window
			if o.Alerting != model.BudgetAlerting && svc.WindowTile(model.Duration(time.Duration(w)*interval)) == model.PeriodTile {
				// The window sums the coarse tiles, the last recorded at
				// the last multiple of 4m: it holds the outage up to then.
				end := at / tile * tile
				held = max(0, min(int64((end-history)/interval), w))
			}
			lost := int64(0)
			if newBad && held > 0 && k <= w {
				// The bad series is new at the outage: its first sample
				// is its baseline, so the first outage tile counts nothing.
				lost = 1
			}
			bad := float64(held-lost) * fine
			total := float64(w-lost) * fine
			if o.Alerting == model.BudgetAlerting {
				sum, n := coarse(at)
				allowed := budget * sum / (float64(n) * tile.Seconds())
				ok = ok && bad/(time.Duration(w)*interval).Seconds() > tr.Factor*allowed && float64(n)*tile.Seconds() >= tr.Long.Std().Seconds() &&
					bad > budget*total // the window spends budget at all
			} else {
				ok = ok && bad/total >= threshold
			}
		}
		if ok {
			forSteps := (tr.For.Std() + interval - 1) / interval
			return time.Duration(k)*interval + forSteps*interval, true
		}
	}
	return 0, false
}
