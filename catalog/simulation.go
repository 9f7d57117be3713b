package catalog

import (
	"time"

	"github.com/tensorwasm/obsbundle/sim"
)

// Simulation simulates TensorWasm's whole metric contract on one instance:
// /invoke takes most traffic and about 120 ms, /healthz is probed and takes
// about 2 ms, snapshots run at a tenth of the request rate.
func Simulation(start time.Time, traffic sim.Profile, incidents ...sim.Incident) *sim.Scenario {
	spec := TensorWasm()
	svc := &spec.Services[0]
	common := map[string]string{"job": svc.Selector["job"], "instance": "tensor-wasm-0:9464"}
	buckets := func(name string) []float64 {
		m, _ := svc.Metric(name)
		return m.Buckets
	}
	return &sim.Scenario{
		HTTP: &sim.HTTP{
			Requests: HTTPRequests, Duration: HTTPRequestDuration,
			Buckets: buckets(HTTPRequestDuration), RouteLabel: "route", Labels: common,
			Routes: []sim.Route{
				{Path: "/invoke", Method: "POST", Share: 0.9, Latency: sim.LogNormal{Median: 0.12, Sigma: 0.6}},
				{Path: "/healthz", Method: "GET", Share: 0.1, Latency: sim.LogNormal{Median: 0.002, Sigma: 0.4}},
			},
			Traffic: traffic, Incidents: incidents, Start: start,
		},
		Snapshots: &sim.Snapshots{
			Duration: SnapshotDuration, Failures: SnapshotFailures,
			Buckets: buckets(SnapshotDuration), Labels: common,
			Rate:    func(t time.Duration) float64 { return traffic(t) / 10 },
			Latency: map[string]sim.LogNormal{"capture": {Median: 0.4, Sigma: 0.5}, "restore": {Median: 0.25, Sigma: 0.5}},
			Timeout: 10, Incidents: incidents, Start: start,
		},
		Instances: &sim.Instances{
			Active: ActiveInstances, Terminations: InstanceTerminations, Labels: common,
			Tenants: []string{"acme", "globex", "initech"}, PerRequest: 0.5, Traffic: traffic, Start: start,
		},
	}
}
