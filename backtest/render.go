package backtest

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

const stamp = "2006-01-02 15:04"

func pct(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", *v*100), "0"), ".") + "%"
}

func span(f Firing, to time.Time) string {
	if f.End == nil {
		return fmt.Sprintf("%s -> (still firing at %s)", f.Start.Format(stamp), to.Format(stamp))
	}
	return fmt.Sprintf("%s -> %s (%s)", f.Start.Format(stamp), f.End.Format(stamp), f.End.Sub(f.Start))
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// Text writes the terminal summary.
func (r *Result) Text(w io.Writer) {
	fmt.Fprintf(w, "backtest %s -> %s UTC (%s): %s, %s, fetched and replayed in %.1fs (fetching %.1fs, replaying %.1fs, overlapped)\n",
		r.From.Format(stamp), r.To.Format(stamp), r.To.Sub(r.From), seriesCount(r.Series), count(r.Samples)+" samples", r.WallSeconds, r.FetchSeconds, r.ReplaySeconds)
	for _, s := range r.SLOs {
		sli := s.SLI
		fmt.Fprintf(w, "SLO %s: objective %s, SLI over the range %s, budget remaining %s (%.0f bad of %.0f events)\n",
			s.Key(), pct(&s.Objective), pct(sli), pct(s.BudgetRemaining), s.Bad, s.Total)
	}
	for _, set := range r.Sets {
		fmt.Fprintf(w, "\n%s: %s (%.1f/week), %s (%.1f/week)\n", set.Name, plural(set.Pages, "page"), set.PagesPerWeek, plural(set.Tickets, "ticket"), set.TicketsPerWeek)
		if len(set.Alerts) == 0 {
			fmt.Fprintln(w, "  no alert would have fired")
		}
		for _, a := range set.Alerts {
			fmt.Fprintf(w, "  %s [%s] %s, %.1f/week\n", a.Alert, a.Class, plural(len(a.Firings), "firing"), a.PerWeek)
			for _, f := range a.Firings {
				fmt.Fprintf(w, "    %s", span(f, r.To))
				if f.BudgetSpent != nil {
					fmt.Fprintf(w, ", budget spent by then %s", pct(f.BudgetSpent))
				}
				fmt.Fprintln(w)
			}
		}
	}
	if len(r.Sets) == 2 {
		fmt.Fprintf(w, "\n%s\n", r.Verdict())
	}
}

// Verdict compares the two sets in a sentence.
func (r *Result) Verdict() string {
	a, b := r.Sets[1], r.Sets[0]
	return fmt.Sprintf("On the same data, %s would have paged %s and filed %s; %s would have paged %s and filed %s.",
		a.Name, times(a.Pages), plural(a.Tickets, "ticket"), b.Name, times(b.Pages), plural(b.Tickets, "ticket"))
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// Markdown writes the report as Markdown; charts names the SVG timeline of
// each SLO by its key, to link.
func (r *Result) Markdown(w io.Writer, charts map[string]string) {
	fmt.Fprintf(w, "# Backtest %s to %s UTC\n\n", r.From.Format(stamp), r.To.Format(stamp))
	fmt.Fprintf(w, "%s (%s) read from Prometheus: %s.\n\n", seriesCount(r.Series), count(r.Samples)+" samples", "`"+strings.Join(r.Selectors, "`, `")+"`")
	if len(r.Sets) == 2 {
		fmt.Fprintf(w, "%s\n\n", r.Verdict())
	}
	fmt.Fprintln(w, "## SLOs over the range\n\n| SLO | objective | SLI | budget remaining | bad events | events |\n|---|---|---|---|---|---|")
	for _, s := range r.SLOs {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f | %.0f |\n", s.Key(), pct(&s.Objective), pct(s.SLI), pct(s.BudgetRemaining), s.Bad, s.Total)
	}
	for _, s := range r.SLOs {
		if c, ok := charts[s.Key()]; ok {
			fmt.Fprintf(w, "\n![%s: burn rate over %s and alerts](%s)\n", s.Key(), s.BurnWindow, c)
		}
	}
	for _, set := range r.Sets {
		fmt.Fprintf(w, "\n## %s\n\n%s (%.1f per week), %s (%.1f per week).\n\n", set.Name, plural(set.Pages, "page"), set.PagesPerWeek, plural(set.Tickets, "ticket"), set.TicketsPerWeek)
		if len(set.Alerts) == 0 {
			fmt.Fprintln(w, "No alert would have fired.")
			continue
		}
		fmt.Fprintln(w, "| alert | class | fired | resolved | duration | budget spent by then |\n|---|---|---|---|---|---|")
		for _, a := range set.Alerts {
			for _, f := range a.Firings {
				end, dur := "still firing", ""
				if f.End != nil {
					end, dur = f.End.Format(stamp), f.End.Sub(f.Start).String()
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", a.Alert, a.Class, f.Start.Format(stamp), end, dur, pct(f.BudgetSpent))
			}
		}
	}
}

// JSON writes the result as indented JSON.
func (r *Result) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// SVG draws one SLO's timeline: the burn rate as a line, each alert of
// each set that guards the SLO (or, for a set that names no SLO, every
// alert) as a band in a lane of its own below it.
func (r *Result) SVG(w io.Writer, slo SLOResult) {
	type lane struct {
		name    string
		firings []Firing
		page    bool
	}
	var lanes []lane
	for _, set := range r.Sets {
		mapped := false
		for _, a := range set.Alerts {
			mapped = mapped || a.SLO != ""
		}
		for _, a := range set.Alerts {
			if a.SLO == slo.Key() || (!mapped && a.SLO == "") {
				prefix := ""
				if len(r.Sets) > 1 {
					prefix = set.Name + ": "
				}
				lanes = append(lanes, lane{name: prefix + a.Alert, firings: a.Firings, page: a.Class == ClassPage})
			}
		}
	}
	const width, left, right, chartH, laneH, top = 960.0, 220.0, 20.0, 200.0, 18.0, 30.0
	height := top + chartH + 30 + laneH*float64(len(lanes)) + 10
	plotW := width - left - right
	x := func(t time.Time) float64 {
		return left + plotW*t.Sub(r.From).Seconds()/r.To.Sub(r.From).Seconds()
	}
	maxBurn := 1.0
	for _, p := range slo.Burn {
		maxBurn = math.Max(maxBurn, p.V)
	}
	y := func(v float64) float64 { return top + chartH - chartH*v/maxBurn }
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%.0f" y="18" font-size="13">%s: burn rate over %s, %s to %s UTC</text>`+"\n", left, html.EscapeString(slo.Key()), slo.BurnWindow, r.From.Format(stamp), r.To.Format(stamp))
	fmt.Fprintf(w, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", left, top, plotW, chartH)
	fmt.Fprintf(w, `<text x="%.0f" y="%.1f" text-anchor="end">%.3gx</text>`+"\n", left-4, top+4, maxBurn)
	fmt.Fprintf(w, `<text x="%.0f" y="%.1f" text-anchor="end">0</text>`+"\n", left-4, top+chartH)
	fmt.Fprintf(w, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="4 3"/><text x="%.0f" y="%.1f" text-anchor="end">1x</text>`+"\n",
		left, left+plotW, y(1), y(1), left-4, y(1)+4)
	// Alert bands behind the line.
	for _, l := range lanes {
		for _, f := range l.firings {
			end := r.To
			if f.End != nil {
				end = *f.End
			}
			color := "#f5c16c"
			if l.page {
				color = "#e88"
			}
			fmt.Fprintf(w, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" fill="%s" fill-opacity="0.35"/>`+"\n", x(f.Start), top, math.Max(1, x(end)-x(f.Start)), chartH, color)
		}
	}
	if len(slo.Burn) > 0 {
		var b strings.Builder
		for i, p := range slo.Burn {
			if i == 0 {
				b.WriteString("M")
			} else {
				b.WriteString(" L")
			}
			fmt.Fprintf(&b, "%.1f %.1f", x(p.T), y(p.V))
		}
		fmt.Fprintf(w, `<path d="%s" fill="none" stroke="#2a6fdb" stroke-width="1.2"/>`+"\n", b.String())
	}
	for i := 0; i <= 4; i++ {
		t := r.From.Add(time.Duration(float64(r.To.Sub(r.From)) * float64(i) / 4))
		fmt.Fprintf(w, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", x(t), top+chartH+14, t.Format("01-02 15:04"))
	}
	for i, l := range lanes {
		ly := top + chartH + 30 + laneH*float64(i)
		fmt.Fprintf(w, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-4, ly+12, html.EscapeString(l.name))
		fmt.Fprintf(w, `<rect x="%.0f" y="%.1f" width="%.0f" height="%.0f" fill="#f4f4f4"/>`+"\n", left, ly+2, plotW, laneH-4)
		for _, f := range l.firings {
			end := r.To
			if f.End != nil {
				end = *f.End
			}
			color := "#d98a00"
			if l.page {
				color = "#c62828"
			}
			fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s"><title>%s %s</title></rect>`+"\n",
				x(f.Start), ly+2, math.Max(1.5, x(end)-x(f.Start)), laneH-4, color, html.EscapeString(l.name), html.EscapeString(span(f, r.To)))
		}
	}
	fmt.Fprintln(w, "</svg>")
}

func seriesCount(n int) string {
	if n == 1 {
		return "1 series"
	}
	return fmt.Sprintf("%d series", n)
}
