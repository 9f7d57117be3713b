package runbooks_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/dashboards"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/runbooks"
)

// file is the bundle path of a TensorWasm runbook.
func file(id string) string { return model.RunbookFile("tensor-wasm", id) }

func TestEveryAlertHasARunbookWithItsExactExpression(t *testing.T) {
	s := catalog.TensorWasm()
	b, err := bundle.Build(s)
	require.NoError(t, err)
	groups, err := rules.Build(&s.Services[0], s.Version)
	require.NoError(t, err)
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			id := strings.TrimSuffix(filepath.Base(r.Annotations[model.AnnotationRunbook]), ".md")
			doc, ok := b.File(file(id))
			require.True(t, ok, "%s has no runbook at %s", r.Alert, file(id))
			expr, err := model.ParseExpr(r.Expr)
			require.NoError(t, err)
			require.Contains(t, string(doc), expr.String(), "the runbook of %s quotes its expression", r.Alert)
		}
	}
	fast, _ := b.File(file("availability-fast-burn"))
	require.Contains(t, string(fast), "| 100% | 4m19s | 2% | 29m6s |", "numbers from the report")
	require.Regexp(t, `\[availability_http \(30d\)\]\(http://localhost:3000/d/tensor-wasm-service\?viewPanel=\d+\)`, string(fast))
}

func TestRegenerationKeepsOperatorProseByteForByte(t *testing.T) {
	s := catalog.TensorWasm()
	old, err := bundle.Build(s)
	require.NoError(t, err)
	doc, _ := old.File(file("availability-fast-burn"))
	prose := "Seen twice: the auth backend flaps.  \n\n```sh\njournalctl -u tensor-wasm | grep 502\n```\n\tTabs and trailing spaces stay.  \n"
	edited := regexp.MustCompile(`(?s)(<!-- operator:begin causes -->\n).*?(<!-- operator:end causes -->)`).
		ReplaceAllString(string(doc), "${1}"+strings.ReplaceAll(prose, "$", "$$")+"${2}")
	require.NotEqual(t, string(doc), edited)
	dir := t.TempDir()
	// An earlier bundle kept one runbook per alert directly in runbooks/.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "availability-fast-burn.md"), []byte(edited), 0o644))

	// The next release changes the tier; the prose survives, exactly.
	s.Services[0].SLOs[0].Tiers[0].Factor = 10
	next, err := bundle.Build(s)
	require.NoError(t, err)
	require.NoError(t, next.KeepRunbookProse(dir))
	merged, _ := next.File(file("availability-fast-burn"))
	require.Contains(t, string(merged), "<!-- operator:begin causes -->\n"+prose+"<!-- operator:end causes -->")
	require.Contains(t, string(merged), "10x the 0.5%", "the generated part follows the new spec")
	manifest, _ := next.File(model.ManifestFile)
	sum := sha256.Sum256(merged)
	require.Contains(t, string(manifest), hex.EncodeToString(sum[:]), "the manifest checksums the merged runbook")
}

func TestProseOfASectionNoLongerGeneratedIsKept(t *testing.T) {
	previous := []byte("x\n<!-- operator:begin history -->\nkeep me\n<!-- operator:end history -->\n")
	merged := runbooks.Merge([]byte("generated\n"), previous)
	require.Contains(t, string(merged), "<!-- operator:begin history -->\nkeep me\n<!-- operator:end history -->")
}

func TestProseIsReadFromTheDirectoryOfItsService(t *testing.T) {
	s := examples.Pair(t)
	b, err := bundle.Build(s)
	require.NoError(t, err)
	dir := t.TempDir()
	svc := s.Services[1]
	id := svc.Alerts[0].Alert
	doc, ok := b.File(model.RunbookFile(svc.Name, id))
	require.True(t, ok)
	edited := strings.Replace(string(doc), "_Write the causes", "Known: the queue backs up. _Write the causes", 1)
	path := filepath.Join(dir, filepath.FromSlash(model.RunbookName(svc.Name, id)))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(edited), 0o644))
	// A flat file of the same name must not leak into every service's runbook.
	require.NoError(t, os.WriteFile(filepath.Join(dir, model.UnmeasuredAlert+".md"), []byte(edited), 0o644))

	require.NoError(t, b.KeepRunbookProse(dir))
	for _, f := range b.Files {
		if service, alert, ok := model.RunbookOf(f.Path); ok {
			require.Equal(t, service == svc.Name && alert == id, strings.Contains(string(f.Data), "Known: the queue backs up."), f.Path)
		}
	}
}

