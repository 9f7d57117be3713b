// Package catalog holds the built-in specs: TensorWasm's, the zero-config
// default of the generator.
package catalog

import (
	"time"

	"github.com/tensorwasm/obsbundle/model"
)

// TensorWasmVersion is the version of the built-in TensorWasm bundle.
const TensorWasmVersion = "1.0.0"

// TensorWasm metric names: the service's metric contract. The first three
// are named by the service's runbooks; the snapshot and termination names are
// this project's choice (see docs/tensorwasm.md).
const (
	HTTPRequests         = "tensor_wasm_http_requests_total"
	HTTPRequestDuration  = "tensor_wasm_http_request_duration_seconds"
	ActiveInstances      = "tensor_wasm_active_instances"
	SnapshotDuration     = "tensor_wasm_snapshot_duration_seconds"
	SnapshotFailures     = "tensor_wasm_snapshot_failures_total"
	InstanceTerminations = "tensor_wasm_instance_terminations_total"
)

func minutes(n int) model.Duration { return model.Duration(time.Duration(n) * time.Minute) }
func hours(n int) model.Duration   { return model.Duration(time.Duration(n) * time.Hour) }

// httpLabels are the labels of both HTTP metrics; tenant is on its way
// upstream, so queries may use it but never rely on it.
var (
	httpLabels         = []string{"route", "method", "status"}
	httpOptionalLabels = []string{"tenant"}
)

// TensorWasm returns TensorWasm's spec: its metric contract, SLOs and alerts
// as its runbooks describe them. Defaults are applied.
func TensorWasm() model.Spec {
	s := model.Spec{
		Name:    "tensor-wasm",
		Version: TensorWasmVersion,
		Services: []model.Service{{
			Name:           "tensor-wasm",
			Title:          "TensorWasm",
			Description:    "HTTP API that runs tenants' WebAssembly guests for tensor workloads.",
			Selector:       map[string]string{"job": "tensor-wasm"},
			RouteLabel:     "route",
			RunbookBaseURL: "https://runbooks.tensorwasm.dev/alerts",
			GrafanaURL:     "http://localhost:3000",
			Metrics:        tensorWasmMetrics(),
			SLOs:           tensorWasmSLOs(),
			Alerts:         tensorWasmAlerts(),
		}},
	}
	s.SetDefaults()
	return s
}

func tensorWasmMetrics() []model.Metric {
	return []model.Metric{
		{Name: HTTPRequests, Type: model.Counter, Title: "HTTP requests", Row: "HTTP traffic", Help: "HTTP requests served, by route, method and status code.",
			Labels: httpLabels, OptionalLabels: httpOptionalLabels},
		{Name: HTTPRequestDuration, Type: model.Histogram, Title: "HTTP latency", Row: "HTTP latency", Help: "HTTP request latency in seconds.",
			Labels: httpLabels, OptionalLabels: httpOptionalLabels,
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}},
		{Name: SnapshotDuration, Type: model.Histogram, Title: "Snapshot duration", Row: "Snapshots",
			Help:    "Snapshot capture and restore time in seconds.",
			Labels:  []string{"op"},
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}},
		{Name: SnapshotFailures, Type: model.Counter, Title: "Snapshot failures", Row: "Snapshots",
			Help:   "Snapshot operations that failed, by operation and reason (error or timeout).",
			Labels: []string{"op", "reason"}},
		{Name: ActiveInstances, Type: model.Gauge, Title: "Active instances", Row: "Instances",
			Help: "Guest instances currently alive; a very high count that does not drain hints at engine churn."},
		{Name: InstanceTerminations, Type: model.Counter, Title: "Instance terminations", Row: "Instances",
			Help:   "Guest instances terminated, by tenant and reason.",
			Labels: []string{"tenant", "reason"}},
	}
}

func tensorWasmSLOs() []model.SLO {
	return []model.SLO{
		{
			Name:        "availability_http",
			Description: "99.5% of HTTP requests succeed over a rolling 30 days; 5xx are failures, 4xx are the caller's.",
			Objective:   0.995,
			SLI: model.SLI{Events: &model.EventRatio{
				Metric: HTTPRequests,
				Bad:    `status=~"5.."`,
			}},
			Tiers: []model.Tier{
				{Name: "fast", Alert: "availability-fast-burn", Severity: model.Page, Long: hours(1), Short: minutes(5), Factor: 14.4},
				{Name: "slow", Alert: "availability-slow-burn", Severity: model.Page, Long: hours(6), Short: minutes(30), Factor: 6},
				{Name: "very-slow", Alert: "availability-very-slow-burn", Severity: model.Ticket, Long: hours(72), Short: hours(6), Factor: 1},
			},
		},
		{
			Name:        "latency_http_invoke",
			Description: "99% of POST /invoke requests complete within 1 s over a rolling 30 days.",
			Objective:   0.99,
			SLI: model.SLI{Latency: &model.Latency{
				Metric:    HTTPRequestDuration,
				Matchers:  `route="/invoke",method="POST"`,
				Threshold: 1,
			}},
			// The runbooks name the page; slower burns (8% or 2% of requests
			// slow) file tickets rather than go unseen.
			Tiers: []model.Tier{
				{Name: "fast", Alert: "invoke-latency-spike", Severity: model.Page, Long: hours(1), Short: minutes(5), Factor: 14.4},
				{Name: "slow", Alert: "invoke-latency-slow-burn", Severity: model.Ticket, Long: hours(6), Short: minutes(30), Factor: 6},
				{Name: "very-slow", Alert: "invoke-latency-very-slow-burn", Severity: model.Ticket, Long: hours(72), Short: hours(6), Factor: 1},
			},
		},
		{
			Name:        "latency_http_healthz_P95",
			Description: "95% of GET /healthz requests complete within 10 ms (P95 below 10 ms); alerted by healthz-slow.",
			Objective:   0.95,
			SLI: model.SLI{Latency: &model.Latency{
				Metric:    HTTPRequestDuration,
				Matchers:  `route="/healthz",method="GET"`,
				Threshold: 0.01,
			}},
			// The P95 ticket (healthz-slow) files slowness; this page is for
			// a host in trouble: most probes slow for most of an hour.
			Tiers: []model.Tier{
				{Name: "severe", Alert: "healthz-severe-slowdown", Severity: model.Page, Long: hours(1), Short: minutes(5), Factor: 14.4},
			},
		},
	}
}

func tensorWasmAlerts() []model.ThresholdAlert {
	return []model.ThresholdAlert{{
		Alert:    "healthz-slow",
		Severity: model.Ticket,
		Summary:  "P95 latency of GET /healthz is above 10 ms.",
		Quantile: &model.QuantileOver{
			Metric:   HTTPRequestDuration,
			Matchers: `route="/healthz",method="GET"`,
			Quantile: 0.95,
			Window:   minutes(30),
		},
		Above: 0.01,
	}}
}
