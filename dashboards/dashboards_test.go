package dashboards_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/dashcheck"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
)

// board is the part of a dashboard's JSON the tests read.
type board struct {
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Editable   bool     `json:"editable"`
	Tags       []string `json:"tags"`
	Panels     []panel  `json:"panels"`
	Templating struct {
		List []struct {
			Name, Type, Label, Definition string
			Multi                         bool
			AllValue                      string `json:"allValue"`
			Refresh                       int
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct{ Name, Expr string } `json:"list"`
	} `json:"annotations"`
}

type panel struct {
	Type, Title, Description string
	Targets                  []struct {
		Expr    string `json:"expr"`
		Instant bool   `json:"instant"`
	} `json:"targets"`
	Links       []struct{ Title, URL string } `json:"links"`
	FieldConfig struct {
		Defaults struct{ Unit string } `json:"defaults"`
	} `json:"fieldConfig"`
}

// specs are the bundles whose dashboards are checked.
func specs(t *testing.T) map[string]model.Spec { return examples.Specs(t) }

// boards builds the bundle of s and returns its dashboards by bundle path.
func boards(t *testing.T, s model.Spec) map[string]board {
	t.Helper()
	b, err := bundle.Build(s)
	require.NoError(t, err)
	out := map[string]board{}
	for _, path := range b.Dashboards {
		data, _ := b.File(path)
		var d board
		require.NoError(t, json.Unmarshal(data, &d), path)
		out[path] = d
	}
	return out
}

var variable = regexp.MustCompile(`\$\{?(\w+)\}?`)

// expand replaces Grafana variables as a dashboard at its defaults would:
// every query variable at "All", intervals at the given values.
func expand(q, rateInterval, rng string) string {
	return variable.ReplaceAllStringFunc(q, func(v string) string {
		switch strings.Trim(v, "${}") {
		case "__rate_interval":
			return rateInterval
		case "__range":
			return rng
		}
		return ".+"
	})
}

var labelValues = regexp.MustCompile(`^label_values\((.+), *(\w+)\)$`)

// known lists the series a dashboard of s may read: every contract series,
// every recording rule the rules package emits, and ALERTS.
func known(t *testing.T, s model.Spec) map[string]bool {
	t.Helper()
	names, err := dashcheck.KnownSeries(s)
	require.NoError(t, err)
	names["ALERTS"] = true
	return names
}

// queries lists every PromQL expression of a dashboard: panel targets,
// annotations, and the selectors inside variable queries.
func queries(t *testing.T, d board) []string {
	t.Helper()
	var qs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			qs = append(qs, tg.Expr)
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			qs = append(qs, a.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		require.NotNil(t, m, "variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
		qs = append(qs, m[1])
	}
	return qs
}

func TestEveryQueryParsesAndReadsOnlyContractOrRecordedSeries(t *testing.T) {
	for name, s := range specs(t) {
		names := known(t, s)
		for path, d := range boards(t, s) {
			qs := queries(t, d)
			require.NotEmpty(t, qs, path)
			for _, q := range qs {
				expr, err := model.ParseExpr(expand(q, "1m", "6h"))
				require.NoError(t, err, "%s %s: %s", name, path, q)
				parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
					if vs, ok := n.(*parser.VectorSelector); ok {
						require.True(t, names[vs.Name], "%s %s reads %s, which neither the contract nor the rules provide", name, path, vs.Name)
					}
					return nil
				})
			}
		}
	}
}

func TestDashboardsFollowConventions(t *testing.T) {
	for name, s := range specs(t) {
		for path, d := range boards(t, s) {
			require.False(t, d.Editable, "%s is read-only", path)
			require.Contains(t, d.Tags, "bundle-"+s.Version)
			require.Equal(t, "datasource", d.Templating.List[0].Name)
			require.Equal(t, "Data source", d.Templating.List[0].Label)
			for _, v := range d.Templating.List[1:] {
				require.Equal(t, "query", v.Type)
				require.True(t, v.Multi, v.Name)
				require.Equal(t, ".+", v.AllValue, v.Name)
				require.Equal(t, 2, v.Refresh, "%s refreshes on time-range change", v.Name)
			}
			for _, p := range d.Panels {
				if p.Type == "row" {
					continue
				}
				require.NotEmpty(t, p.Title, "%s %s", name, path)
				require.NotEmpty(t, p.Description, "%s %s: %s", name, path, p.Title)
				require.NotEmpty(t, p.FieldConfig.Defaults.Unit, "%s %s: %s", name, path, p.Title)
				for _, tg := range p.Targets {
					if strings.Contains(tg.Expr, "rate(") && !strings.Contains(tg.Expr, "ratio_rate") {
						require.Contains(t, tg.Expr, "[$__rate_interval]", p.Title)
					}
				}
			}
		}
	}
}

func TestServiceDashboardsHaveTheRowsTheirContractSupports(t *testing.T) {
	rows := func(d board) []string {
		var out []string
		for _, p := range d.Panels {
			if p.Type == "row" {
				out = append(out, p.Title)
			}
		}
		return out
	}
	s := specs(t)
	tw := boards(t, s["tensor-wasm"])["dashboards/TensorWasm/tensor-wasm-service.json"]
	require.Equal(t, []string{"SLO summary", "HTTP traffic", "HTTP latency", "Snapshots", "Instances"}, rows(tw))
	gw := boards(t, s["inference-gateway"])["dashboards/Inference gateway/inference-gateway-service.json"]
	require.Equal(t, []string{"SLO summary", "Traffic"}, rows(gw), "no latency row without a histogram in the contract")
}

// A counter whose SLO names its good events has no selector of failures
// to split its traffic by: it shows as a contract row, every query still
// reading contract or recorded series.
func TestACounterOfGoodEventsShowsAsAContractRow(t *testing.T) {
	s := specs(t)["tensor-wasm"]
	svc := &s.Services[0]
	e := svc.SLOs[0].SLI.Events
	e.Bad, e.Good = "", `status!~"5..",status!="429"`
	require.NoError(t, s.Validate())
	tw := boards(t, s)["dashboards/TensorWasm/tensor-wasm-service.json"]
	var rows []string
	for _, p := range tw.Panels {
		if p.Type == "row" {
			rows = append(rows, p.Title)
		}
	}
	require.Equal(t, []string{"SLO summary", "HTTP latency", "HTTP traffic", "Snapshots", "Instances"}, rows)
	ok := known(t, s)
	for _, q := range queries(t, tw) {
		e, err := model.ParseExpr(expand(q, "5m", "1h"))
		require.NoError(t, err, q)
		for _, sel := range parser.ExtractSelectors(e) {
			for _, m := range sel {
				if m.Name == "__name__" {
					require.True(t, ok[m.Value], "%s reads %s", q, m.Value)
				}
			}
		}
	}
}

func TestSLOPanelsLinkToRunbooksAndAlerts(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	d := boards(t, s)["dashboards/TensorWasm/tensor-wasm-service.json"]
	var stat *panel
	for i := range d.Panels {
		if d.Panels[i].Title == "availability_http (30d)" {
			stat = &d.Panels[i]
		}
	}
	require.NotNil(t, stat, "the runbooks' availability_http (30d) stat")
	var urls []string
	for _, l := range stat.Links {
		urls = append(urls, l.URL)
	}
	for _, id := range []string{"availability-fast-burn", "availability-slow-burn", "availability-very-slow-burn"} {
		require.Contains(t, urls, svc.RunbookURL(id))
		require.Contains(t, urls, svc.AlertListURL(id))
	}
}
