// Package targets renders a bundle's content for the places teams load it
// from, beyond plain files: Kubernetes (prometheus-operator's
// PrometheusRule, Grafana sidecar ConfigMaps, grafana-operator
// GrafanaDashboards, the Alertmanager configuration as a Secret), the Mimir / Cortex ruler (one namespace
// file per service, as mimirtool loads them) and Grafana-managed alerting
// (alert rules, contact points and notification policies, as Grafana's
// file provisioning loads them). Each is a pure function of
// content the bundle already generated, so every target carries the same
// rules and dashboards.
package targets

import (
	"fmt"
	"strings"
)

// Target is an output a bundle can be rendered for.
type Target string

// The targets a bundle can be rendered for.
const (
	Files      Target = "files"
	Kubernetes Target = "kubernetes"
	Mimir      Target = "mimir"
	// Grafana evaluates the alerts instead of Prometheus; the recording
	// rules still run in Prometheus or Mimir.
	GrafanaAlerting Target = "grafana-alerting"
)

// Parse reads a comma-separated list of targets.
func Parse(s string) ([]Target, error) {
	var out []Target
	for _, part := range strings.Split(s, ",") {
		switch t := Target(strings.TrimSpace(part)); t {
		case Files, Kubernetes, Mimir, GrafanaAlerting:
			out = append(out, t)
		default:
			return nil, fmt.Errorf("unknown target %q: expected files, kubernetes, mimir or grafana-alerting (comma-separated)", part)
		}
	}
	return out, nil
}
