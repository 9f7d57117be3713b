package dashboards_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/model"
)

// Exclusions from Grafana's dashboard-linter, each with its reason. They are
// derived from the dashboards by these rules, never listed by hand:
const (
	// Queries that read only recorded SLO series or ALERTS select no job or
	// instance: those series are aggregated over the whole service.
	reasonRecorded = "reads only recorded SLO series or ALERTS, which are aggregated over the service and carry no job or instance label"
	// The overview lists the SLOs of every service at once.
	reasonOverview = "the SLO overview spans every service, so job and instance variables do not apply"
	// suffix:x is a valid Grafana custom unit the linter's fixed list lacks.
	reasonBurnUnit = `burn rates use Grafana's custom unit "suffix:x" (shown as 14.4x), which the linter's fixed unit list does not know`
)

type lintEntry struct {
	Dashboard string `yaml:"dashboard"`
	Panel     string `yaml:"panel,omitempty"`
}

type lintRule struct {
	Reason  string      `yaml:"reason"`
	Entries []lintEntry `yaml:"entries"`
}

// exclusions derives the linter configuration for a set of dashboards.
func exclusions(t *testing.T, boards map[string]board) map[string]map[string]*lintRule {
	t.Helper()
	ex := map[string]*lintRule{}
	add := func(rule, reason string, e lintEntry) {
		if ex[rule] == nil {
			ex[rule] = &lintRule{Reason: reason}
		}
		ex[rule].Entries = append(ex[rule].Entries, e)
	}
	for _, d := range boards {
		if strings.HasPrefix(d.Title, model.OverviewTitle("")) {
			add("template-job-rule", reasonOverview, lintEntry{Dashboard: d.Title})
			add("template-instance-rule", reasonOverview, lintEntry{Dashboard: d.Title})
		}
		for _, p := range d.Panels {
			if len(p.Targets) > 0 && readsOnlyRecorded(t, p) {
				add("target-job-rule", reasonRecorded, lintEntry{Dashboard: d.Title, Panel: p.Title})
				add("target-instance-rule", reasonRecorded, lintEntry{Dashboard: d.Title, Panel: p.Title})
			}
			if p.FieldConfig.Defaults.Unit == "suffix:x" {
				add("panel-units-rule", reasonBurnUnit, lintEntry{Dashboard: d.Title, Panel: p.Title})
			}
		}
	}
	return map[string]map[string]*lintRule{"exclusions": ex}
}

func readsOnlyRecorded(t *testing.T, p panel) bool {
	only := true
	for _, tg := range p.Targets {
		expr, err := model.ParseExpr(expand(tg.Expr, "1m", "1h"))
		require.NoError(t, err)
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !strings.HasPrefix(vs.Name, "slo:") && vs.Name != "ALERTS" {
				only = false
			}
			return nil
		})
	}
	return only
}

// The linter runs from its own module (tools/dashlint), because it pins an
// older Prometheus than this module does.
func TestDashboardLinterReportsNothing(t *testing.T) {
	for name, s := range specs(t) {
		t.Run(name, func(t *testing.T) {
			b, err := bundle.Build(s)
			require.NoError(t, err)
			dir := t.TempDir()
			var files []string
			for _, path := range b.Dashboards {
				data, _ := b.File(path)
				file := filepath.Join(dir, strings.ReplaceAll(path, "/", "_"))
				require.NoError(t, os.WriteFile(file, data, 0o644))
				files = append(files, file)
			}
			cfg, err := yaml.Marshal(exclusions(t, boards(t, s)))
			require.NoError(t, err)
			config := filepath.Join(dir, "lint.yaml")
			require.NoError(t, os.WriteFile(config, cfg, 0o644))

			tool, err := filepath.Abs("../tools/dashlint")
			require.NoError(t, err)
			cmd := exec.Command("go", append([]string{"-C", tool, "run", ".", "-config", config}, files...)...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "dashboard-linter:\n%s\nexclusions:\n%s", out, cfg)
			require.Contains(t, string(out), "17 rules")
			require.Contains(t, string(out), " 0 problems")
			t.Logf("%s", out)
		})
	}
}
