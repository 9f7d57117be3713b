// Package compose_test proves the demo stack of docker-compose.yml without a
// Docker engine: the compose file and every configuration it mounts are
// loaded by their real loaders, and the same configurations run with real
// Prometheus and Alertmanager servers on 127.0.0.1 (e2e_test.go).
package compose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
)

const root = ".."

func project(t *testing.T) *types.Project { t.Helper(); return projectWith(t, types.Mapping{}) }

// projectWith loads docker-compose.yml as `docker compose` would with env
// as the environment.
func projectWith(t *testing.T, env types.Mapping) *types.Project {
	t.Helper()
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("tensorwasm-demo", true) })
	require.NoError(t, err)
	return p
}

// bundleMounts are the directories of a bundle the stack mounts, by the
// path each is mounted at in its container.
var bundleMounts = map[string]string{
	"/etc/prometheus/rules":                 path.Dir(model.RuleFile("x")),
	"/etc/alertmanager":                     path.Dir(model.AlertmanagerDemoFile),
	"/etc/grafana/provisioning/datasources": path.Dir(model.DatasourceFile),
	"/etc/grafana/provisioning/dashboards":  path.Dir(model.DashboardProviderFile),
	model.GrafanaDashboardsPath:             path.Dir(path.Dir(model.DashboardFile(model.OverviewFolder, model.OverviewUID("x")))),
}

// mountedBundle checks that the stack mounts every directory of the bundle
// at dir (an absolute path) and nothing else of a bundle.
func mountedBundle(t *testing.T, p *types.Project, dir string) {
	t.Helper()
	got := map[string]string{}
	for name, svc := range p.Services {
		for _, v := range svc.Volumes {
			if _, ok := bundleMounts[v.Target]; ok {
				require.Equal(t, types.VolumeTypeBind, v.Type, "%s: %s", name, v.Target)
				require.True(t, v.ReadOnly, "%s: %s", name, v.Target)
				src, err := filepath.Abs(v.Source) // relative to the test's directory
				require.NoError(t, err)
				got[v.Target] = src
			}
		}
	}
	require.Len(t, got, len(bundleMounts))
	for target, sub := range bundleMounts {
		require.Equal(t, filepath.Join(dir, filepath.FromSlash(sub)), got[target], target)
		require.DirExists(t, got[target])
	}
}

func TestComposeMountsTheCommittedBundleByDefault(t *testing.T) {
	mountedBundle(t, project(t), bundlePath(t, "."))
	mountedBundle(t, projectWith(t, types.Mapping{"BUNDLE": ""}), bundlePath(t, "."))
}

// The README's two commands: generate a bundle, then run the stack on it
// with BUNDLE=dist/<name>/<version>, relative to the repository or absolute.
func TestComposeMountsTheBundleBUNDLENames(t *testing.T) {
	b, err := bundle.Build(examples.Gateway(t))
	require.NoError(t, err)
	dir, err := b.Write(t.TempDir())
	require.NoError(t, err)
	absRoot, err := filepath.Abs(root)
	require.NoError(t, err)
	rel, err := filepath.Rel(absRoot, dir)
	require.NoError(t, err)
	for _, bundleVar := range []string{dir, rel} {
		mountedBundle(t, projectWith(t, types.Mapping{"BUNDLE": bundleVar}), dir)
	}
}

func TestComposeFileLoadsWithEveryMountAndImagePinned(t *testing.T) {
	p := project(t)
	var names []string
	for name, svc := range p.Services {
		names = append(names, name)
		if svc.Build != nil {
			require.FileExists(t, filepath.Join(svc.Build.Context, "Dockerfile"), name)
			continue
		}
		image, tag, ok := strings.Cut(svc.Image, ":")
		require.True(t, ok, "%s: image %q has no tag", name, svc.Image)
		require.NotEmpty(t, image)
		require.NotEqual(t, "latest", tag, "%s: pin a version", name)
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeBind {
				_, err := os.Stat(v.Source)
				require.NoError(t, err, "%s mounts %s, which is not in the repository", name, v.Source)
			}
		}
	}
	require.ElementsMatch(t, []string{"simulator", "prometheus", "alertmanager", "grafana"}, names)

	grafana := p.Services["grafana"]
	require.Equal(t, "Viewer", *grafana.Environment["GF_AUTH_ANONYMOUS_ORG_ROLE"])
	_, committed := grafana.Environment["GF_SECURITY_ADMIN_PASSWORD"]
	require.False(t, committed, "the admin password must come from the environment, never the repository")
	require.Empty(t, *grafana.Environment["GRAFANA_ADMIN_PASSWORD"], "no default secret")
}

