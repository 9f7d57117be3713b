// Package costdata fills a TSDB with a month of series at a stated
// cardinality, for benchmarks that count the samples queries read. Values
// are cheap stand-ins: what a query reads depends on how many samples exist,
// not on their values.
package costdata

import (
	"context"
	"fmt"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
)

// Shape is the cardinality of TensorWasm's HTTP metrics.
type Shape struct {
	Routes, Methods, Statuses, Instances int
	// HistogramStatuses is how many statuses the latency histogram keeps.
	HistogramStatuses int
	Scrape            time.Duration
}

// String states the shape for benchmark output.
func (s Shape) String() string {
	return fmt.Sprintf("%d routes x %d methods x %d statuses x %d instances (histogram: %d statuses), scraped every %s",
		s.Routes, s.Methods, s.Statuses, s.Instances, s.HistogramStatuses, s.Scrape)
}

// Series is the number of raw series the shape makes.
func (s Shape) Series(buckets int) int {
	requests := s.Routes * s.Methods * s.Statuses * s.Instances
	histogram := s.Routes * s.Methods * s.HistogramStatuses * s.Instances * (buckets + 3)
	return requests + histogram
}

// Fill writes raw TensorWasm HTTP series from start to end at the shape's
// scrape interval, and every series the rule groups record at their
// group's interval, as if the rules had run the whole time.
func Fill(db storage.Appendable, svc *model.Service, groups []rulefmt.RuleGroup, shape Shape, start, end time.Time) error {
	raw := rawSeries(svc, shape)
	type recording struct {
		every time.Duration
		l     labels.Labels
	}
	var recs []recording
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			b := labels.NewBuilder(labels.FromMap(r.Labels))
			b.Set(prommodel.MetricNameLabel, r.Record)
			recs = append(recs, recording{every: time.Duration(g.Interval), l: b.Labels()})
		}
	}
	app := db.Appender(context.Background())
	n := 0
	for t := start; t.Before(end); t = t.Add(shape.Scrape) {
		ts := t.UnixMilli()
		for i, l := range raw {
			if _, err := app.Append(0, l, ts, float64(n*(i%97+1))); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if t.Sub(start)%r.every == 0 {
				if _, err := app.Append(0, r.l, ts, 0.5); err != nil {
					return err
				}
			}
		}
		if n++; n%100 == 0 {
			if err := app.Commit(); err != nil {
				return err
			}
			app = db.Appender(context.Background())
		}
	}
	return app.Commit()
}

// rawSeries lists the request counter and latency histogram series.
func rawSeries(svc *model.Service, s Shape) []labels.Labels {
	var out []labels.Labels
	hist, _ := svc.Metric(catalog.HTTPRequestDuration)
	for r := range s.Routes {
		for m := range s.Methods {
			for i := range s.Instances {
				common := []string{"job", svc.Selector["job"], "instance", fmt.Sprintf("host-%d:9464", i),
					"method", fmt.Sprintf("M%d", m), "route", fmt.Sprintf("/route-%d", r)}
				for st := range s.Statuses {
					out = append(out, labels.FromStrings(append(common, prommodel.MetricNameLabel, catalog.HTTPRequests, "status", status(st))...))
				}
				for st := range s.HistogramStatuses {
					with := append(common, "status", status(st))
					for _, b := range hist.Buckets {
						out = append(out, labels.FromStrings(append(with, prommodel.MetricNameLabel, model.BucketSeries(hist.Name), "le", model.Decimal(b))...))
					}
					out = append(out,
						labels.FromStrings(append(with, prommodel.MetricNameLabel, model.BucketSeries(hist.Name), "le", "+Inf")...),
						labels.FromStrings(append(with, prommodel.MetricNameLabel, model.CountSeries(hist.Name))...),
						labels.FromStrings(append(with, prommodel.MetricNameLabel, model.SumSeries(hist.Name))...))
				}
			}
		}
	}
	return out
}

// status spreads statuses over 2xx to 5xx: 200, 250, ..., 550.
func status(i int) string { return fmt.Sprintf("%d", 200+i*50) }
