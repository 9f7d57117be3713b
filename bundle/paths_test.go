package bundle_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/targets"
)

func TestABundleOfManyServicesHasEveryPathOnce(t *testing.T) {
	s := examples.Pair(t)
	b, err := bundle.Build(s, targets.Kubernetes, targets.Mimir, targets.GrafanaAlerting)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, f := range b.Files {
		require.False(t, seen[f.Path], "%s twice", f.Path)
		seen[f.Path] = true
	}
	for _, svc := range s.Services {
		for _, p := range []string{model.RuleFile(svc.Name), model.RuleTestFile(svc.Name), model.PrometheusRuleFile(svc.Name),
			model.MimirFile(svc.Name), model.RunbookFile(svc.Name, model.UnmeasuredAlert), model.DashboardFile(svc.Title, model.DashboardUID(svc.Name)),
			model.DashboardConfigMapFile(model.DashboardUID(svc.Name))} {
			require.True(t, seen[p], "%s is missing", p)
		}
	}
	require.True(t, seen[model.AlertmanagerSecretFile])
	require.True(t, seen[model.GrafanaAlertingFile])
}

// Every runbook_url of every alert ends in the path of a runbook of the
// bundle under its service's runbook directory, which runbookBaseURL
// publishes.
func TestRunbookURLsMatchRunbookFiles(t *testing.T) {
	s := examples.Pair(t)
	b, err := bundle.Build(s)
	require.NoError(t, err)
	for i := range s.Services {
		svc := &s.Services[i]
		groups, err := rules.Build(svc, s.Version)
		require.NoError(t, err)
		alerts := 0
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				alerts++
				url := r.Annotations[model.AnnotationRunbook]
				rel, ok := strings.CutPrefix(url, strings.TrimSuffix(svc.RunbookBaseURL, "/")+"/")
				require.True(t, ok, "%s is not under %s", url, svc.RunbookBaseURL)
				_, found := b.File(model.RunbookFile(svc.Name, strings.TrimSuffix(rel, ".md")))
				require.True(t, found, "%s of %s points at %s, which the bundle lacks", r.Alert, svc.Name, url)
			}
		}
		require.Positive(t, alerts)
	}
}

func TestAServiceWithoutSLOsBuildsItsDashboardsAndContract(t *testing.T) {
	s := catalog.TensorWasm()
	s.Services[0].SLOs = nil
	s.Services[0].Alerts = nil
	require.NoError(t, s.Validate())
	b, err := bundle.Build(s, targets.Kubernetes, targets.Mimir, targets.GrafanaAlerting)
	require.NoError(t, err)
	_, ok := b.File(model.DashboardFile("TensorWasm", model.DashboardUID("tensor-wasm")))
	require.True(t, ok)
	for _, f := range b.Files {
		_, _, runbook := model.RunbookOf(f.Path)
		require.False(t, runbook, "no alert, no runbook: %s", f.Path)
	}
	overview, _ := b.File(model.DashboardFile(model.OverviewFolder, model.OverviewUID(s.Name)))
	require.NotContains(t, string(overview), `"expr": ""`)
	require.NotContains(t, string(overview), `1 - ()`)
}

// pathLiteral matches a string literal that spells a bundle path, or the
// extension of one.
var pathLiteral = regexp.MustCompile(`^(rules|report|runbooks|dashboards|kubernetes|mimir|alertmanager|grafana)/|/.*\.(ya?ml|json|md|svg)$|^\.(ya?ml|json|md|svg)$|\.rules\.yaml$`)

// Every bundle path is built by model/names.go: the packages that write
// and read bundles spell none themselves.
func TestBundleAndDiffSpellNoBundlePath(t *testing.T) {
	for _, dir := range []string{".", "../diff"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, file, src, 0)
			require.NoError(t, err)
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				v, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				require.False(t, pathLiteral.MatchString(v), "%s spells the bundle path %q: use model/names.go", fset.Position(lit.Pos()), v)
				return true
			})
		}
	}
}

// The model-platform example (three services at 10s, 30s and 1m, both
// alerting modes) is not among the golden bundles yet: the promtool test
// generation cannot produce the tests of budget-mode tiers. This test
// runs in full as soon as it can.
func TestTheModelPlatformExampleBuilds(t *testing.T) {
	s := examples.Platform(t)
	b, err := bundle.Build(s, targets.Kubernetes, targets.Mimir, targets.GrafanaAlerting)
	require.NoError(t, err)
	require.Len(t, b.Stats, 3)
}
