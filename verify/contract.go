package verify

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/ruleset"
)

// contract checks the series the rules read and, with a spec, the whole
// metric contract: every metric has series for its service's selector,
// every required label is on every series, every bucket bound a rule
// selects exists, and the scrape interval fits the evaluation interval.
func contract(ctx context.Context, cfg Config, r *Report) error {
	p := cfg.Prometheus
	count := func(sel string) (float64, error) {
		v, err := p.Query(ctx, "count("+sel+")", cfg.Now)
		if err != nil || len(v) == 0 {
			return 0, err
		}
		return v[0].Value, nil
	}
	checked := map[string]bool{}
	// Every metric the rules read, with the matchers all its reads share.
	for _, sel := range ruleset.Fetch(cfg.Set) {
		n, err := count(sel)
		if err != nil {
			return err
		}
		checked[sel] = true
		if n == 0 && strings.HasPrefix(sel, model.UpSeries+"{") {
			// up is written by the scraping Prometheus; without it (remote
			// write, backfilled history) SLOUnmeasured judges by the SLI's
			// series alone.
			r.note("%s: no series: this Prometheus does not scrape the service; SLOUnmeasured watches the SLI's series only", sel)
			continue
		}
		if n == 0 {
			r.find(CheckContract, sel, "no series: the rules read this metric, but Prometheus holds none for this selector (renamed? wrong job label?)")
			continue
		}
		r.note("%s: %.0f series", sel, n)
		if err := scrapeInterval(ctx, cfg, r, sel); err != nil {
			return err
		}
	}
	// Every bucket bound a rule selects must be in the data.
	for _, sel := range cfg.Set.RawSelectors() {
		le := ""
		var others []*labels.Matcher
		for _, m := range matchers(sel) {
			if m.Name == "le" {
				le = m.String()
			} else if m.Type == labels.MatchEqual {
				others = append(others, m)
			}
		}
		if le == "" {
			continue
		}
		base := (&parser.VectorSelector{Name: sel.Metric, LabelMatchers: others}).String()
		n, err := count(sel.String())
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		bounds, err := p.Query(ctx, "count by (le) ("+base+")", cfg.Now)
		if err != nil {
			return err
		}
		if len(bounds) == 0 {
			continue // the metric itself is missing: reported above
		}
		r.find(CheckContract, sel.String(), "%s is not a bucket bound of %s: the data has %s", le, base, bucketList(bounds))
	}
	if cfg.Set.Spec == nil {
		return nil
	}
	for _, svc := range cfg.Set.Spec.Services {
		selector := svc.Selector
		for _, m := range svc.Metrics {
			name := m.Name
			if m.Type == model.Histogram {
				name = model.BucketSeries(m.Name)
			}
			sel := name + selectorText(selector)
			if !checked[sel] {
				n, err := count(sel)
				if err != nil {
					return err
				}
				if n == 0 {
					r.find(CheckContract, sel, "no series: metric %s of service %s's contract is missing", name, svc.Name)
					continue
				}
				r.note("%s: %.0f series", sel, n)
			}
			for _, l := range m.Labels {
				n, err := count(fmt.Sprintf("%s{%s%s=\"\"}", name, selectorInner(selector), l))
				if err != nil {
					return err
				}
				if n > 0 {
					r.find(CheckContract, sel, "%.0f series lack the label %q the contract requires", n, l)
				}
			}
		}
		for _, o := range svc.SLOs {
			if o.SLI.Latency == nil || o.SLI.Latency.Native {
				continue // a native histogram takes any threshold
			}
			lat := o.SLI.Latency
			sel := model.BucketSeries(lat.Metric) + selectorText(selector)
			bounds, err := p.Query(ctx, "count by (le) ("+sel+")", cfg.Now)
			if err != nil {
				return err
			}
			if len(bounds) == 0 {
				continue
			}
			found := false
			for _, b := range bounds {
				if v, err := strconv.ParseFloat(b.Metric["le"], 64); err == nil && v == lat.Threshold {
					found = true
				}
			}
			if !found {
				r.find(CheckContract, svc.Name+"/"+o.Name, "latency threshold %s is not a bucket bound of %s: the data has %s", model.Decimal(lat.Threshold), sel, bucketList(bounds))
			}
		}
	}
	return nil
}

func matchers(sel ruleset.Selector) []*labels.Matcher {
	expr, err := model.ParseExpr(sel.String())
	if err != nil {
		return nil
	}
	if vs, ok := expr.(*parser.VectorSelector); ok {
		return vs.LabelMatchers
	}
	return nil
}

func selectorInner(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, sel[k])
	}
	return b.String()
}

func selectorText(sel map[string]string) string {
	return "{" + strings.TrimSuffix(selectorInner(sel), ",") + "}"
}

func bucketList(bounds []promapi.Element) string {
	var les []float64
	inf := false
	for _, b := range bounds {
		v, err := strconv.ParseFloat(b.Metric["le"], 64)
		if err != nil {
			continue
		}
		if math.IsInf(v, 1) {
			inf = true
			continue
		}
		les = append(les, v)
	}
	sort.Float64s(les)
	var out []string
	for _, v := range les {
		out = append(out, model.Decimal(v))
	}
	if inf {
		out = append(out, "+Inf")
	}
	return "le " + strings.Join(out, ", ")
}

// scrapeWindow is how much recent history the scrape-interval estimate
// reads.
const scrapeWindow = 5 * time.Minute

// scrapeInterval estimates the scrape interval from the median gap between
// recent samples of the selector's series, and checks that the shortest
// evaluation interval gets a fresh sample each time: the rules count
// events per evaluation interval and bridge gaps of at most 2m.
func scrapeInterval(ctx context.Context, cfg Config, r *Report, sel string) error {
	var gaps []int64
	err := cfg.Prometheus.Raw(ctx, sel, cfg.Now, scrapeWindow, func(_ labels.Labels, s []promapi.Sample) error {
		for i := 1; i < len(s); i++ {
			gaps = append(gaps, s[i].T-s[i-1].T)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(gaps) == 0 {
		r.note("%s: too few samples in the last %s to estimate the scrape interval", sel, scrapeWindow)
		return nil
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	scrape := time.Duration(gaps[len(gaps)/2]) * time.Millisecond
	shortest, _ := cfg.Set.Intervals()
	r.note("%s: scraped every %s", sel, scrape)
	if scrape > shortest || scrape >= 2*time.Minute {
		r.find(CheckScrape, sel, "scraped every %s, but the rules evaluate every %s and bridge gaps of at most 2m: scrape at least every %s", scrape, shortest, shortest)
	}
	return nil
}