func TestPrometheusConfigLoadsAndScrapesTheService(t *testing.T) {
	cfg, err := promconfig.LoadFile("prometheus.yml", false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	svc := catalog.TensorWasm().Services[0]
	var jobs []string
	for _, sc := range cfg.ScrapeConfigs {
		jobs = append(jobs, sc.JobName)
	}
	require.Contains(t, jobs, svc.Selector["job"], "the rules select job=%q", svc.Selector["job"])
	require.Equal(t, []string{"/etc/prometheus/rules/*.rules.yaml"}, cfg.RuleFiles)

	bin := debian.Binary(t, "promtool")
	// promtool also loads the rules, so point it at the bundle's.
	rewritten := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(rewritten, []byte(rewrite(t, "prometheus.yml", map[string]string{
		"/etc/prometheus/rules": bundlePath(t, "rules"),
	})), 0o644))
	out, err := exec.Command(bin, "check", "config", rewritten).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "SUCCESS: 1 rule files found")
}

// bundlePath is a directory of the committed TensorWasm bundle.
func bundlePath(t *testing.T, dir string) string {
	t.Helper()
	s := catalog.TensorWasm()
	p, err := filepath.Abs(filepath.Join(root, "examples", "bundles", s.Name, s.Version, dir))
	require.NoError(t, err)
	return p
}

// rewrite reads a configuration and replaces container addresses and paths.
func rewrite(t *testing.T, file string, replace map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	s := string(b)
	for from, to := range replace {
		require.Contains(t, s, from, "%s no longer mentions %s", file, from)
		s = strings.ReplaceAll(s, from, to)
	}
	return s
}

// The compose stack's images are the versions the end-to-end tests run:
// the Prometheus 3 that tools/prometheus3 builds, Debian's Alertmanager, and
// the Grafana whose native dashboard schema the bundle's dashboards carry.
func TestComposeImagesAreTheVersionsTheTestsRun(t *testing.T) {
	images := map[string]string{}
	for name, svc := range project(t).Services {
		images[name] = svc.Image
	}

	// Prometheus' Go module spells release 3.16.0 v0.316.0.
	mod, err := os.ReadFile(filepath.Join(root, "tools", "prometheus3", "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^require github\.com/prometheus/prometheus v0\.3(\d\d)\.(\d+)$`).FindSubmatch(mod)
	require.NotNil(t, m, "tools/prometheus3/go.mod requires no Prometheus 3 release")
	minor, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("prom/prometheus:v3.%d.%s", minor, m[2]), images["prometheus"],
		"the demo's Prometheus must be the one the end-to-end test builds and runs (tools/prometheus3)")

	// Grafana: the release whose own dashboard model is the schema the
	// generated dashboards carry; a new SDK with a new schema needs a new pick.
	grafanaFor := map[float64]string{42: "grafana/grafana:12.4.0"}
	var dash struct {
		SchemaVersion float64 `json:"schemaVersion"`
	}
	b, err := os.ReadFile(filepath.Join(bundlePath(t, "dashboards"), model.OverviewFolder, model.OverviewUID(catalog.TensorWasm().Name)+".json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &dash))
	require.Contains(t, grafanaFor, dash.SchemaVersion, "dashboards now carry schemaVersion %v: pick the Grafana that reads it natively", dash.SchemaVersion)
	require.Equal(t, grafanaFor[dash.SchemaVersion], images["grafana"])

	out, err := exec.Command(debian.Binary(t, "prometheus-alertmanager"), "--version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	v := regexp.MustCompile(`version (\d+\.\d+\.\d+)`).FindSubmatch(out)
	require.NotNil(t, v, "%s", out)
	require.Equal(t, "prom/alertmanager:v"+string(v[1]), images["alertmanager"],
		"the demo's Alertmanager must be the one the end-to-end tests run (Debian's)")
}
