// Package sim produces synthetic, deterministic metrics for a service: a
// traffic profile, a baseline error ratio, per-route latency and incidents.
// Counts are exact real numbers integrated in steps of at most Resolution
// (no sampling noise), so a test can compare what the rules record with the
// true ratio of the simulated counters, and two runs of a scenario are
// identical.
package sim

import (
	"math"
	"time"
)

// Resolution is the longest step over which rates are integrated, at the
// step's midpoint. Incidents that start and end on multiples of it are
// integrated exactly.
const Resolution = 15 * time.Second

// steps calls f for consecutive steps from `from` to `to`, each at most
// Resolution long, with the step's midpoint (since start) and length in
// seconds.
func steps(start, from, to time.Time, f func(mid time.Duration, seconds float64)) {
	for t := from; t.Before(to); {
		next := t.Add(Resolution)
		if next.After(to) {
			next = to
		}
		d := next.Sub(t)
		f(t.Sub(start)+d/2, d.Seconds())
		t = next
	}
}

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

// Incident degrades the service for a while: a fraction of requests fail,
// a fraction are very slow (slower than every histogram bucket), latency is
// multiplied, snapshot work slows down. Routes limits it to some routes
// (empty: all).
type Incident struct {
	Start, Duration time.Duration
	ErrorRatio      float64
	SlowRatio       float64
	LatencyFactor   float64
	SnapshotFactor  float64
	Routes          []string
}

// slowLatency is how long the requests of a SlowRatio take, in seconds:
// beyond any bucket a latency histogram is likely to have.
const slowLatency = 60.0

func (in Incident) active(t time.Duration) bool { return t >= in.Start && t < in.Start+in.Duration }

func (in Incident) covers(route string) bool {
	if len(in.Routes) == 0 {
		return true
	}
	for _, r := range in.Routes {
		if r == route {
			return true
		}
	}
	return false
}

// LogNormal is a latency distribution by its median and spread (sigma of
// the log); its CDF turns request counts into histogram bucket counts.
type LogNormal struct{ Median, Sigma float64 }

// Below is the fraction of observations at or below v seconds.
func (d LogNormal) Below(v float64) float64 {
	if v <= 0 {
		return 0
	}
	return 0.5 * math.Erfc(-(math.Log(v)-math.Log(d.Median))/(d.Sigma*math.Sqrt2))
}

// Mean is the distribution's mean, for the histogram's _sum.
func (d LogNormal) Mean() float64 { return d.Median * math.Exp(d.Sigma*d.Sigma/2) }

func (d LogNormal) scaled(f float64) LogNormal {
	if f <= 0 {
		return d
	}
	return LogNormal{Median: d.Median * f, Sigma: d.Sigma}
}