// links returns the titles of the panels a runbook links to.
func links(t *testing.T, doc []byte) []string {
	t.Helper()
	_, section, ok := strings.Cut(string(doc), "## Dashboard panels\n\n")
	if !ok {
		return nil
	}
	section, _, _ = strings.Cut(section, "\n\n")
	var titles []string
	for _, m := range regexp.MustCompile(`(?m)^- \[(.*)\]\(.*\?viewPanel=\d+\)$`).FindAllStringSubmatch(section, -1) {
		titles = append(titles, m[1])
	}
	return titles
}

func TestRunbooksLinkThePanelsOfTheirAlertsSLIAndNothingElse(t *testing.T) {
	s := catalog.TensorWasm()
	b, err := bundle.Build(s)
	require.NoError(t, err)
	for _, tc := range []struct {
		alert string
		want  []string
	}{
		{"availability-fast-burn", []string{
			"availability_http (30d)", "availability_http error budget remaining", "availability_http deploy freeze",
			"availability_http burn rate", "availability_http error budget over time",
			dashboards.RequestRateTitle, dashboards.ErrorRatioTitle, dashboards.RouteErrorTitle, "Top 5 failing (route, status)",
		}},
		{"invoke-latency-spike", []string{
			"latency_http_invoke (30d)", "latency_http_invoke error budget remaining", "latency_http_invoke deploy freeze",
			"latency_http_invoke burn rate", "latency_http_invoke error budget over time",
			"HTTP latency P50 / P95 / P99",
		}},
		{"healthz-slow", []string{
			"latency_http_healthz_P95 (30d)", "latency_http_healthz_P95 error budget remaining", "latency_http_healthz_P95 deploy freeze",
			"latency_http_healthz_P95 burn rate", "latency_http_healthz_P95 error budget over time",
			"HTTP latency P50 / P95 / P99",
		}},
		{model.UnmeasuredAlert, []string{
			dashboards.RequestRateTitle, dashboards.ErrorRatioTitle, dashboards.RouteErrorTitle, "Top 5 failing (route, status)",
			"HTTP latency P50 / P95 / P99",
		}},
	} {
		t.Run(tc.alert, func(t *testing.T) {
			doc, ok := b.File(file(tc.alert))
			require.True(t, ok)
			require.Equal(t, tc.want, links(t, doc))
		})
	}
}

// platformRunbooks writes the runbooks of every service of the
// model-platform example from its rules and dashboards, by bundle path.
func platformRunbooks(t *testing.T) map[string][]byte {
	t.Helper()
	s := examples.Platform(t)
	out := map[string][]byte{}
	for i := range s.Services {
		svc := &s.Services[i]
		groups, err := rules.Build(svc, s.Version)
		require.NoError(t, err)
		_, panels, err := dashboards.Service(svc, s.Name, s.Version)
		require.NoError(t, err)
		for path, doc := range runbooks.Runbooks(runbooks.Input{Service: svc, Groups: groups, Panels: panels}) {
			require.NotContains(t, out, path)
			out[path] = doc
		}
	}
	return out
}

func TestRunbooksOfEveryServiceHaveTheirOwnPathsAndPanels(t *testing.T) {
	s := examples.Platform(t)
	docs := platformRunbooks(t)
	for _, svc := range s.Services {
		ids := []string{model.UnmeasuredAlert}
		for _, o := range svc.SLOs {
			for _, tier := range o.Tiers {
				ids = append(ids, tier.Alert)
			}
		}
		for _, a := range svc.Alerts {
			ids = append(ids, a.Alert)
		}
		for _, id := range ids {
			doc, ok := docs[model.RunbookFile(svc.Name, id)]
			require.True(t, ok, "%s of %s has no runbook", id, svc.Name)
			require.True(t, strings.HasSuffix(svc.RunbookURL(id), "/"+path.Base(model.RunbookFile(svc.Name, id))))
			for _, m := range regexp.MustCompile(`\]\((http[^)]*viewPanel=\d+)\)`).FindAllStringSubmatch(string(doc), -1) {
				require.True(t, strings.HasPrefix(m[1], svc.DashboardURL()+"?"), "%s of %s links %s", id, svc.Name, m[1])
			}
		}
	}
	require.Equal(t, 5+4+3, len(docs), "one runbook per alert of each service, SLOUnmeasured included")
}

