package report

import (
	"bytes"
	"fmt"
	"math"

	"github.com/tensorwasm/obsbundle/model"
)

// Chart geometry: a log-log plot of error ratio against time to alert.
const (
	chartW, chartH         = 760.0, 460.0
	left, right, top, foot = 70.0, 190.0, 30.0, 50.0
	minRatio, maxRatio     = 1e-5, 1.0
	minTime, maxTime       = 10.0, 7 * 24 * 3600.0 // seconds
)

var palette = []string{"#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"}

// SVG draws, for every tier, the time to first alert against the error
// ratio: a curve from the analysis, dots where a replay measured it.
func SVG(svc *model.Service, cells []Cell) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", chartW, chartH)
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="14">%s: time to first alert by error ratio</text>`+"\n", left, svc.Title)
	axes(&b)
	series := 0
	for i := 0; i < len(cells); i += len(Ratios) {
		tierCells := cells[i:min(i+len(Ratios), len(cells))]
		c := tierCells[0]
		color := palette[series%len(palette)]
		curve(&b, c, color)
		for _, tc := range tierCells {
			if s := tc.Simulated; s != nil && s.Caught {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", x(tc.Ratio), y(s.Detect.Seconds()), color)
			}
		}
		ly := top + 16 + float64(series)*18
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="2"/>`+"\n", chartW-right+12, ly-4, chartW-right+30, ly-4, color)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s</text>`+"\n", chartW-right+36, ly, c.Tier.RuleName())
		series++
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// curve draws the analytic time to alert from the tier's threshold up to a
// full outage.
func curve(b *bytes.Buffer, c Cell, color string) {
	theta := Threshold(c.SLO, c.Tier)
	var pts string
	for i := 0; i <= 60; i++ {
		e := math.Pow(10, math.Log10(theta)+float64(i)/60*(0-math.Log10(theta)))
		t := reach(theta, c.Tier.Long, e) + c.Tier.For.Std().Seconds()
		pts += fmt.Sprintf("%.1f,%.1f ", x(e), y(t))
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, pts[:len(pts)-1])
}

// axes draws decade grid lines and labels.
func axes(b *bytes.Buffer) {
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#444"/>`+"\n", left, top, chartW-left-right, chartH-top-foot)
	for p := -5; p <= 0; p++ {
		v := math.Pow(10, float64(p))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/>`+"\n", x(v), top, x(v), chartH-foot)
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", x(v), chartH-foot+16, model.Percent(v))
	}
	for _, tk := range []struct {
		s     float64
		label string
	}{{60, "1m"}, {600, "10m"}, {3600, "1h"}, {6 * 3600, "6h"}, {86400, "1d"}, {3 * 86400, "3d"}} {
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(tk.s), chartW-right, y(tk.s))
		fmt.Fprintf(b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(tk.s)+4, tk.label)
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">error ratio (log)</text>`+"\n", (left+chartW-right)/2, chartH-12)
	fmt.Fprintf(b, `<text x="16" y="%.0f" transform="rotate(-90 16 %.0f)" text-anchor="middle">time to first alert (log)</text>`+"\n", (top+chartH-foot)/2, (top+chartH-foot)/2)
}

func x(ratio float64) float64 {
	f := (math.Log10(ratio) - math.Log10(minRatio)) / (math.Log10(maxRatio) - math.Log10(minRatio))
	return left + f*(chartW-left-right)
}

func y(seconds float64) float64 {
	seconds = math.Min(math.Max(seconds, minTime), maxTime)
	f := (math.Log10(seconds) - math.Log10(minTime)) / (math.Log10(maxTime) - math.Log10(minTime))
	return chartH - foot - f*(chartH-top-foot)
}
