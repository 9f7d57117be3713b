// Package model is the one typed description of services, their metric
// contracts, SLOs and alerts. Every artefact of a bundle (rules, dashboards,
// routing, reports) is a pure function of a Spec, so they agree by
// construction.
package model

import "strings"

// Spec is everything one bundle is generated from.
type Spec struct {
	// Name names the bundle (its manifest and directory prefix).
	Name string `yaml:"name"`
	// Version is the bundle's semantic version (X.Y.Z).
	Version  string    `yaml:"version"`
	Services []Service `yaml:"services"`
}

// Service is one observed service: how to select its series, the metrics it
// promises to emit, and what is promised about it.
type Service struct {
	// Name is the service's short, stable identifier (lowercase, dashes);
	// it becomes the `service` label of every generated series and alert.
	Name        string `yaml:"name"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	// Selector holds equality matchers that every raw query of the service
	// carries, typically {job: ...}.
	Selector map[string]string `yaml:"selector"`
	// RouteLabel names the label that tells routes or endpoints apart
	// ("route"); dashboards split traffic by it and offer it as a variable.
	RouteLabel string `yaml:"routeLabel"`
	// EvaluationInterval is how often the rule groups run. It is also the
	// width of the base recordings, which therefore tile time exactly.
	EvaluationInterval Duration `yaml:"evaluationInterval"`
	// RunbookBaseURL is where `<alert>.md` runbooks live.
	RunbookBaseURL string `yaml:"runbookBaseURL"`
	// GrafanaURL is the base URL of the Grafana that shows the dashboards.
	GrafanaURL string           `yaml:"grafanaURL"`
	Metrics    []Metric         `yaml:"metrics"`
	SLOs       []SLO            `yaml:"slos"`
	Alerts     []ThresholdAlert `yaml:"alerts"`
}

// MetricType is the Prometheus type of a contract metric.
type MetricType string

// The metric types a contract may declare.
const (
	Counter   MetricType = "counter"
	Gauge     MetricType = "gauge"
	Histogram MetricType = "histogram"
)

// Metric is one entry of a service's metric contract.
type Metric struct {
	Name string     `yaml:"name"`
	Type MetricType `yaml:"type"`
	Help string     `yaml:"help"`
	// Title names the metric's panels ("Snapshot duration").
	Title string `yaml:"title"`
	// Row is the dashboard row of a metric no SLO reads ("Snapshots").
	Row string `yaml:"row"`
	// Labels are always present on the metric.
	Labels []string `yaml:"labels"`
	// OptionalLabels may be present (for example a tenant label that is
	// still being rolled out); queries may use them but never rely on them.
	OptionalLabels []string `yaml:"optionalLabels"`
	// Buckets are the histogram's upper bounds (without +Inf).
	Buckets []float64 `yaml:"buckets"`
}

// SLO is one service level objective.
type SLO struct {
	// Name is the SLO's identifier, the `slo` label of its series.
	Name        string  `yaml:"name"`
	Description string  `yaml:"description"`
	Objective   float64 `yaml:"objective"`
	// Period is the rolling compliance window (default 30d).
	Period Duration `yaml:"period"`
	SLI    SLI      `yaml:"sli"`
	Tiers  []Tier   `yaml:"tiers"`
	// MinEvents, when positive, silences a tier whose long window saw fewer
	// events than this, so a quiet service does not page on a single failure.
	MinEvents float64 `yaml:"minEvents"`
	// FreezeBelow is the error-budget policy: below this fraction of budget
	// remaining, non-rollback deploys stop (default 0.25).
	FreezeBelow float64 `yaml:"freezeBelow"`
	// Alerting chooses how tiers compare: error ratios (default) or bad
	// event counts against the budget measured over the period.
	Alerting AlertingMode `yaml:"alerting"`
	// Labels go on every rule of the SLO, recorded series and alerts
	// alike (owner, category), so existing routes and queries that select
	// on them keep working; an imported Sloth spec's labels land here.
	Labels map[string]string `yaml:"labels"`
}

// AlertingMode is how an SLO's tiers decide to fire.
type AlertingMode string

// The alerting modes.
const (
	// RatioAlerting fires when the error ratio of both windows exceeds
	// factor x (1 - objective). It cannot serve objectives so low that the
	// threshold reaches 1.
	RatioAlerting AlertingMode = "ratio"
	// BudgetAlerting fires when the bad events of both windows, per second,
	// exceed factor x the bad events per second the budget allows over the
	// period. It has no lower bound on the objective, stays quiet on a few
	// failures at night, and catches a peak-hour incident whose ratio stays
	// under the ratio line.
	BudgetAlerting AlertingMode = "budget"
)

// SLI says which events are good and which are bad. Exactly one kind is set.
type SLI struct {
	Events  *EventRatio `yaml:"events"`
	Latency *Latency    `yaml:"latency"`
}

// EventRatio counts bad events among all events. It names either its bad
// events (Bad, BadMetric) or its good ones (Good, GoodMetric), never both:
// the failures among one counter's series, a second counter of the failures
// beside the one of all events (errors_total beside requests_total), the
// successes among one counter's series, or a second counter of the
// successes (requests_ok_total beside requests_total). Good events are
// there because specs written elsewhere (OpenSLO, Sloth's total - good)
// name them, and their complement is often no single selector: good picked
// by two matchers leaves bad as the series either one refuses, and good
// events of a counter of their own have no bad series at all. The bad
// events are then total - good, counted exactly as a latency SLI counts
// count - fast.
type EventRatio struct {
	// Metric is a counter of the contract.
	Metric string `yaml:"metric"`
	// Total narrows which events count at all ("" counts every event).
	Total string `yaml:"total"`
	// Bad picks the failed events among Total, e.g. `status=~"5.."`. With
	// BadMetric it selects that counter's series instead ("" takes them
	// all), as the two counters need not share labels.
	Bad string `yaml:"bad"`
	// BadMetric, when set, is the counter of the failed events, another
	// counter of the contract than Metric.
	BadMetric string `yaml:"badMetric"`
	// Good picks the successful events among Total instead of Bad, e.g.
	// `status!~"5..",status!="429"`; every other event of Total is bad.
	// With GoodMetric it selects that counter's series instead ("" takes
	// them all).
	Good string `yaml:"good"`
	// GoodMetric, when set, is the counter of the successful events,
	// another counter of the contract than Metric. Every event it counts
	// must also be one of Total's, or bad events come out negative.
	GoodMetric string `yaml:"goodMetric"`
}

// CountsGood says whether the SLI names its good events (Good or
// GoodMetric): its bad events are then all events less the good ones.
func (e *EventRatio) CountsGood() bool {
	return e.GoodMetric != "" || strings.TrimSpace(e.Good) != ""
}

// Latency counts requests slower than Threshold as bad, from a histogram.
type Latency struct {
	// Metric is a histogram of the contract (its base name, without _bucket).
	Metric string `yaml:"metric"`
	// Matchers narrow the requests, e.g. `route="/invoke",method="POST"`.
	Matchers string `yaml:"matchers"`
	// Threshold in seconds. A classic histogram counts the requests at or
	// below it exactly only at one of its bucket bounds, so it must be one;
	// a native histogram takes any positive threshold.
	Threshold float64 `yaml:"threshold"`
	// Native reads the histogram as a Prometheus native histogram (the
	// series named Metric itself, scraped with scrape_native_histograms)
	// instead of its classic _bucket and _count series. The requests at or
	// below Threshold are then histogram_fraction's estimate, exact when
	// Threshold is a bound of the native buckets. Prometheus 3 serves it.
	Native bool `yaml:"native"`
}

// Severity says who hears of an alert: page wakes someone, ticket files work.
type Severity string

// The severities an alert may carry.
const (
	Page   Severity = "page"
	Ticket Severity = "ticket"
)

// Tier is one multi-window, multi-burn-rate alert of an SLO: it fires when
// both windows burn the budget faster than Factor.
type Tier struct {
	// Name is the tier's stable label value (fast, slow, ...); Alertmanager
	// inhibits slower tiers of an SLO while a faster one fires.
	Name string `yaml:"name"`
	// Alert is the alert's identifier and runbook name (kebab-case),
	// unique in the service; the Prometheus alert name is its CamelCase
	// form unless AlertName is set.
	Alert string `yaml:"alert"`
	// AlertName, when set, is the Prometheus alert name instead, which
	// tiers may share: Sloth fires one name for all of an SLO's burn
	// alerts, and the Alertmanager routes written for it match that name.
	// The slo and tier labels tell such alerts apart.
	AlertName string   `yaml:"alertName"`
	Severity  Severity `yaml:"severity"`
	Long      Duration `yaml:"long"`
	Short     Duration `yaml:"short"`
	Factor    float64  `yaml:"factor"`
	For       Duration `yaml:"for"`
	// Labels and Annotations are added to the tier's alert, for the routing
	// keys and texts an existing Alertmanager setup expects (Sloth's
	// page_alert and ticket_alert labels, say). Annotations may replace the
	// generated summary and description, never the runbook or dashboard link.
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// ThresholdAlert is a plain alert on one indicator crossing a fixed value,
// outside the SLO burn-rate tiers. Exactly one indicator is set.
type ThresholdAlert struct {
	// Alert is the identifier and runbook name (kebab-case).
	Alert      string          `yaml:"alert"`
	Severity   Severity        `yaml:"severity"`
	Summary    string          `yaml:"summary"`
	ErrorRatio *ErrorRatioOver `yaml:"errorRatio"`
	Quantile   *QuantileOver   `yaml:"quantile"`
	// Above is the value the indicator must exceed.
	Above float64  `yaml:"above"`
	For   Duration `yaml:"for"`
}

// ErrorRatioOver is an SLO's error ratio over a window.
type ErrorRatioOver struct {
	SLO    string   `yaml:"slo"`
	Window Duration `yaml:"window"`
}

// QuantileOver is a quantile of a contract histogram over a window.
type QuantileOver struct {
	Metric   string   `yaml:"metric"`
	Matchers string   `yaml:"matchers"`
	Quantile float64  `yaml:"quantile"`
	Window   Duration `yaml:"window"`
}

// Metric returns the contract entry called name.
func (s *Service) Metric(name string) (Metric, bool) {
	for _, m := range s.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// SLO returns the SLO called name.
func (s *Service) SLO(name string) (SLO, bool) {
	for _, o := range s.SLOs {
		if o.Name == name {
			return o, true
		}
	}
	return SLO{}, false
}

// BudgetRatio is the fraction of events allowed to be bad (1 - objective).
func (o SLO) BudgetRatio() float64 { return Clean(1 - o.Objective) }

// Cools says whether page tier t waits out its short window after an
// incident of o resolves: it does when a faster page tier would have paged
// the errors its windows still hold.
func (o SLO) Cools(t Tier) bool {
	for _, u := range o.Tiers {
		if t.Severity == Page && u.Severity == Page && u.Factor > t.Factor {
			return true
		}
	}
	return false
}

// Threshold is the error ratio both windows of t must exceed.
func (t Tier) Threshold(budget float64) float64 { return Clean(t.Factor * budget) }

// BudgetSpent is the fraction of the period's budget a burn at exactly the
// tier's factor spends over its long window.
func (t Tier) BudgetSpent(period Duration) float64 {
	return Clean(t.Factor * float64(t.Long) / float64(period))
}

// MetricName is the contract metric the SLI reads all its events from.
func (s SLI) MetricName() string {
	switch {
	case s.Events != nil:
		return s.Events.Metric
	case s.Latency != nil:
		return s.Latency.Metric
	}
	return ""
}
