package spec_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/spec"
)

var (
	importSLIs = flag.Int("import-slis", 40, "how many random SLIs the import property test writes in each format")
	importSeed = flag.Uint64("import-seed", 1, "the import property test's seed")
	importRun  = flag.Int("import-alert-slis", 6, "how many of the Sloth file's SLOs, some sharing an alert name, the import property test also runs the alert tests of (promtool: ~10s each)")
)

// genSLI is one random SLI as a user writes it elsewhere: its queries in
// Sloth's form (error and total, with {{.window}}) and in OpenSLO's (good
// or bad over total, one of them empty), and the error ratio the original
// means, over 1h.
type genSLI struct {
	errorQ, totalQ string // Sloth
	goodQ, badQ    string // OpenSLO (one is empty); its total is totalQ
	errorRatio     string
	alertName      string // Sloth's alerting.name, which SLOs may share
}

// genImportSLI writes a random SLI over shopFeed's series, in one of the
// shapes the importers map: failures among one counter's series, failures
// on a counter of their own, successes among one counter's series or on a
// counter of their own (Sloth: total - good), and latency as count less
// the bucket of a bound (OpenSLO: that as bad, or the bucket as good).
func genImportSLI(r *rand.Rand) genSLI {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	job := pick("shop", "search", "checkout", "store")
	scope := []string{fmt.Sprintf("job=%q", job)}
	if r.IntN(2) == 0 {
		scope = append(scope, pick(`route="/pay"`, `route="/cart"`, `route=~"/pay|/cart"`, `route!="/cart"`, `route=~"/p.*"`))
	}
	fn := pick("rate", "increase")
	// q renders sum(fn(metric{matchers}[w])) as people write it, the
	// matchers shuffled.
	form := pick("sum(%s(%s{%s}[%s]))", "sum (%s(%s{%s}[%s]))", "sum(\n  %s(%s{%s}[%s])\n)", "sum by () (%s(%s{%s}[%s]))")
	q := func(metric string, w string, ms ...string) string {
		ms = append([]string{}, ms...)
		r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		return fmt.Sprintf(form, fn, metric, strings.Join(ms, ", "), w)
	}
	with := func(extra ...string) []string { return append(append([]string{}, scope...), extra...) }
	const counter, hist = "http_requests_total", "http_request_duration_seconds"
	g := genSLI{alertName: pick("GenBurn", fmt.Sprintf("GenBurn%d", r.Uint32()))}
	switch r.IntN(5) {
	case 0: // failures among the counter's series
		bad := with(pick(`code=~"5.."`, `code=~"(5..|429)"`, `code!~"2..|4.."`, `code="503"`, `code!="200"`))
		g.errorQ, g.badQ = q(counter, "{{.window}}", bad...), q(counter, "5m", bad...)
		g.errorRatio = q(counter, "1h", bad...) + " / " + q(counter, "1h", scope...)
	case 1: // failures on a counter of their own
		errs := with()
		if r.IntN(2) == 0 {
			errs = append(errs, pick(`kind="timeout"`, `kind!="panic"`, `kind=~"time.*"`))
		}
		g.errorQ, g.badQ = q("app_errors_total", "{{.window}}", errs...), q("app_errors_total", "5m", errs...)
		g.errorRatio = q("app_errors_total", "1h", errs...) + " / " + q(counter, "1h", scope...)
	case 2: // successes among the counter's series
		good := with(pick(`code!~"5.."`, `code=~"2..|4.."`, `code=~"[1-4].."`))
		if r.IntN(2) == 0 {
			good = append(good, `code!="429"`)
		}
		g.goodQ = q(counter, "5m", good...)
		g.errorQ = q(counter, "{{.window}}", scope...) + " - " + q(counter, "{{.window}}", good...)
		g.errorRatio = "1 - " + q(counter, "1h", good...) + " / " + q(counter, "1h", scope...)
	case 3: // successes on a counter of their own
		g.goodQ = q("http_requests_ok_total", "5m", scope...)
		g.errorQ = q(counter, "{{.window}}", scope...) + " - " + q("http_requests_ok_total", "{{.window}}", scope...)
		g.errorRatio = "1 - " + q("http_requests_ok_total", "1h", scope...) + " / " + q(counter, "1h", scope...)
	default: // latency: requests slower than a bucket's bound
		le := fmt.Sprintf("le=%q", pick("0.1", "0.4", "1"))
		count, bucket := hist+"_count", hist+"_bucket"
		g.errorQ = q(count, "{{.window}}", scope...) + " - " + q(bucket, "{{.window}}", with(le)...)
		if g.goodQ = q(bucket, "5m", with(le)...); r.IntN(2) == 0 {
			g.goodQ, g.badQ = "", strings.ReplaceAll(g.errorQ, "{{.window}}", "5m")
		}
		g.totalQ = q(count, "{{.window}}", scope...)
		g.errorRatio = "1 - " + q(bucket, "1h", with(le)...) + " / " + q(count, "1h", scope...)
		return g
	}
	g.totalQ = q(counter, "{{.window}}", scope...)
	return g
}

