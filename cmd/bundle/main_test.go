package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/internal/specgen"
	"github.com/tensorwasm/obsbundle/model"
)

// bundleCmd runs the command in-process and returns exit code and output.
func bundleCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// tree reads every file under dir, keyed by relative path.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(b)
		return err
	}))
	return files
}

func TestDefaultRunWritesTensorWasmBundleAndSummary(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := bundleCmd("-out", out)
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `^tensor-wasm 1.0.0: \d+ files, written to `+regexp.QuoteMeta(filepath.Join(out, "tensor-wasm", "1.0.0"))+"\n", stdout)
	require.Regexp(t, `rules/tensor-wasm.rules.yaml +\d+ recording rules, \d+ alerts`, stdout)
	files := tree(t, out)
	require.Contains(t, files, "tensor-wasm/1.0.0/rules/tensor-wasm.rules.yaml")
	require.Contains(t, files, "tensor-wasm/1.0.0/manifest.json")
	require.Contains(t, files, "tensor-wasm/1.0.0/alertmanager/demo.yml")
	require.Contains(t, files, "tensor-wasm/1.0.0/rules/tensor-wasm.test.yaml")

	// A second run gives a byte-identical bundle.
	code, _, stderr = bundleCmd("-out", out)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, files, tree(t, out))
}

func TestVersionFlagNamesTheBundle(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := bundleCmd("-out", out, "-version", "2.3.4")
	require.Equal(t, 0, code, stderr)
	manifest := tree(t, out)["tensor-wasm/2.3.4/manifest.json"]
	require.Contains(t, manifest, `"version": "2.3.4"`)

	code, _, stderr = bundleCmd("-out", out, "-version", "2.3")
	require.Equal(t, 1, code)
	require.Equal(t, "bundle: -version: expected a semantic version such as 1.2.0, 1.0.0-rc.1 or 2.0.0+build.5, got \"2.3\"\n", stderr)

	long := "1.0.0-" + strings.Repeat("a", 60)
	code, _, stderr = bundleCmd("-out", out, "-version", long)
	require.Equal(t, 1, code)
	require.Equal(t, "bundle: -version: expected at most 63 characters (it is a Kubernetes label value), got 66\n", stderr,
		"the reason the version is refused, not a generic one")
}

func TestPreReleaseAndBuildVersionsNameTheirDirectory(t *testing.T) {
	out := t.TempDir()
	for _, v := range []string{"1.0.0-rc.1", "2.0.0+build.5", "3.1.4-beta.2+exp.sha.5114f85"} {
		code, stdout, stderr := bundleCmd("-out", out, "-spec", examples.GatewayFile(), "-version", v)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, "written to "+filepath.Join(out, "inference-gateway", v))
		require.Contains(t, tree(t, out)["inference-gateway/"+v+"/manifest.json"], `"version": "`+v+`"`)
	}
}

func TestAPanicIsOneLineAndExitCodeOne(t *testing.T) {
	defer func(b func(model.Spec, bundle.Options) (*bundle.Bundle, error)) { build = b }(build)
	build = func(model.Spec, bundle.Options) (*bundle.Bundle, error) {
		var s []int
		_ = s[3] // a bug
		return nil, nil
	}
	code, stdout, stderr := bundleCmd("-check")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Equal(t, "bundle: internal error: runtime error: index out of range [3] with length 0\n", stderr)
}

