package sim

import (
	"math"
	"math/rand/v2"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/model"
)

// Route is one route of an HTTP service and its share of the traffic.
type Route struct {
	Path, Method string
	Share        float64
	Latency      LogNormal
}

// HTTP simulates an HTTP service's request counter and, optionally, its
// latency histogram, split by route, method and status.
type HTTP struct {
	Requests string // counter name
	// Successes and Failures, when set, name counters of the successful
	// and of the failed requests alone, with the same labels: the second
	// counter an SLI reads its good or bad events from.
	Successes, Failures string
	Duration            string // histogram base name ("" for none)
	Buckets             []float64
	// RouteLabel names the route label (route, endpoint, ...); StatusLabel
	// the status code's (default "status").
	RouteLabel, StatusLabel string
	// Labels are on every series (job, instance...).
	Labels  map[string]string
	Routes  []Route
	Traffic Profile
	// ErrorRatio is the baseline fraction of failing requests (nil: none).
	ErrorRatio func(t time.Duration) float64
	Incidents  []Incident
	Start      time.Time
	// Seed, when non-zero, draws request counts from a Poisson distribution
	// around the profile (seeded, so runs repeat); zero means exact counts.
	Seed uint64
	// Native also keeps the latency histogram as a native histogram
	// (NativeHistograms), beside its classic buckets.
	Native bool

	last   time.Time
	counts map[string]*httpCounts // by route key
	rng    *rand.Rand
}

// Status codes the simulation reports.
const (
	StatusOK    = "200"
	StatusError = "500"
)

type httpCounts struct {
	good, bad    float64
	sumGood      float64
	sumBad       float64
	bucketsGood  []float64
	bucketsBad   []float64
	nativeGood   []float64
	nativeBad    []float64
	goodL, badL  labels.Labels
	successL     labels.Labels // Successes' series
	failureL     labels.Labels // Failures'
	bucketLabels [2][]labels.Labels
	countL, sumL [2]labels.Labels
}

// ErrorRatioAt is the fraction of requests to route failing at t: the
// baseline, or the worst incident under way.
func (h *HTTP) ErrorRatioAt(route string, t time.Duration) float64 {
	e := 0.0
	if h.ErrorRatio != nil {
		e = h.ErrorRatio(t)
	}
	for _, in := range h.Incidents {
		if in.active(t) && in.covers(route) && in.ErrorRatio > e {
			e = in.ErrorRatio
		}
	}
	return e
}

// SlowRatioAt is the fraction of requests to route that are very slow at t.
func (h *HTTP) SlowRatioAt(route string, t time.Duration) float64 {
	s := 0.0
	for _, in := range h.Incidents {
		if in.active(t) && in.covers(route) && in.SlowRatio > s {
			s = in.SlowRatio
		}
	}
	return s
}

func (h *HTTP) latencyAt(r Route, t time.Duration) LogNormal {
	d := r.Latency
	for _, in := range h.Incidents {
		if in.active(t) && in.covers(r.Path) {
			d = d.scaled(in.LatencyFactor)
		}
	}
	return d
}

// Counts returns the cumulative good and bad requests over all routes.
func (h *HTTP) Counts() (good, bad float64) {
	for _, c := range h.counts {
		good += c.good
		bad += c.bad
	}
	return good, bad
}

// Scrape advances the counters to now and reports every series.
func (h *HTTP) Scrape(now time.Time, add func(labels.Labels, float64)) {
	if h.counts == nil {
		h.init()
	}
	if h.last.IsZero() {
		h.last = now
	}
	steps(h.Start, h.last, now, h.step)
	h.last = now
	for _, r := range h.Routes {
		c := h.counts[r.Path+" "+r.Method]
		add(c.goodL, c.good)
		add(c.badL, c.bad)
		if h.Successes != "" {
			add(c.successL, c.good)
		}
		if h.Failures != "" {
			add(c.failureL, c.bad)
		}
		if h.Duration == "" {
			continue
		}
		for s, obs := range [2]struct {
			count, sum float64
			buckets    []float64
		}{{c.good, c.sumGood, c.bucketsGood}, {c.bad, c.sumBad, c.bucketsBad}} {
			for i, l := range c.bucketLabels[s] {
				if i < len(obs.buckets) {
					add(l, obs.buckets[i])
				} else {
					add(l, obs.count) // +Inf
				}
			}
			add(c.countL[s], obs.count)
			add(c.sumL[s], obs.sum)
		}
	}
}

