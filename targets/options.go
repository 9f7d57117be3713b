package targets

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// KubernetesOptions are the settings of the Kubernetes objects that belong
// to the cluster they are applied to rather than to the spec: the same
// bundle goes to clusters whose Prometheus and Grafana select differently.
type KubernetesOptions struct {
	// RuleLabels and RuleAnnotations go on every PrometheusRule besides
	// the generator's labels. kube-prometheus-stack's Prometheus selects
	// rules by the label release: <its Helm release name> by default.
	RuleLabels, RuleAnnotations map[string]string
	// GrafanaSelector chooses the Grafana instances of grafana-operator
	// that import the GrafanaDashboard resources (matchLabels of their
	// spec.instanceSelector); empty means DefaultGrafanaSelector.
	GrafanaSelector map[string]string
}

// DefaultGrafanaSelector is the instance label of grafana-operator's own
// examples, used when no selector is given.
var DefaultGrafanaSelector = map[string]string{"dashboards": "grafana"}

// grafanaSelector is the selector in force.
func (o KubernetesOptions) grafanaSelector() map[string]string {
	if len(o.GrafanaSelector) == 0 {
		return DefaultGrafanaSelector
	}
	return o.GrafanaSelector
}

// Validate reports the first label or annotation Kubernetes would refuse,
// or a label that would replace one the generator sets.
func (o KubernetesOptions) Validate() error {
	for _, c := range []struct {
		what     string
		m        map[string]string
		isLabels bool // else annotations, whose values are free
		onObject bool // else labels of other objects, selected by
	}{
		{"PrometheusRule label", o.RuleLabels, true, true},
		{"PrometheusRule annotation", o.RuleAnnotations, false, true},
		{"Grafana instance label", o.GrafanaSelector, true, false},
	} {
		for _, k := range slices.Sorted(maps.Keys(c.m)) {
			if err := qualifiedName(k); err != nil {
				return fmt.Errorf("%s %q: %w", c.what, k, err)
			}
			if !c.isLabels {
				continue
			}
			if err := labelValue(c.m[k]); err != nil {
				return fmt.Errorf("%s %s=%q: %w", c.what, k, c.m[k], err)
			}
			if c.onObject && slices.Contains(generatorLabels, k) {
				return fmt.Errorf("%s %q: the generator sets this label to the bundle's", c.what, k)
			}
		}
	}
	return nil
}

// Kubernetes' syntax of label and annotation keys (a qualified name with an
// optional DNS subdomain prefix) and of label values, from
// k8s.io/apimachinery/pkg/util/validation; the tests check these against
// it, which the generator does not link.
var (
	namePart  = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

func qualifiedName(k string) error {
	prefix, name, hasPrefix := strings.Cut(k, "/")
	if !hasPrefix {
		name = prefix
	}
	if hasPrefix && (len(prefix) > 253 || !subdomain.MatchString(prefix)) {
		return fmt.Errorf("the prefix before / must be a DNS subdomain (lowercase letters, digits, - and .)")
	}
	if len(name) > 63 || !namePart.MatchString(name) {
		return fmt.Errorf("expected at most 63 letters, digits, -, _ or ., starting and ending with a letter or digit, optionally after a DNS subdomain and /")
	}
	return nil
}

func labelValue(v string) error {
	if v != "" && (len(v) > 63 || !namePart.MatchString(v)) {
		return fmt.Errorf("a label value is empty or at most 63 letters, digits, -, _ or ., starting and ending with a letter or digit")
	}
	return nil
}