// Two services in one spec: every path is written once, with no empty
// directory left by a failure and no path listed twice.
func TestASpecOfManyServicesWritesEveryFileOnce(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "pair.yaml")
	gw, err := os.ReadFile(examples.GatewayFile())
	require.NoError(t, err)
	_, svc, ok := strings.Cut(string(gw), "services:\n")
	require.True(t, ok)
	second := strings.NewReplacer("name: inference-gateway", "name: second-gateway", "title: Inference gateway", "title: Second gateway").Replace(svc)
	require.NoError(t, os.WriteFile(specFile, []byte("name: pair\nversion: 1.0.0\nservices:\n"+svc+second), 0o644))

	out := filepath.Join(dir, "dist")
	code, stdout, stderr := bundleCmd("-out", out, "-spec", specFile)
	require.Equal(t, 0, code, stderr)
	files := tree(t, out)
	require.Contains(t, files, "pair/1.0.0/runbooks/inference-gateway/slo-unmeasured.md")
	require.Contains(t, files, "pair/1.0.0/runbooks/second-gateway/slo-unmeasured.md")
	require.Equal(t, len(files)+1, strings.Count(stdout, "\n"), "the summary lists every file once")

	code, stdout, stderr = bundleCmd("-check", "-spec", specFile)
	require.Equal(t, 0, code, stderr)
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n")[1:] {
		path := strings.Fields(line)[0]
		require.False(t, listed[path], "%s listed twice", path)
		listed[path] = true
	}
}

func TestCheckAndJSONWriteNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist")
	code, stdout, stderr := bundleCmd("-out", out, "-check", "-spec", examples.GatewayFile())
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "checked, nothing written")

	code, stdout, stderr = bundleCmd("-out", out, "-json")
	require.Equal(t, 0, code, stderr)
	var doc struct {
		Name, Version string
		Files         []struct{ Path, Content string }
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	require.Equal(t, "tensor-wasm", doc.Name)
	var paths []string
	for _, f := range doc.Files {
		paths = append(paths, f.Path)
	}
	require.Subset(t, paths, []string{"manifest.json", "rules/tensor-wasm.rules.yaml", "dashboards/TensorWasm/tensor-wasm-service.json"})
	require.NoDirExists(t, out)
}

func TestBadSpecExitsNonZeroAndLeavesThePreviousBundle(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := bundleCmd("-out", out, "-spec", examples.GatewayFile())
	require.Equal(t, 0, code, stderr)
	before := tree(t, out)

	good, err := os.ReadFile(examples.GatewayFile())
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "gateway.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(good), "objective: 0.995", "objective: 1.2", 1)), 0o644))

	code, stdout, stderr := bundleCmd("-out", out, "-spec", bad)
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Regexp(t, `^bundle: .*gateway\.yaml:\d+:\d+: services\[0\]\.slos\[0\]\.objective: expected a ratio strictly between 0 and 1 \(0\.995 for 99\.5%\), got 1\.2\n$`, stderr)
	require.Equal(t, before, tree(t, out), "a failed run must not touch what is there")
}

// Every bad input exits 1 with the reason on stderr and writes nothing.
func TestBadInputsExitNonZeroAndWriteNothing(t *testing.T) {
	good, err := os.ReadFile("../../spec/testdata/minimal.good.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown field", "        objective: 0.999", "        objectiv: 0.999", `:19:9: services[0].slos[0].objectiv: unknown field`},
		{"objective 1.2", "objective: 0.999", "objective: 1.2", `:19:20: services[0].slos[0].objective: expected a ratio strictly between 0 and 1`},
		{"90% objective with a 14.4x tier", "objective: 0.999", "objective: 0.9", `:25:102: services[0].slos[0].tiers[0].factor: burn factor 14.4 needs an error ratio of 1.44`},
		{"threshold not a bucket bound", "threshold: 0.5", "threshold: 0.3", `:32:24: services[0].slos[1].sli.latency.threshold: expected one of`},
		{"duplicate SLO names", "      - name: latency", "      - name: availability", `:26:15: services[0].slos[1].name: duplicate SLO name "availability"`},
		{"malformed selector", `bad: status=~"5.."`, `bad: status=~"5..`, `:23:18: services[0].slos[0].sli.events.bad: expected PromQL label matchers`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(good), tc.old, tc.new, 1)), 0o644))
			out := filepath.Join(t.TempDir(), "dist")
			code, stdout, stderr := bundleCmd("-out", out, "-spec", path)
			require.Equal(t, 1, code)
			require.Empty(t, stdout)
			require.True(t, strings.HasPrefix(stderr, "bundle: "+path+tc.want), stderr)
			require.NoDirExists(t, out)
		})
	}
	out := filepath.Join(t.TempDir(), "dist")
	code, _, stderr := bundleCmd("-out", out, "-spec", filepath.Join(dir, "missing.yaml"))
	require.Equal(t, 1, code)
	require.Equal(t, "bundle: "+filepath.Join(dir, "missing.yaml")+": cannot read spec: no such file or directory\n", stderr)
	require.NoDirExists(t, out)
}