// slothFile writes the SLIs as one Sloth prometheus/v1 document, or as
// Sloth's Kubernetes resource (camelCase fields under spec).
func slothFile(slis []genSLI, crd bool) string {
	var b strings.Builder
	pad, errKey, totalKey := "", "error_query", "total_query"
	if crd {
		b.WriteString("apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata:\n  name: gen\nspec:\n")
		pad, errKey, totalKey = "  ", "errorQuery", "totalQuery"
	} else {
		b.WriteString("version: prometheus/v1\n")
	}
	fmt.Fprintf(&b, "%sservice: gen\n%sslos:\n", pad, pad)
	for i, g := range slis {
		for _, line := range []string{
			fmt.Sprintf("  - name: sli-%d", i), "    objective: 99.5", "    sli:", "      events:",
			fmt.Sprintf("        %s: %s", errKey, quoteYAML(g.errorQ)), fmt.Sprintf("        %s: %s", totalKey, quoteYAML(g.totalQ)),
			"    alerting:", "      name: " + g.alertName,
		} {
			b.WriteString(pad + line + "\n")
		}
	}
	return b.String()
}

// opensloFile writes the SLIs as OpenSLO v1 SLO documents.
func opensloFile(slis []genSLI) string {
	var docs []string
	for i, g := range slis {
		kind, query := "bad", g.badQ
		if query == "" {
			kind, query = "good", g.goodQ
		}
		total := strings.ReplaceAll(g.totalQ, "{{.window}}", "5m")
		docs = append(docs, fmt.Sprintf(`apiVersion: openslo/v1
kind: SLO
metadata:
  name: sli-%d
spec:
  service: gen
  indicator:
    metadata:
      name: sli-%d
    spec:
      ratioMetric:
        counter: true
        %s:
          metricSource:
            type: Prometheus
            spec:
              query: %s
        total:
          metricSource:
            type: Prometheus
            spec:
              query: %s
  timeWindow:
    - duration: 28d
      isRolling: true
  objectives:
    - target: 0.995
`, i, i, kind, quoteYAML(query), quoteYAML(total)))
	}
	return strings.Join(docs, "---\n")
}

func quoteYAML(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Random SLIs written as Sloth files (plain and the Kubernetes resource)
// and as OpenSLO files convert, and every
// converted SLO's rules give, on the same simulated series (shopFeed, with
// its counter resets), the error ratio the original queries give, by
// Prometheus' engine. The first SLOs of the Sloth file, several of which
// share an alert name as Sloth allows, also pass their bundle's alert
// tests under promtool. Reproduce with -args -import-seed S -import-slis N.
func TestGeneratedImportsGiveTheOriginalErrorRatio(t *testing.T) {
	r := rand.New(rand.NewPCG(*importSeed, 0x1a7))
	slis := make([]genSLI, *importSLIs)
	for i := range slis {
		slis[i] = genImportSLI(r)
	}
	slos := map[string]genSLI{}
	for i, g := range slis {
		slos[fmt.Sprintf("sli_%d", i)] = g
	}
	for _, f := range []struct{ name, content string }{
		{"sloth.yaml", slothFile(slis, false)},
		{"sloth-crd.yaml", slothFile(slis, true)},
		{"openslo.yaml", opensloFile(slis)},
	} {
		t.Run(f.name, func(t *testing.T) {
			s, _, err := spec.ParseWith(f.name, []byte(f.content), spec.Options{})
			require.NoError(t, err, "the generated file:\n%s", f.content)
			require.Len(t, s.Services, 1)
			svc := &s.Services[0]
			require.Len(t, svc.SLOs, len(slis))
			groups, err := rules.Build(svc, s.Version)
			require.NoError(t, err)
			ev, err := evaluator.New(groups.Groups...)
			require.NoError(t, err)
			defer func() { _ = ev.Close() }()
			ctx := context.Background()
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			at := start.Add(90 * time.Minute)
			require.NoError(t, ev.Run(ctx, start, at, 15*time.Second, shopFeed(start)))
			tile := svc.EvaluationInterval
			for _, o := range svc.SLOs {
				g, ok := slos[o.Name]
				require.True(t, ok, "an SLO the file does not have: %s", o.Name)
				want, err := ev.Query(ctx, g.errorRatio, at)
				require.NoError(t, err)
				require.Len(t, want, 1, g.errorRatio)
				got, err := ev.Query(ctx, fmt.Sprintf("sum_over_time(%s[1h]) / sum_over_time(%s[1h])",
					model.RecordedSelector(model.BadEventsRecord(tile), svc.Name, o.Name),
					model.RecordedSelector(model.TotalEventsRecord(tile), svc.Name, o.Name)), at)
				require.NoError(t, err)
				require.Len(t, got, 1, "SLO %s records no events", o.Name)
				require.InEpsilon(t, want[0].F, got[0].F, 1e-6, "SLO %s: original %s (error %s, total %s, good %s, bad %s)",
					o.Name, g.errorRatio, g.errorQ, g.totalQ, g.goodQ, g.badQ)
			}
			if f.name == "sloth.yaml" && !testing.Short() {
				svc.SLOs = svc.SLOs[:min(len(svc.SLOs), *importRun)]
				passesItsAlertTests(t, s)
			}
		})
	}
}

// passesItsAlertTests builds the spec's bundle and runs its alert tests
// with promtool.
func passesItsAlertTests(t *testing.T, s model.Spec) {
	t.Helper()
	b, err := bundle.Build(s)
	require.NoError(t, err)
	dir, err := b.Write(t.TempDir())
	require.NoError(t, err)
	for _, svc := range s.Services {
		cmd := exec.Command(debian.Binary(t, "promtool"), "test", "rules", filepath.Base(model.RuleTestFile(svc.Name)))
		cmd.Dir = filepath.Join(dir, filepath.Dir(model.RuleTestFile(svc.Name)))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "service %s:\n%s", svc.Name, out)
	}
}
