package dashboards

import "math"

// How big things are on screen. Grafana cannot run here, so the layout is
// sized for a stated screen instead of measured: a 1440 px wide laptop
// screen, Grafana's side menu closed, leaves about 1350 px to the
// dashboard's 24-column grid. Tests check the rendered JSON against the
// same figures.
const (
	// ColumnPx is the width of one grid column on that screen.
	ColumnPx = 56.0
	// RowPx is the height of one grid row: Grafana's 30 px cell and its
	// 8 px margin.
	RowPx = 38.0
	// TitleChromeHeightPx is the height of a panel's header.
	TitleChromeHeightPx = 32.0
	// TitleCharPx is the width of a character of a panel title (14 px
	// Inter, about 7.5 px a character on average, rounded up).
	TitleCharPx = 8.0
	// TitleChromePx is what a panel's header takes besides its title:
	// padding and the description and link icons.
	TitleChromePx = 64.0
	// DigitWidth is the width of a digit of a stat's value, in ems.
	DigitWidth = 0.6
	// ValuePaddingPx is the space around one value box of a stat.
	ValuePaddingPx = 16.0
)

// Text sizes of a stat that shows several values, in px: set, rather than
// left to Grafana's fitting, so every value of the panel reads the same.
const (
	statTitleSize = 12.0
	statValueSize = 18.0
	// widestValue is the longest value a stat shows, e.g. "14.40x".
	widestValue = len("14.40x")
)

// gridColumns is the width of Grafana's grid.
const gridColumns = 24

// columnsFor is the number of grid columns px needs.
func columnsFor(px float64) uint32 {
	return min(uint32(math.Ceil(px/ColumnPx)), gridColumns)
}

// titleColumns is the width a panel needs to show its title uncut.
func titleColumns(title string) uint32 {
	return columnsFor(float64(len(title))*TitleCharPx + TitleChromePx)
}

// valuesColumns is the width a stat needs to show n values side by side.
func valuesColumns(n int) uint32 {
	return columnsFor(float64(n) * (float64(widestValue)*DigitWidth*statValueSize + ValuePaddingPx))
}

// fill widens panels that share a line, at least to their given widths,
// until they fill the grid's width; the spare columns are shared evenly,
// the first panels taking any remainder. Panels wider together than the
// grid are left as they are: Grafana wraps them onto the next line.
func fill(widths ...uint32) []uint32 {
	out := append([]uint32(nil), widths...)
	var sum uint32
	for _, w := range out {
		sum += w
	}
	if sum >= gridColumns || len(out) == 0 {
		return out
	}
	spare := gridColumns - sum
	n := uint32(len(out))
	for i := range out {
		out[i] += spare / n
		if uint32(i) < spare%n {
			out[i]++
		}
	}
	return out
}
