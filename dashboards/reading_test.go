package dashboards_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/dashboards"
	"github.com/tensorwasm/obsbundle/model"
)

// Properties of what an on-call engineer sees in Grafana, read off the
// rendered JSON of every example bundle's dashboards (issue 13, "What was
// seen in Grafana"). Grafana cannot run here, so each property states the
// documented behaviour it relies on.

// shown is the part of a panel's JSON that decides how it reads on screen.
type shown struct {
	Type, Title string
	GridPos     struct{ W, H int } `json:"gridPos"`
	Options     struct {
		Orientation *string `json:"orientation"`
		Text        *struct {
			TitleSize *float64 `json:"titleSize"`
			ValueSize *float64 `json:"valueSize"`
		} `json:"text"`
	} `json:"options"`
	Targets []struct {
		RefID   string `json:"refId"`
		Expr    string `json:"expr"`
		Format  string `json:"format"`
		Instant bool   `json:"instant"`
	} `json:"targets"`
	Transformations []struct {
		ID string `json:"id"`
	} `json:"transformations"`
	FieldConfig struct {
		Defaults struct {
			Unit       string   `json:"unit"`
			Min        *float64 `json:"min"`
			Max        *float64 `json:"max"`
			Thresholds *struct {
				Steps []struct {
					Value *float64 `json:"value"`
					Color string   `json:"color"`
				} `json:"steps"`
			} `json:"thresholds"`
			Custom struct {
				AxisSoftMax *float64 `json:"axisSoftMax"`
			} `json:"custom"`
		} `json:"defaults"`
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options string `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string `json:"id"`
				Value any    `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
}

type screen struct {
	Title       string  `json:"title"`
	Panels      []shown `json:"panels"`
	Annotations struct {
		List []struct {
			Name   string `json:"name"`
			Expr   string `json:"expr"`
			Enable bool   `json:"enable"`
		} `json:"list"`
	} `json:"annotations"`
}

// screens renders every example bundle and returns its dashboards by
// "<spec> <bundle path>".
func screens(t *testing.T) map[string]screen {
	t.Helper()
	out := map[string]screen{}
	for name, s := range specs(t) {
		b, err := bundle.Build(s)
		require.NoError(t, err)
		for _, path := range b.Dashboards {
			data, _ := b.File(path)
			var d screen
			require.NoError(t, json.Unmarshal(data, &d), path)
			out[name+" "+path] = d
		}
	}
	return out
}

// px is a panel's size on screen (see dashboards.ColumnPx and RowPx), less
// the header that holds its title.
func px(p shown) (w, h float64) {
	return float64(p.GridPos.W) * dashboards.ColumnPx, float64(p.GridPos.H)*dashboards.RowPx - dashboards.TitleChromeHeightPx
}

// Grafana lays the values of a stat out by its orientation: "vertical"
// side by side, "horizontal" stacked; anything else (the "" seen in
// Grafana) gives every value the whole panel, so all but the first are
// clipped. A stat of several windows must name its layout and give each
// value a box big enough for a window's name and a burn such as "14.40x"
// at its explicit text sizes.
func TestMultiWindowStatsShowEveryWindowLegibly(t *testing.T) {
	valid := []string{"auto", "horizontal", "vertical"}
	multi := 0
	for name, d := range screens(t) {
		for _, p := range d.Panels {
			if p.Type != "stat" {
				continue
			}
			o := p.Options.Orientation
			require.NotNil(t, o, "%s: %q has no orientation", name, p.Title)
			require.Contains(t, valid, *o, "%s: %q", name, p.Title)
			n := len(p.Targets)
			if n < 2 {
				continue
			}
			multi++
			require.Contains(t, []string{"horizontal", "vertical"}, *o, "%s: %q shows %d windows: its layout must not be left to chance", name, p.Title, n)
			require.NotNil(t, p.Options.Text, "%s: %q sets its text sizes", name, p.Title)
			require.NotNil(t, p.Options.Text.ValueSize, "%s: %q", name, p.Title)
			require.NotNil(t, p.Options.Text.TitleSize, "%s: %q", name, p.Title)
			w, h := px(p)
			if *o == "vertical" {
				w /= float64(n)
			} else {
				h /= float64(n)
			}
			valueW := float64(len("14.40x"))*dashboards.DigitWidth**p.Options.Text.ValueSize + dashboards.ValuePaddingPx
			valueH := *p.Options.Text.TitleSize + *p.Options.Text.ValueSize + dashboards.ValuePaddingPx
			require.GreaterOrEqual(t, w, valueW, "%s: %q: each of %d windows gets %.0f px, a value needs %.0f", name, p.Title, n, w, valueW)
			require.GreaterOrEqual(t, h, valueH, "%s: %q: each of %d windows gets %.0f px high, a name and value need %.0f", name, p.Title, n, h, valueH)
		}
	}
	require.NotZero(t, multi, "the examples have multi-window stats")
}

// A title is cut with an ellipsis when it is wider than the panel's
// header: dashboards.TitleFits states the width a title needs.
func TestTitlesFitTheirPanels(t *testing.T) {
	for name, d := range screens(t) {
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			need := float64(len(p.Title))*dashboards.TitleCharPx + dashboards.TitleChromePx
			w, _ := px(p)
			require.GreaterOrEqual(t, w, need, "%s: %q (%d columns) is cut off", name, p.Title, p.GridPos.W)
		}
	}
}

