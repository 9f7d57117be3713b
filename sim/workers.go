package sim

import (
	"strings"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/model"
)

// Snapshots simulates snapshot capture and restore: a duration histogram by
// operation and a failure counter by operation and reason. Slowness from an
// incident (SnapshotFactor) both lengthens snapshots and makes the ones that
// pass Timeout fail as timeouts.
type Snapshots struct {
	Duration, Failures string
	Buckets            []float64
	Labels             map[string]string
	// Rate is snapshot operations per second, split evenly by operation.
	Rate      Profile
	Latency   map[string]LogNormal // by op
	Timeout   float64              // seconds
	Incidents []Incident
	Start     time.Time

	last   time.Time
	ops    map[string]*histCounts
	errs   map[string]float64         // op -> timeouts
	series map[string][]labels.Labels // op -> buckets, +Inf, count, sum, timeouts, errors
}

type histCounts struct {
	count, sum float64
	buckets    []float64
}

// Ops lists the operations simulated, in a fixed order.
var snapshotOps = []string{"capture", "restore"}

func (s *Snapshots) factor(t time.Duration) float64 {
	f := 1.0
	for _, in := range s.Incidents {
		if in.active(t) && in.SnapshotFactor > f {
			f = in.SnapshotFactor
		}
	}
	return f
}

// Scrape advances the snapshot metrics to now and reports every series.
func (s *Snapshots) Scrape(now time.Time, add func(labels.Labels, float64)) {
	if s.ops == nil {
		s.ops, s.errs = map[string]*histCounts{}, map[string]float64{}
		for _, op := range snapshotOps {
			s.ops[op] = &histCounts{buckets: make([]float64, len(s.Buckets))}
		}
	}
	if s.last.IsZero() {
		s.last = now
	}
	steps(s.Start, s.last, now, func(at time.Duration, seconds float64) {
		n := s.Rate(at) * seconds / float64(len(snapshotOps))
		f := s.factor(at)
		for _, op := range snapshotOps {
			d := s.Latency[op].scaled(f)
			h := s.ops[op]
			h.count += n
			h.sum += n * d.Mean()
			for i, b := range s.Buckets {
				h.buckets[i] += n * d.Below(b)
			}
			s.errs[op] += n * (1 - d.Below(s.Timeout))
		}
	})
	s.last = now
	if s.series == nil {
		s.series = map[string][]labels.Labels{}
		for _, op := range snapshotOps {
			var ls []labels.Labels
			for _, b := range s.Buckets {
				ls = append(ls, series(model.BucketSeries(s.Duration), s.Labels, "op", op, "le", model.Decimal(b)))
			}
			s.series[op] = append(ls,
				series(model.BucketSeries(s.Duration), s.Labels, "op", op, "le", "+Inf"),
				series(model.CountSeries(s.Duration), s.Labels, "op", op),
				series(model.SumSeries(s.Duration), s.Labels, "op", op),
				series(s.Failures, s.Labels, "op", op, "reason", "timeout"),
				series(s.Failures, s.Labels, "op", op, "reason", "error"))
		}
	}
	for _, op := range snapshotOps {
		h, ls := s.ops[op], s.series[op]
		n := len(s.Buckets)
		for i := range s.Buckets {
			add(ls[i], h.buckets[i])
		}
		add(ls[n], h.count)
		add(ls[n+1], h.count)
		add(ls[n+2], h.sum)
		add(ls[n+3], s.errs[op])
		add(ls[n+4], 0)
	}
}

// Instances simulates the guest instances: a gauge of those alive, which
// follows traffic, and a termination counter by tenant and reason.
type Instances struct {
	Active, Terminations string
	Labels               map[string]string
	Tenants              []string
	// PerRequest is instances alive per request per second.
	PerRequest float64
	Traffic    Profile
	Start      time.Time

	last   time.Time
	ended  map[string]float64
	labels labelCache
}

// Scrape advances the instance metrics to now and reports every series.
func (s *Instances) Scrape(now time.Time, add func(labels.Labels, float64)) {
	if s.ended == nil {
		s.ended = map[string]float64{}
	}
	if s.last.IsZero() {
		s.last = now
	}
	steps(s.Start, s.last, now, func(at time.Duration, seconds float64) {
		// Each request ends one instance; tenants take shares 1, 1/2, 1/3...
		rate := s.Traffic(at) * seconds
		norm := 0.0
		for i := range s.Tenants {
			norm += 1 / float64(i+1)
		}
		for i, tenant := range s.Tenants {
			s.ended[tenant] += rate / float64(i+1) / norm
		}
	})
	s.last = now
	add(s.labels.get(s.Active, s.Labels), s.PerRequest*s.Traffic(now.Sub(s.Start)))
	for _, tenant := range s.Tenants {
		add(s.labels.get(s.Terminations, s.Labels, "tenant", tenant, "reason", "completed"), s.ended[tenant])
	}
}

// labelCache keeps the label sets a source reports, built once.
type labelCache map[string]labels.Labels

// get returns the labels of a series: name, common labels, then pairs.
func (c *labelCache) get(name string, common map[string]string, pairs ...string) labels.Labels {
	key := name + "\xff" + strings.Join(pairs, "\xff")
	if l, ok := (*c)[key]; ok {
		return l
	}
	if *c == nil {
		*c = labelCache{}
	}
	l := series(name, common, pairs...)
	(*c)[key] = l
	return l
}

// series builds a series' labels: name, common labels, then pairs.
func series(name string, common map[string]string, pairs ...string) labels.Labels {
	m := map[string]string{prommodel.MetricNameLabel: name}
	for k, v := range common {
		m[k] = v
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return labels.FromMap(m)
}
