package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// This file is the single source of every generated name: recording rules,
// labels, alerts, groups, files, UIDs and URLs. Rules, dashboards and
// routing call these functions instead of spelling names themselves.

// Labels the generator puts on the series and alerts it produces.
const (
	LabelService   = "service"
	LabelSLO       = "slo"
	LabelSeverity  = "severity"
	LabelTier      = "tier"
	LabelVersion   = "bundle_version"
	LabelGenerator = "generator_version"
)

// LabelSlothSeverity is the label Sloth puts on its page (page) and
// ticket (ticket) alerts; tiers imported from Sloth keep it, for the
// routes written for them.
const LabelSlothSeverity = "sloth_severity"

// ReservedLabel says whether a label name is one the generator sets itself
// (or Prometheus gives a meaning), which a spec's own labels may not reuse.
func ReservedLabel(name string) bool {
	switch name {
	case LabelService, LabelSLO, LabelSeverity, LabelTier, LabelVersion, LabelGenerator, "alertname", "le":
		return true
	}
	return strings.HasPrefix(name, "__")
}

// ReservedAnnotation says whether an annotation is a link the generator
// derives from the model, which a spec's own annotations may not replace.
func ReservedAnnotation(name string) bool {
	return name == AnnotationRunbook || name == AnnotationDashboard
}

// Annotations every generated alert carries.
const (
	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationRunbook     = "runbook_url"
	AnnotationDashboard   = "dashboard_url"
)

// Recording rules of fixed name, one series per SLO (or per service for Info).
const (
	ObjectiveRecord       = "slo:objective:ratio"
	ErrorBudgetRecord     = "slo:error_budget:ratio"
	BudgetRemainingRecord = "slo:error_budget_remaining:ratio"
	FreezeBelowRecord     = "slo:deploy_freeze_below:ratio"
	InfoRecord            = "slo:bundle:info"
)

// UnmeasuredAlert is the identifier of the alert raised when an SLO cannot
// be measured: every target of its service is down, or the series its SLI
// reads are gone. Either way its burn tiers go blind, so for an SLO that
// pages it pages too, and it holds an open incident (see package rules).
const UnmeasuredAlert = "slo-unmeasured"

// UnmeasuredFor is the `for:` of UnmeasuredAlert: long enough to ride out a
// failed scrape or a restart, and for a ticket long enough that a rollout
// does not file one.
func UnmeasuredFor(sev Severity) Duration {
	if sev == Page {
		return Duration(2 * time.Minute)
	}
	return Duration(10 * time.Minute)
}

// UpSeries is the series Prometheus writes for every scrape target: 1 when
// the scrape succeeded, 0 when it failed.
const UpSeries = "up"

// Defaults applied when a spec leaves a field out.
const (
	DefaultPeriod             = Duration(30 * 24 * time.Hour)
	DefaultEvaluationInterval = Duration(time.Minute)
	DefaultFreezeBelow        = 0.25
	DefaultRow                = "Other metrics"
)

// PeriodTile is the width of the coarse tiles the period window is summed
// from, and the interval of the group that records them: a 30d window then
// reads 10800 samples per series instead of 43200 at a 1m interval. It stays
// under Prometheus' 5m lookback so the period's series never flicker on a
// dashboard between evaluations.
const PeriodTile = Duration(4 * time.Minute)

// BadEventsRecord names the count of bad events in one tile of width w.
func BadEventsRecord(w Duration) string { return "slo:bad_events:increase" + w.String() }

// BadEventsWindowRecord names the count of bad events over a window w that
// budget tiers compare with the budget's allowance: a sum of tiles, named
// apart from the tiles so a window as wide as a tile is never recorded
// twice under one name.
func BadEventsWindowRecord(w Duration) string { return "slo:bad_events:window" + w.String() }

// TotalEventsWindowRecord names the count of all events over a window w,
// summed from the same tiles as BadEventsWindowRecord: budget tiers check
// that the window's own error ratio is above the budget's.
func TotalEventsWindowRecord(w Duration) string { return "slo:total_events:window" + w.String() }

// TotalEventsRecord names the count of all events in one tile of width w.
func TotalEventsRecord(w Duration) string { return "slo:total_events:increase" + w.String() }

// ErrorRatioRecord names the error ratio (bad / total) over window w.
func ErrorRatioRecord(w Duration) string { return "slo:sli_error:ratio_rate" + w.String() }