// Grafana colours a value by the last step at or below it: two steps at
// one value hide the first colour, and out-of-order steps hide more.
func TestThresholdsStrictlyIncrease(t *testing.T) {
	for name, d := range screens(t) {
		for _, p := range d.Panels {
			th := p.FieldConfig.Defaults.Thresholds
			if th == nil {
				continue
			}
			for i := 2; i < len(th.Steps); i++ {
				require.Greater(t, *th.Steps[i].Value, *th.Steps[i-1].Value, "%s: %q thresholds %d and %d", name, p.Title, i-1, i)
			}
		}
	}
}

// uPlot draws a flat series of zeros on a 0-100 axis unless told a range:
// with a hard minimum of 0 and no maximum, a soft maximum keeps an idle
// rate near the floor instead of on a meaningless 0-100 ops/s scale, and
// still grows with the data (a hard maximum would clip spikes).
func TestFlatZeroSeriesAreNotDrawnOnAFixedAxis(t *testing.T) {
	for name, d := range screens(t) {
		for _, p := range d.Panels {
			if p.Type != "timeseries" {
				continue
			}
			def := p.FieldConfig.Defaults
			require.Nil(t, def.Max, "%s: %q has a fixed maximum", name, p.Title)
			if def.Min != nil && *def.Min == 0 {
				require.NotNil(t, def.Custom.AxisSoftMax, "%s: %q: all zeros would be drawn on 0-100 %s", name, p.Title, def.Unit)
				require.Positive(t, *def.Custom.AxisSoftMax, "%s: %q", name, p.Title)
			}
		}
	}
}

// The time-series annotations mark when alerts fire. Only pages belong
// there by default: a ticket firing for hours shaded every panel over the
// whole range. Tickets may be shown behind a toggle that starts off.
func TestAlertAnnotationsShowPagesUnlessTicketsAreToggledOn(t *testing.T) {
	for name, d := range screens(t) {
		for _, a := range d.Annotations.List {
			if a.Expr == "" {
				continue
			}
			expr, err := model.ParseExpr(a.Expr)
			require.NoError(t, err)
			var severity *labels.Matcher
			alerts := false
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok && vs.Name == "ALERTS" {
					alerts = true
					for _, m := range vs.LabelMatchers {
						if m.Name == model.LabelSeverity {
							severity = m
						}
					}
				}
				return nil
			})
			if !alerts || !a.Enable {
				continue
			}
			require.NotNil(t, severity, "%s: annotation %q is on by default and shows every severity", name, a.Name)
			require.Equal(t, labels.MatchEqual, severity.Type, "%s: %q", name, a.Name)
			require.Equal(t, string(model.Page), severity.Value, "%s: %q is on by default", name, a.Name)
		}
	}
}

// The overview is one row per SLO and one column per measure. Grafana's
// merge transformation joins the frames of table-format queries on their
// common label columns, so every query must return exactly service and
// slo (no __name__, which differs per query and stops any join); counts
// show as integers.
func TestOverviewIsOneRowPerSLO(t *testing.T) {
	for name, d := range screens(t) {
		if !strings.HasPrefix(d.Title, model.OverviewTitle("")) {
			continue
		}
		require.Len(t, d.Panels, 1, name)
		p := d.Panels[0]
		var ids []string
		for _, tr := range p.Transformations {
			ids = append(ids, tr.ID)
		}
		require.Contains(t, ids, "merge", name)
		for _, tg := range p.Targets {
			require.Equal(t, "table", tg.Format, "%s: %s", name, tg.Expr)
			require.True(t, tg.Instant, "%s: %s", name, tg.Expr)
			expr, err := model.ParseExpr(tg.Expr)
			require.NoError(t, err)
			agg, ok := expr.(*parser.AggregateExpr)
			require.True(t, ok, "%s: %s keeps labels a join cannot use (__name__ among them)", name, tg.Expr)
			require.False(t, agg.Without, "%s: %s", name, tg.Expr)
			by := slices.Clone(agg.Grouping)
			slices.Sort(by)
			require.Equal(t, []string{model.LabelService, model.LabelSLO}, by, "%s: %s", name, tg.Expr)
			if strings.Contains(tg.Expr, "ALERTS") {
				require.Equal(t, float64(0), overrideOf(p, "Value #"+tg.RefID, "decimals"), "%s: a count of alerts is an integer", name)
			}
		}
	}
}

// overrideOf returns the value of property id of the override of field.
func overrideOf(p shown, field, id string) any {
	for _, o := range p.FieldConfig.Overrides {
		if o.Matcher.ID == "byName" && o.Matcher.Options == field {
			for _, pr := range o.Properties {
				if pr.ID == id {
					return pr.Value
				}
			}
		}
	}
	return fmt.Sprintf("no %s override for %s", id, field)
}
