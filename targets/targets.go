// Package targets renders a bundle's content for the places teams load it
// from, beyond plain files: Kubernetes (prometheus-operator's
// PrometheusRule, Grafana sidecar ConfigMaps, grafana-operator
// GrafanaDashboards, the Alertmanager configuration as a Secret) and the Mimir / Cortex ruler (one namespace
// file per service, as mimirtool loads them). Each is a pure function of
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
)

// Parse reads a comma-separated list of targets.
func Parse(s string) ([]Target, error) {
	var out []Target
	for _, part := range strings.Split(s, ",") {
		switch t := Target(strings.TrimSpace(part)); t {
		case Files, Kubernetes, Mimir:
			out = append(out, t)
		default:
			return nil, fmt.Errorf("unknown target %q: expected files, kubernetes or mimir (comma-separated)", part)
		}
	}
	return out, nil
}