func TestReportWithoutASimulatorPrintsTheAnalysis(t *testing.T) {
	code, stdout, stderr := bundleCmd("-report", "-spec", "../../spec/testdata/minimal.good.yaml")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "# Time to first alert: shop")
	require.Contains(t, stdout, "| 100% | 1000x | 52s | 4m56s | 2% |", "0.0144 x 1h to fire, 5m x (1 - 0.0144) to reset")
	require.NotContains(t, stdout, "simulated |")
}

func TestUsage(t *testing.T) {
	code, _, stderr := bundleCmd("-h")
	require.Equal(t, 0, code)
	for _, flag := range []string{"-out", "-spec", "-version", "-check", "-json", "-report"} {
		require.Contains(t, stderr, flag)
	}
	code, _, _ = bundleCmd("-nope")
	require.Equal(t, 2, code)
	code, _, stderr = bundleCmd("extra")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `unexpected argument "extra"`)
}

func TestDiffExitCodes(t *testing.T) {
	oldOut, newOut := t.TempDir(), t.TempDir()
	code, _, stderr := bundleCmd("-out", oldOut)
	require.Equal(t, 0, code, stderr)
	good, err := os.ReadFile(examples.GatewayFile())
	require.NoError(t, err)
	spec := filepath.Join(t.TempDir(), "gateway.yaml")
	require.NoError(t, os.WriteFile(spec, good, 0o644))

	// Same bundle twice: nothing to report.
	code, stdout, _ := bundleCmd("-diff", filepath.Join(oldOut, "tensor-wasm", "1.0.0"), filepath.Join(oldOut, "tensor-wasm", "1.0.0"))
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "No changes")

	// Every TensorWasm recording rule disappears in the gateway's bundle.
	code, _, stderr = bundleCmd("-out", newOut, "-spec", spec, "-version", "1.1.0")
	require.Equal(t, 0, code, stderr)
	code, stdout, _ = bundleCmd("-diff", filepath.Join(oldOut, "tensor-wasm", "1.0.0"), filepath.Join(newOut, "inference-gateway", "1.1.0"))
	require.Equal(t, 3, code)
	require.Contains(t, stdout, "**BREAKING**")

	code, _, stderr = bundleCmd("-diff", oldOut)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "two bundle directories")
	code, _, _ = bundleCmd("-diff", oldOut, newOut)
	require.Equal(t, 1, code, "directories that are not bundles")
}

// Specs that used to panic or write outside -out: a service without SLOs
// builds; one without metrics, or titled to climb out of dashboards/, is
// refused at its line.
func TestSpecsThatUsedToPanicOrEscape(t *testing.T) {
	good, err := os.ReadFile("../../spec/testdata/minimal.good.yaml")
	require.NoError(t, err)
	noSLOs, _, _ := strings.Cut(string(good), "    slos:\n")
	dir := t.TempDir()
	for _, tc := range []struct{ name, spec, want string }{
		{"no SLOs", noSLOs, ""},
		{"no metrics", "name: shop\nversion: 1.0.0\nservices:\n  - name: shop\n    runbookBaseURL: https://r.example.com\n    grafanaURL: https://g.example.com\n",
			":4:5: services[0].metrics: expected at least one metric"},
		{"escaping title", strings.Replace(noSLOs, "  - name: shop\n", "  - name: shop\n    title: ../../../../escaped\n", 1),
			":5:12: services[0].title: the title names the dashboard's folder"},
		{"absolute title", strings.Replace(noSLOs, "  - name: shop\n", "  - name: shop\n    title: /tmp/escaped\n", 1),
			":5:12: services[0].title: the title names the dashboard's folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.spec), 0o644))
			root := t.TempDir()
			out := filepath.Join(root, "dist")
			code, _, stderr := bundleCmd("-out", out, "-spec", path)
			if tc.want == "" {
				require.Equal(t, 0, code, stderr)
				require.Contains(t, tree(t, out), "shop/2.1.0/dashboards/shop/shop-service.json")
				return
			}
			require.Equal(t, 1, code)
			require.True(t, strings.HasPrefix(stderr, "bundle: "+path+tc.want), stderr)
			requireEmpty(t, root)
		})
	}
}

func requireEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestKubernetesFlagsLabelThePrometheusRuleAndSelectGrafana(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist")
	code, _, stderr := bundleCmd("-out", out, "-target", "kubernetes",
		"-rule-label", "release=kube-prometheus-stack", "-rule-label", "team=wasm",
		"-rule-annotation", "example.com/owner=SRE", "-grafana-instance-label", "dashboards=main")
	require.Equal(t, 0, code, stderr)
	dir := filepath.Join(out, "tensor-wasm", "1.0.0")
	pr, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(model.PrometheusRuleFile("tensor-wasm"))))
	require.NoError(t, err)
	require.Contains(t, string(pr), "    release: kube-prometheus-stack\n")
	require.Contains(t, string(pr), "    team: wasm\n")
	require.Contains(t, string(pr), "  annotations:\n    example.com/owner: SRE\n")
	gd, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(model.GrafanaDashboardFile(model.OverviewUID("tensor-wasm")))))
	require.NoError(t, err)
	require.Contains(t, string(gd), "  instanceSelector:\n    matchLabels:\n      dashboards: main\n")
}

func TestBadKubernetesFlagsAreUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no value", []string{"-target", "kubernetes", "-rule-label", "release"}, `expected KEY=VALUE, got "release"`},
		{"a key twice", []string{"-target", "kubernetes", "-rule-label", "a=1", "-rule-label", "a=2"}, `a given twice`},
		{"without the kubernetes target", []string{"-rule-label", "release=x"}, "apply to -target kubernetes"},
		{"a key Kubernetes refuses", []string{"-target", "kubernetes", "-rule-label", "bad key=x"}, `PrometheusRule label "bad key"`},
		{"a value Kubernetes refuses", []string{"-target", "kubernetes", "-grafana-instance-label", "app=a b"}, `Grafana instance label app="a b"`},
		{"a generator label", []string{"-target", "kubernetes", "-rule-label", "app.kubernetes.io/part-of=x"}, "the generator sets this label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "dist")
			code, stdout, stderr := bundleCmd(append([]string{"-out", out}, tc.args...)...)
			require.Equal(t, 2, code, stderr)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tc.want)
			require.NoDirExists(t, out)
		})
	}
}

func TestTheGrafanaAlertingTargetWritesItsProvisioningFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist")
	code, stdout, stderr := bundleCmd("-out", out, "-target", "grafana-alerting,mimir")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, model.GrafanaAlertingFile)
	require.FileExists(t, filepath.Join(out, "tensor-wasm", "1.0.0", filepath.FromSlash(model.GrafanaAlertingFile)))
	require.FileExists(t, filepath.Join(out, "tensor-wasm", "1.0.0", filepath.FromSlash(model.MimirFile("tensor-wasm"))))

	s := catalog.TensorWasm()
	s.Services[0].EvaluationInterval = model.Duration(15 * time.Second)
	spec := filepath.Join(t.TempDir(), "fifteen.yaml")
	require.NoError(t, os.WriteFile(spec, []byte(specgen.YAML(s)), 0o644))
	code, _, stderr = bundleCmd("-check", "-spec", spec, "-target", "grafana-alerting")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "evaluation interval 15s is not a multiple of 10s")
}