// BurnRateRecord names the burn rate (error ratio / budget ratio) over w.
func BurnRateRecord(w Duration) string { return "slo:burn_rate:ratio_rate" + w.String() }

// GroupName names the rule group that records an SLO's windows and holds its alerts.
func GroupName(service, slo string) string { return service + "-" + slo }

// BudgetRateRecord names the bad events per second the error budget allows,
// averaged over the part of the period w that has data.
func BudgetRateRecord(w Duration) string { return "slo:error_budget_events:rate" + w.String() }

// PeriodGroupName names the slower group that records an SLO over its period.
func PeriodGroupName(service, slo string) string { return service + "-" + slo + "-period" }

// ServiceGroupName names the group of a service's info series and plain threshold alerts.
func ServiceGroupName(service string) string { return service }

// RecordedSelector selects the series a recording rule records for one SLO
// of one service: record{service="...",slo="..."}. Rules, dashboards and
// runbooks all read recorded series through it.
func RecordedSelector(record, service, slo string) string {
	return fmt.Sprintf(`%s{%s=%q,%s=%q}`, record, LabelService, service, LabelSLO, slo)
}

// Top-level directories of a bundle. Every file of a bundle has a path
// built by one of the functions below, and paths of different services
// never meet: each carries the service name once.
const (
	rulesDir        = "rules/"
	reportDir       = "report/"
	runbooksDir     = "runbooks/"
	dashboardsDir   = "dashboards/"
	alertmanagerDir = "alertmanager/"
	kubernetesDir   = "kubernetes/"
	mimirDir        = "mimir/"
	grafanaAlerting = "grafana-alerting/"
)

// ruleFileSuffix ends the name of every rule file.
const ruleFileSuffix = ".rules.yaml"

// RuleFile is the bundle path of a service's rule file.
func RuleFile(service string) string { return rulesDir + service + ruleFileSuffix }

// IsRuleFile says whether a bundle path (slash-separated) is a rule file.
func IsRuleFile(path string) bool {
	return strings.HasPrefix(path, rulesDir) && strings.HasSuffix(path, ruleFileSuffix)
}

// RuleTestFile is the bundle path of the promtool unit tests of a service's
// alerts, beside the rule file they load.
func RuleTestFile(service string) string { return rulesDir + service + ".test.yaml" }

// ReportFile and ReportChart are the bundle paths of a service's
// time-to-first-alert report and its chart, which the report embeds by
// its file name.
func ReportFile(service string) string  { return reportDir + service + ".md" }
func ReportChart(service string) string { return reportDir + service + ".svg" }

// RunbookFile is the bundle path of the runbook of a service's alert id.
// Alert ids are unique within a service only (every service has its
// SLOUnmeasured), so each service has its own directory of runbooks, the
// one its runbookBaseURL publishes: RunbookURL(id) ends in the same
// service-relative path.
func RunbookFile(service, id string) string { return runbooksDir + RunbookName(service, id) }

// RunbookName is the path of a runbook relative to the bundle's runbooks/
// directory, the form a directory of operator-written runbooks uses.
func RunbookName(service, id string) string { return service + "/" + runbookLeaf(id) }

// RunbookOf splits a bundle path into the service and alert id of the
// runbook it holds; ok is false for any other file.
func RunbookOf(path string) (service, id string, ok bool) {
	rest, ok := strings.CutPrefix(path, runbooksDir)
	if !ok {
		return "", "", false
	}
	service, leaf, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(leaf, "/") || !strings.HasSuffix(leaf, runbookLeaf("")) {
		return "", "", false
	}
	return service, strings.TrimSuffix(leaf, runbookLeaf("")), true
}

func runbookLeaf(id string) string { return id + ".md" }

// PrometheusRuleFile is the bundle path of a service's PrometheusRule.
func PrometheusRuleFile(service string) string {
	return kubernetesDir + service + "-prometheusrule.yaml"
}

// DashboardConfigMapFile is the bundle path of the ConfigMap carrying the
// dashboard of the given UID to Grafana's sidecar.
func DashboardConfigMapFile(uid string) string { return kubernetesDir + "dashboards/" + uid + ".yaml" }

// GrafanaDashboardFile is the bundle path of the grafana-operator
// GrafanaDashboard resource of the dashboard of the given UID.
func GrafanaDashboardFile(uid string) string {
	return kubernetesDir + "grafanadashboards/" + uid + ".yaml"
}

