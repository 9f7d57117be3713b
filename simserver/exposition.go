package simserver

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/model"
)

// sample is one series' value at a scrape.
type sample struct {
	l labels.Labels
	v float64
}

// writeText writes samples in Prometheus' text exposition format, grouped
// into the contract's metric families with their HELP and TYPE.
func writeText(w io.Writer, contract []model.Metric, samples []sample) error {
	families := map[string][]sample{}
	for _, s := range samples {
		name := s.l.Get(prommodel.MetricNameLabel)
		families[family(contract, name)] = append(families[family(contract, name)], s)
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if m, ok := metric(contract, n); ok {
			if _, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", n, escapeHelp(m.Help), n, m.Type); err != nil {
				return err
			}
		}
		ss := families[n]
		sort.Slice(ss, func(i, j int) bool { return labels.Compare(ss[i].l, ss[j].l) < 0 })
		for _, s := range ss {
			if _, err := fmt.Fprintf(w, "%s %s\n", series(s.l), strconv.FormatFloat(s.v, 'g', -1, 64)); err != nil {
				return err
			}
		}
	}
	return nil
}

// family names the metric family a series belongs to: a histogram's
// _bucket, _count and _sum belong to the histogram.
func family(contract []model.Metric, name string) string {
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if m, found := metric(contract, base); found && m.Type == model.Histogram {
				return base
			}
		}
	}
	return name
}

func metric(contract []model.Metric, name string) (model.Metric, bool) {
	for _, m := range contract {
		if m.Name == name {
			return m, true
		}
	}
	return model.Metric{}, false
}

// series renders name{label="value",...}.
func series(l labels.Labels) string {
	var b strings.Builder
	b.WriteString(l.Get(prommodel.MetricNameLabel))
	sep := "{"
	l.Range(func(lb labels.Label) {
		if lb.Name == prommodel.MetricNameLabel {
			return
		}
		b.WriteString(sep + lb.Name + `="` + escapeValue(lb.Value) + `"`)
		sep = ","
	})
	if sep == "," {
		b.WriteString("}")
	}
	return b.String()
}

var (
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeValue(s string) string { return valueEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