// step adds the traffic of `seconds` around t.
func (h *HTTP) step(t time.Duration, seconds float64) {
	total := h.Traffic(t) * seconds
	for _, r := range h.Routes {
		c := h.counts[r.Path+" "+r.Method]
		n := total * r.Share
		e := h.ErrorRatioAt(r.Path, t)
		good, bad := h.draw(n*(1-e)), h.draw(n*e)
		c.good += good
		c.bad += bad
		if h.Duration == "" {
			continue
		}
		d, slow := h.latencyAt(r, t), h.SlowRatioAt(r.Path, t)
		mean := (1-slow)*d.Mean() + slow*slowLatency
		c.sumGood += good * mean
		c.sumBad += bad * mean
		for i, b := range h.Buckets {
			f := (1 - slow) * d.Below(b)
			c.bucketsGood[i] += good * f
			c.bucketsBad[i] += bad * f
		}
		if h.Native {
			for i, f := range nativeShares(d, slow) {
				c.nativeGood[i] += good * f
				c.nativeBad[i] += bad * f
			}
		}
	}
}

// draw returns the number of requests expected, or a Poisson draw around
// it when the simulation is seeded.
func (h *HTTP) draw(expected float64) float64 {
	if h.Seed == 0 || expected <= 0 {
		return expected
	}
	if h.rng == nil {
		h.rng = rand.New(rand.NewPCG(h.Seed, h.Seed))
	}
	return float64(poisson(h.rng, expected))
}

// poisson draws from a Poisson distribution: by Knuth's method for small
// means, by a rounded normal approximation for large ones.
func poisson(rng *rand.Rand, mean float64) int {
	if mean > 50 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*rng.NormFloat64())))
	}
	limit, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

func (h *HTTP) init() {
	h.counts = map[string]*httpCounts{}
	for _, r := range h.Routes {
		base := map[string]string{h.RouteLabel: r.Path, "method": r.Method}
		for k, v := range h.Labels {
			base[k] = v
		}
		series := func(name, status string, extra ...string) labels.Labels {
			statusLabel := h.StatusLabel
			if statusLabel == "" {
				statusLabel = "status"
			}
			m := map[string]string{prommodel.MetricNameLabel: name, statusLabel: status}
			for k, v := range base {
				m[k] = v
			}
			for i := 0; i+1 < len(extra); i += 2 {
				m[extra[i]] = extra[i+1]
			}
			return labels.FromMap(m)
		}
		c := &httpCounts{
			goodL:       series(h.Requests, StatusOK),
			badL:        series(h.Requests, StatusError),
			successL:    series(h.Successes, StatusOK),
			failureL:    series(h.Failures, StatusError),
			bucketsGood: make([]float64, len(h.Buckets)),
			bucketsBad:  make([]float64, len(h.Buckets)),
		}
		if h.Native {
			c.nativeGood, c.nativeBad = make([]float64, nativeN), make([]float64, nativeN)
		}
		if h.Duration != "" {
			for s, status := range []string{StatusOK, StatusError} {
				for _, b := range h.Buckets {
					c.bucketLabels[s] = append(c.bucketLabels[s], series(model.BucketSeries(h.Duration), status, "le", model.Decimal(b)))
				}
				c.bucketLabels[s] = append(c.bucketLabels[s], series(model.BucketSeries(h.Duration), status, "le", "+Inf"))
				c.countL[s] = series(model.CountSeries(h.Duration), status)
				c.sumL[s] = series(model.SumSeries(h.Duration), status)
			}
		}
		h.counts[r.Path+" "+r.Method] = c
	}
}