// AlertmanagerSecretFile is the bundle path of the Secret holding the
// production Alertmanager configuration.
const AlertmanagerSecretFile = kubernetesDir + "alertmanager-secret.yaml"

// MimirFile is the bundle path of a service's Mimir ruler namespace.
func MimirFile(service string) string { return mimirDir + service + ".yaml" }

// GrafanaAlertingFile is the bundle path of the Grafana alerting
// provisioning file (-target grafana-alerting): every alert rule of the
// bundle, its contact points and its notification policy tree. The tree is
// a Grafana organisation's whole tree, so a bundle has one such file.
const GrafanaAlertingFile = grafanaAlerting + Generator + ".yaml"

// GrafanaRuleUID is the stable UID of the Grafana alert rule of alert
// of service s, labelled with its slo and tier (either may be empty).
// Alert names repeat across SLOs (each has its SLOUnmeasured), across
// services, and across tiers named alike (Tier.AlertName), and Grafana
// UIDs hold at most 40 characters, so the UID is a digest of them; the
// tier only counts for a tier named so, which keeps every other UID as it
// was before tiers could share names.
func (s *Service) GrafanaRuleUID(slo, tier, alert string) string {
	key := s.Name + "\x00" + slo + "\x00" + alert
	if o, ok := s.SLO(slo); ok {
		for _, t := range o.Tiers {
			if t.Name == tier && t.AlertName != "" {
				key += "\x00" + tier
			}
		}
	}
	sum := sha256.Sum256([]byte(key))
	return "slo-" + hex.EncodeToString(sum[:])[:32]
}

// GrafanaContactPointUID is the stable UID of the Grafana contact point
// of a receiver (PageReceiver, TicketReceiver).
func GrafanaContactPointUID(receiver string) string { return Generator + "-" + receiver }

// Environment variables Grafana reads the receivers' secrets from: Grafana
// cannot read a secret from a file the way Alertmanager does, but it
// expands $NAME in provisioning files from its environment.
const (
	PagerDutyKeyEnv = "PAGERDUTY_ROUTING_KEY"
	SlackURLEnv     = "SLACK_API_URL"
)

// SlackChannel is the channel the ticket receiver posts to.
func SlackChannel(bundle string) string { return "#" + bundle + "-tickets" }

// Kubernetes object names. Names are DNS subdomains and every part comes
// from a validated kebab-case name, so they need no escaping.

// PrometheusRuleName names the PrometheusRule of a service's rules.
func PrometheusRuleName(service string) string { return service + "-slo" }

// DashboardConfigMapName names the ConfigMap of the dashboard of a UID in
// a bundle. Every bundle has an overview of the same UID, so the bundle's
// name keeps two bundles' ConfigMaps in one namespace apart.
func DashboardConfigMapName(bundle, uid string) string { return bundle + "-dashboard-" + uid }

// GrafanaDashboardName names the GrafanaDashboard resource of the
// dashboard of a UID in a bundle, apart from other bundles' like
// DashboardConfigMapName.
func GrafanaDashboardName(bundle, uid string) string { return bundle + "-" + uid }

// AlertmanagerSecretName names the Secret of a bundle's Alertmanager configuration.
func AlertmanagerSecretName(bundle string) string { return "alertmanager-" + bundle }

// KubernetesLabelValue turns a bundle version into a valid Kubernetes
// label value: build metadata's "+" is not allowed there, so it becomes
// "_" as Helm does ("2.0.0+build.5" -> "2.0.0_build.5").
func KubernetesLabelValue(version string) string { return strings.ReplaceAll(version, "+", "_") }

// ManifestFile is the bundle path of the manifest.
const ManifestFile = "manifest.json"

// Generator and GeneratorVersion identify this tool in manifests and series.
const (
	Generator        = "obsbundle"
	GeneratorVersion = "0.1.0"
)

// acronyms stay upper case in alert names (SLOUnmeasured, not SloMetricAbsent).
var acronyms = map[string]bool{"slo": true, "sli": true, "http": true, "api": true}

// RuleName is the Prometheus alert name of tier t: its AlertName, or the
// CamelCase form of its identifier.
func (t Tier) RuleName() string {
	if t.AlertName != "" {
		return t.AlertName
	}
	return AlertName(t.Alert)
}

// SeverityLabel is the value of the severity label on tier t's alert: its
// own severity label when it sets one (Sloth's page alerts often carry
// severity: critical, which existing routes match), else its Severity.
func (t Tier) SeverityLabel() string {
	if v := t.Labels[LabelSeverity]; v != "" {
		return v
	}
	return string(t.Severity)
}