func TestALatencyRunbookLinksItsSLOAndHistogramOnly(t *testing.T) {
	docs := platformRunbooks(t)
	require.Equal(t, []string{
		"latency_predict (30d)", "latency_predict error budget remaining", "latency_predict deploy freeze",
		"latency_predict burn rate", "latency_predict error budget over time", "HTTP latency P50 / P95 / P99",
	}, links(t, docs[model.RunbookFile("model-api", "predict-latency-fast-burn")]))
	require.Equal(t, []string{"Model load time P95", "Model load time rate"},
		links(t, docs[model.RunbookFile("model-api", "model-load-slow")]), "a quantile alert links its histogram's panels")
	require.Equal(t, []string{
		"job_success (4w)", "job_success error budget remaining", "job_success deploy freeze",
		"job_success burn rate", "job_success error budget over time",
		dashboards.RequestRateTitle, dashboards.ErrorRatioTitle, "Top 5 failing (outcome)",
	}, links(t, docs[model.RunbookFile("batch-scheduler", "job-failures-high")]), "an error-ratio alert links its SLO's panels")
}

// sloOf names the SLOs an alert watches, read from the model: a tier's
// SLO, an error-ratio alert's SLO, or every latency SLO reading the same
// histogram with the same matchers as a quantile alert.
func sloOf(svc *model.Service, id string) (slos []string, tier *model.Tier) {
	for _, o := range svc.SLOs {
		for i, t := range o.Tiers {
			if t.Alert == id {
				return []string{o.Name}, &o.Tiers[i]
			}
		}
	}
	for _, a := range svc.Alerts {
		if a.Alert != id {
			continue
		}
		if a.ErrorRatio != nil {
			return []string{a.ErrorRatio.SLO}, nil
		}
		for _, o := range svc.SLOs {
			if l := o.SLI.Latency; l != nil && a.Quantile != nil && l.Metric == a.Quantile.Metric && l.Matchers == a.Quantile.Matchers {
				slos = append(slos, o.Name)
			}
		}
	}
	return slos, nil
}

// Every runbook links the panels that show its alert's SLI and the burn
// over its windows, found from what each panel shows, never its title.
func TestEveryRunbookLinksThePanelsOfItsAlertsSLIAndWindows(t *testing.T) {
	checked := 0
	for name, s := range examples.Specs(t) {
		for i := range s.Services {
			svc := &s.Services[i]
			groups, err := rules.Build(svc, s.Version)
			require.NoError(t, err)
			_, panels, err := dashboards.Service(svc, s.Name, s.Version)
			require.NoError(t, err)
			for path, doc := range runbooks.Runbooks(runbooks.Input{Service: svc, Groups: groups, Panels: panels}) {
				_, id, _ := model.RunbookOf(path)
				slos, tier := sloOf(svc, id)
				linked := string(doc)
				for _, slo := range slos {
					for _, p := range panels {
						if !p.ShowsSLO(slo) || (p.Shows != dashboards.ShowsSLI && p.Shows != dashboards.ShowsBurnRate) {
							continue
						}
						checked++
						require.Contains(t, linked, svc.PanelURL(p.ID)+")", "%s: %s does not link %q", name, path, p.Title)
						if tier != nil && p.Shows == dashboards.ShowsBurnRate {
							require.Contains(t, p.Windows, tier.Short, "%s: %q shows the short window of %s", name, p.Title, id)
							require.Contains(t, p.Windows, tier.Long, "%s: %q shows the long window of %s", name, p.Title, id)
						}
					}
				}
			}
		}
	}
	require.NotZero(t, checked)
}

// An SLI that names its good events has no selector of bad ones: its
// runbook's raw-series query is all events less the good ones, with no
// good series (a total outage since a restart) counting as none.
func TestARunbookOfGoodEventsQueriesAllLessGood(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	svc.Metrics = append(svc.Metrics, model.Metric{Name: "ok_total", Type: model.Counter})
	e := svc.SLOs[0].SLI.Events
	e.Bad, e.GoodMetric = "", "ok_total"
	require.NoError(t, s.Validate())
	b, err := bundle.Build(s)
	require.NoError(t, err)
	doc, ok := b.File(file(svc.SLOs[0].Tiers[0].Alert))
	require.True(t, ok)
	total, _ := svc.EventSelectors(e)
	require.Contains(t, string(doc), "(sum(rate("+total+"[1h])) - (sum(rate(ok_total{job=\"tensor-wasm\"}[1h])) or vector(0)))\n  /\nsum(rate("+total+"[1h]))")
}
