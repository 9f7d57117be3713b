// Package sim produces synthetic, deterministic traffic for a service's
// request counter: a traffic profile, a baseline error ratio and incidents.
// Counts are exact real numbers (no sampling noise), so a test can compare
// what the rules record with the true ratio of the simulated counters.
package sim

import (
	"math"
	"sort"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Profile is a request rate, per second, at a time since the start.
type Profile func(t time.Duration) float64

// Constant is a steady request rate.
func Constant(rps float64) Profile { return func(time.Duration) float64 { return rps } }

// Diurnal swings smoothly once a day between peak (at 14:00) and peak/swing
// (at 02:00): the day-and-night traffic of a service with users.
func Diurnal(peak, swing float64) Profile {
	trough := peak / swing
	return func(t time.Duration) float64 {
		phase := 2 * math.Pi * (t.Hours() - 14) / 24
		return trough + (peak-trough)*(1+math.Cos(phase))/2
	}
}

// Incident makes a fraction of requests fail for a while.
type Incident struct {
	Start, Duration time.Duration
	ErrorRatio      float64
}

// Requests simulates one request counter split into good and bad series.
type Requests struct {
	// Metric is the counter's name; Labels are on every series (job, route...).
	Metric string
	Labels map[string]string
	// StatusLabel, Good and Bad name the status label and its values.
	StatusLabel, Good, Bad string
	Traffic                Profile
	// ErrorRatio is the baseline fraction of failing requests (nil: none).
	ErrorRatio func(t time.Duration) float64
	Incidents  []Incident
	// Start is time zero of the profile.
	Start time.Time

	last      time.Time
	good, bad float64
}

// ErrorRatioAt is the fraction of requests failing at t: the baseline, or
// the worst incident under way.
func (r *Requests) ErrorRatioAt(t time.Duration) float64 {
	e := 0.0
	if r.ErrorRatio != nil {
		e = r.ErrorRatio(t)
	}
	for _, in := range r.Incidents {
		if t >= in.Start && t < in.Start+in.Duration {
			e = math.Max(e, in.ErrorRatio)
		}
	}
	return e
}

// Counts returns the cumulative good and bad requests up to now.
func (r *Requests) Counts() (good, bad float64) { return r.good, r.bad }

// Scrape advances the counters to now (integrating the rates at one-second
// steps) and reports both series.
func (r *Requests) Scrape(now time.Time, add func(labels.Labels, float64)) {
	if r.last.IsZero() {
		r.last = now
	}
	for t := r.last; t.Before(now); t = t.Add(time.Second) {
		at := t.Sub(r.Start) + time.Second/2
		rate := r.Traffic(at)
		e := r.ErrorRatioAt(at)
		r.good += rate * (1 - e)
		r.bad += rate * e
	}
	r.last = now
	add(r.series(r.Good), r.good)
	add(r.series(r.Bad), r.bad)
}

func (r *Requests) series(status string) labels.Labels {
	m := map[string]string{prommodel.MetricNameLabel: r.Metric, r.StatusLabel: status}
	keys := make([]string, 0, len(r.Labels))
	for k := range r.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m[k] = r.Labels[k]
	}
	return labels.FromMap(m)
}