// SeverityValues lists, sorted, the values the severity label takes on
// the alerts of sev across the spec: sev itself (every generated alert
// but a tier with a severity label of its own carries it) and the tiers'
// own values. Validation keeps the lists of page and ticket apart, so
// routing and dashboards tell pages from tickets by them.
func (s *Spec) SeverityValues(sev Severity) []string {
	values := map[string]bool{string(sev): true}
	for _, svc := range s.Services {
		for _, o := range svc.SLOs {
			for _, t := range o.Tiers {
				if t.Severity == sev {
					values[t.SeverityLabel()] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(values))
}

// SeverityMatcher matches the severity label of the alerts of sev: equal
// to its one value, or a regular expression of all its SeverityValues.
func (s *Spec) SeverityMatcher(sev Severity) *labels.Matcher {
	values := s.SeverityValues(sev)
	if len(values) == 1 {
		return labels.MustNewMatcher(labels.MatchEqual, LabelSeverity, values[0])
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return labels.MustNewMatcher(labels.MatchRegexp, LabelSeverity, strings.Join(quoted, "|"))
}

// AlertName turns an alert identifier into Prometheus' CamelCase alert name:
// "availability-fast-burn" -> "AvailabilityFastBurn".
func AlertName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' }) {
		if acronyms[part] {
			b.WriteString(strings.ToUpper(part))
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// RunbookURL is where the runbook of alert id lives: the service's
// runbookBaseURL publishes the service's directory of runbooks in the
// bundle, so the URL ends in the file name of RunbookFile(s.Name, id).
func (s *Service) RunbookURL(id string) string {
	return strings.TrimSuffix(s.RunbookBaseURL, "/") + "/" + runbookLeaf(id)
}

// DashboardUID is the stable Grafana UID of a service's dashboard.
func DashboardUID(service string) string { return service + "-service" }

// OverviewUID is the stable UID of bundle's dashboard listing every SLO.
// The bundle's name keeps the overviews of two bundles provisioned into one
// Grafana apart; a name too long for Grafana's 40 characters is cut, and a
// hash of the whole keeps it unique.
func OverviewUID(bundle string) string {
	const suffix, max = "-slo-overview", 40
	if len(bundle)+len(suffix) <= max {
		return bundle + suffix
	}
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(bundle)))[:8]
	return bundle[:max-len(suffix)-len(sum)-1] + "-" + sum + suffix
}

// OverviewTitle is the title of bundle's SLO overview: Grafana wants titles
// unique within a folder, and every bundle's overview goes to OverviewFolder.
func OverviewTitle(bundle string) string { return "SLO overview: " + bundle }

// OverviewFolder is the Grafana folder of the SLO overview.
const OverviewFolder = "SLOs"

// DatasourceUID is the UID of the Prometheus datasource the dashboards
// default to; the bundle's provisioning creates it under this UID.
const DatasourceUID = "prometheus"

// DashboardFile is the bundle path of a dashboard; with Grafana's
// foldersFromFilesStructure, the directory becomes its folder. The folder
// is a service title or OverviewFolder; validation keeps titles to one
// path component.
func DashboardFile(folder, uid string) string { return dashboardsDir + folder + "/" + uid + ".json" }

// DashboardOf returns the folder and UID of a dashboard's bundle path; ok
// is false for any other file.
func DashboardOf(path string) (folder, uid string, ok bool) {
	rest, ok := strings.CutPrefix(path, dashboardsDir)
	if !ok {
		return "", "", false
	}
	folder, leaf, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(leaf, "/") || !strings.HasSuffix(leaf, ".json") {
		return "", "", false
	}
	return folder, strings.TrimSuffix(leaf, ".json"), true
}

// IsAlertmanagerFile says whether a bundle path is an Alertmanager configuration.
func IsAlertmanagerFile(path string) bool { return strings.HasPrefix(path, alertmanagerDir) }

// Grafana provisioning files in the bundle, and where the provider expects
// the dashboards directory to be mounted.
const (
	DashboardProviderFile = "grafana/provisioning/dashboards/" + Generator + ".yaml"
	DatasourceFile        = "grafana/provisioning/datasources/" + Generator + ".yaml"
	GrafanaDashboardsPath = "/var/lib/grafana/dashboards/" + Generator
)

// Addresses of the demo stack's services (docker-compose.yml): datasources
// and the demo Alertmanager configuration point at them.
const (
	DefaultPrometheusURL   = "http://prometheus:9090"
	DefaultAlertmanagerURL = "http://alertmanager:9093"
	DemoSimulatorURL       = "http://simulator:9464"
)

// AlertmanagerDatasourceUID is the UID of the Alertmanager datasource the
// bundle provisions next to Prometheus.
const AlertmanagerDatasourceUID = "alertmanager"

// Alertmanager configurations in the bundle: one for production, whose
// receivers read their secrets from files, and one for the demo stack,
// whose receivers are the simulator's webhooks.
const (
	AlertmanagerFile     = alertmanagerDir + "alertmanager.yml"
	AlertmanagerDemoFile = alertmanagerDir + "demo.yml"
)

// Receivers alerts are routed to, by severity.
const (
	PageReceiver   = "page"
	TicketReceiver = "ticket"
)

// Files the production Alertmanager reads its secrets from.
const (
	PagerDutyKeyFile = "/etc/alertmanager/secrets/pagerduty-routing-key"
	SlackURLFile     = "/etc/alertmanager/secrets/slack-api-url"
)

// WebhookPath is where, under the simulator's address, the demo receivers
// take Alertmanager's notifications: WebhookPath + receiver.
const WebhookPath = "/alerts/"

// DemoWebhookURL is where the demo Alertmanager sends a receiver's alerts.
func DemoWebhookURL(base, receiver string) string {
	return strings.TrimSuffix(base, "/") + WebhookPath + receiver
}

// AlertListURL opens Grafana's alert list filtered to one alert, where its
// rule, state and labels are explained.
func (s *Service) AlertListURL(id string) string {
	return strings.TrimSuffix(s.GrafanaURL, "/") + "/alerting/list?search=" + s.AlertNameOf(id)
}

// AlertNameOf is the Prometheus alert name of the service's alert id: its
// tier's RuleName, or for any other alert the CamelCase form of the id.
func (s *Service) AlertNameOf(id string) string {
	if t, ok := s.TierOf(id); ok {
		return t.RuleName()
	}
	return AlertName(id)
}

// TierOf returns the tier whose alert id is id, if any.
func (s *Service) TierOf(id string) (Tier, bool) {
	for _, o := range s.SLOs {
		for _, t := range o.Tiers {
			if t.Alert == id {
				return t, true
			}
		}
	}
	return Tier{}, false
}

// DashboardURL is the address of the service's dashboard.
func (s *Service) DashboardURL() string {
	return strings.TrimSuffix(s.GrafanaURL, "/") + DashboardPath(DashboardUID(s.Name))
}

// DashboardPath is where Grafana serves the dashboard of a UID, relative
// to its base URL: links between dashboards use it.
func DashboardPath(uid string) string { return "/d/" + uid }

// PanelURL opens one panel of the service's dashboard on its own.
func (s *Service) PanelURL(id uint32) string {
	return fmt.Sprintf("%s?viewPanel=%d", s.DashboardURL(), id)
}

// TierWindows lists, shortest first, the windows of an SLO's tiers.
func TierWindows(o SLO) []Duration {
	seen := map[Duration]bool{}
	for _, t := range o.Tiers {
		seen[t.Long], seen[t.Short] = true, true
	}
	return sortedDurations(seen)
}

func sortedDurations(set map[Duration]bool) []Duration {
	ws := make([]Duration, 0, len(set))
	for w := range set {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i] < ws[j] })
	return ws
}

// Windows lists, shortest first, every window the alerts of an SLO read: its
// tiers' long and short windows and the windows of threshold alerts on it.
func (s *Service) Windows(o SLO) []Duration {
	seen := map[Duration]bool{}
	for _, w := range TierWindows(o) {
		seen[w] = true
	}
	for _, a := range s.Alerts {
		if a.ErrorRatio != nil && a.ErrorRatio.SLO == o.Name {
			seen[a.ErrorRatio.Window] = true
		}
	}
	return sortedDurations(seen)
}

// Series names of a histogram's parts.
func BucketSeries(histogram string) string { return histogram + "_bucket" }

// CountSeries names a histogram's observation counter.
func CountSeries(histogram string) string { return histogram + "_count" }

// SumSeries names a histogram's sum of observations.
func SumSeries(histogram string) string { return histogram + "_sum" }

// NativeHistogramSeries names a native histogram's series: the histogram's
// base name, with no suffix.
func NativeHistogramSeries(histogram string) string { return histogram }
