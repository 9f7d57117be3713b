package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/internal/examples"
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
	require.Equal(t, "bundle: -version \"2.3\": expected a semantic version X.Y.Z\n", stderr)
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
