package sim

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/catalog"
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

// TensorWasm simulates TensorWasm's whole metric contract on one instance:
// /invoke takes most traffic and about 120 ms, /healthz is probed and takes
// about 2 ms, snapshots run at a tenth of the request rate.
func TensorWasm(start time.Time, traffic Profile, incidents ...Incident) *Scenario {
	spec := catalog.TensorWasm()
	svc := &spec.Services[0]
	common := map[string]string{"job": svc.Selector["job"], "instance": "tensor-wasm-0:9464"}
	buckets := func(name string) []float64 {
		m, _ := svc.Metric(name)
		return m.Buckets
	}
	return &Scenario{
		HTTP: &HTTP{
			Requests: catalog.HTTPRequests, Duration: catalog.HTTPRequestDuration,
			Buckets: buckets(catalog.HTTPRequestDuration), RouteLabel: "route", Labels: common,
			Routes: []Route{
				{Path: "/invoke", Method: "POST", Share: 0.9, Latency: LogNormal{Median: 0.12, Sigma: 0.6}},
				{Path: "/healthz", Method: "GET", Share: 0.1, Latency: LogNormal{Median: 0.002, Sigma: 0.4}},
			},
			Traffic: traffic, Incidents: incidents, Start: start,
		},
		Snapshots: &Snapshots{
			Duration: catalog.SnapshotDuration, Failures: catalog.SnapshotFailures,
			Buckets: buckets(catalog.SnapshotDuration), Labels: common,
			Rate:    func(t time.Duration) float64 { return traffic(t) / 10 },
			Latency: map[string]LogNormal{"capture": {Median: 0.4, Sigma: 0.5}, "restore": {Median: 0.25, Sigma: 0.5}},
			Timeout: 10, Incidents: incidents, Start: start,
		},
		Instances: &Instances{
			Active: catalog.ActiveInstances, Terminations: catalog.InstanceTerminations, Labels: common,
			Tenants: []string{"acme", "globex", "initech"}, PerRequest: 0.5, Traffic: traffic, Start: start,
		},
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
