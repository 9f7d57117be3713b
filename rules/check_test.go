package rules_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// services returns every service the tests generate rules for.
func services(t *testing.T) []*model.Service {
	t.Helper()
	var out []*model.Service
	for _, name := range []string{"tensor-wasm", "inference-gateway"} {
		s := examples.Specs(t)[name]
		out = append(out, &s.Services[0])
	}
	return out
}

func TestPromtoolAcceptsEveryRuleFile(t *testing.T) {
	bin := debian.Binary(t, "promtool")
	for _, svc := range services(t) {
		data, _, err := rules.File(svc, "1.0.0")
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "rules.yaml")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		out, err := exec.Command(bin, "check", "rules", path).CombinedOutput()
		require.NoError(t, err, "promtool check rules %s:\n%s", svc.Name, out)
		require.Contains(t, string(out), "SUCCESS")
	}
}

// Every series a rule reads is either in the service's metric contract or
// recorded by a rule of the same file with labels its matchers accept.
func TestRulesReadOnlyContractOrRecordedSeries(t *testing.T) {
	for _, svc := range services(t) {
		groups, err := rules.Build(svc, "1.0.0")
		require.NoError(t, err)
		contract := map[string]bool{}
		for _, m := range svc.Metrics {
			contract[m.Name] = true
			if m.Type == model.Histogram {
				contract[model.BucketSeries(m.Name)], contract[model.CountSeries(m.Name)], contract[model.SumSeries(m.Name)] = true, true, true
			}
		}
		// Prometheus writes up for every target, with the target's labels,
		// and ALERTS for every alert of the file, with its labels plus
		// alertname and alertstate.
		contract[model.UpSeries] = true
		recorded := map[string][]map[string]string{}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recorded[r.Record] = append(recorded[r.Record], r.Labels)
				}
				if r.Alert != "" {
					for _, state := range []string{"pending", "firing"} {
						lbls := map[string]string{"alertname": r.Alert, "alertstate": state}
						for k, v := range r.Labels {
							lbls[k] = v
						}
						recorded["ALERTS"] = append(recorded["ALERTS"], lbls)
					}
				}
			}
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				expr, err := model.ParseExpr(r.Expr)
				require.NoError(t, err)
				parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
					vs, ok := n.(*parser.VectorSelector)
					if !ok || contract[vs.Name] {
						return nil
					}
					require.True(t, matchesRecording(vs, recorded[vs.Name]),
						"%s: rule %s%s reads %s, which neither the contract nor any rule provides", svc.Name, r.Record, r.Alert, vs)
					return nil
				})
			}
		}
	}
}

func matchesRecording(vs *parser.VectorSelector, outputs []map[string]string) bool {
	for _, lbls := range outputs {
		ok := true
		for _, m := range vs.LabelMatchers {
			if m.Name != "__name__" && !m.Matches(lbls[m.Name]) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Thresholds are written as a person would write them: 0.072, never
// 0.07200000000000001 or 0.0049999999999999.
func TestThresholdsAreCleanDecimals(t *testing.T) {
	noise := regexp.MustCompile(`\d\.\d*(0{6,}|9{6,})\d`)
	for _, svc := range services(t) {
		data, _, err := rules.File(svc, "1.0.0")
		require.NoError(t, err)
		require.Empty(t, noise.FindAllString(string(data), -1), svc.Name)
	}
	require.Equal(t, "0.072", model.Decimal(14.4*(1-0.995)))
}
