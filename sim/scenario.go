package sim

import (
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
)

// Scenario is a set of simulated metric sources scraped together.
type Scenario struct {
	HTTP      *HTTP
	Snapshots *Snapshots
	Instances *Instances
}

// Scrape reports every source's series at now.
func (s *Scenario) Scrape(now time.Time, add func(labels.Labels, float64)) {
	if s.HTTP != nil {
		s.HTTP.Scrape(now, add)
	}
	if s.Snapshots != nil {
		s.Snapshots.Scrape(now, add)
	}
	if s.Instances != nil {
		s.Instances.Scrape(now, add)
	}
}

// NativeHistograms reports the native histograms of every source that keeps
// them, as they stand after the last Scrape.
func (s *Scenario) NativeHistograms(add func(labels.Labels, *histogram.FloatHistogram)) {
	if s.HTTP != nil {
		s.HTTP.NativeHistograms(add)
	}
}

// AddIncident starts an incident on every source it can affect.
func (s *Scenario) AddIncident(in Incident) {
	if s.HTTP != nil {
		s.HTTP.Incidents = append(s.HTTP.Incidents, in)
	}
	if s.Snapshots != nil {
		s.Snapshots.Incidents = append(s.Snapshots.Incidents, in)
	}
}

// EndIncidents stops, at t since the start, every incident still under way.
func (s *Scenario) EndIncidents(t time.Duration) {
	end := func(ins []Incident) {
		for i := range ins {
			if ins[i].active(t) {
				ins[i].Duration = t - ins[i].Start
			}
		}
	}
	if s.HTTP != nil {
		end(s.HTTP.Incidents)
	}
	if s.Snapshots != nil {
		end(s.Snapshots.Incidents)
	}
}

// Incidents lists the incidents of the scenario.
func (s *Scenario) Incidents() []Incident {
	if s.HTTP == nil {
		return nil
	}
	return append([]Incident{}, s.HTTP.Incidents...)
}
