package targets

import (
	"path"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"sigs.k8s.io/yaml"

	"github.com/tensorwasm/obsbundle/internal/generated"
	"github.com/tensorwasm/obsbundle/model"
)

// Labels Kubernetes tools select the bundle's objects by.
const (
	// DashboardLabel is what Grafana's dashboard sidecar watches for.
	DashboardLabel = "grafana_dashboard"
	// FolderAnnotation tells the sidecar which Grafana folder to use.
	FolderAnnotation = "grafana_folder"
)

// Bundle identifies the bundle the objects come from.
type Bundle struct{ Name, Version string }

// The Kubernetes objects are written from these few fields rather than
// from the Kubernetes and prometheus-operator API types, which would link
// a large part of client-go's type system into the generator. The tests
// decode every object with those types, strictly.
type (
	typeMeta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	objectMeta struct {
		Name        string            `json:"name"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	prometheusRule struct {
		typeMeta `json:",inline"`
		Metadata objectMeta         `json:"metadata"`
		Spec     prometheusRuleSpec `json:"spec"`
	}
	prometheusRuleSpec struct {
		Groups []ruleGroup `json:"groups,omitempty"`
	}
	ruleGroup struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Rules    []rule `json:"rules"`
	}
	rule struct {
		Record      string            `json:"record,omitempty"`
		Alert       string            `json:"alert,omitempty"`
		Expr        string            `json:"expr"`
		For         string            `json:"for,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	configMap struct {
		typeMeta `json:",inline"`
		Metadata objectMeta        `json:"metadata"`
		Data     map[string]string `json:"data,omitempty"`
	}
	secret struct {
		typeMeta   `json:",inline"`
		Metadata   objectMeta        `json:"metadata"`
		StringData map[string]string `json:"stringData,omitempty"`
	}
)

// prometheus-operator's API group and kind of rule objects.
const (
	monitoringAPIVersion = "monitoring.coreos.com/v1"
	prometheusRuleKind   = "PrometheusRule"
)

func (b Bundle) meta(name string) objectMeta {
	return objectMeta{Name: name, Labels: map[string]string{
		"app.kubernetes.io/part-of":    b.Name,
		"app.kubernetes.io/version":    model.KubernetesLabelValue(b.Version),
		"app.kubernetes.io/managed-by": model.Generator,
	}}
}

// PrometheusRule wraps a service's rule groups for prometheus-operator.
func PrometheusRule(b Bundle, service string, groups rulefmt.RuleGroups) ([]byte, error) {
	pr := prometheusRule{
		typeMeta: typeMeta{APIVersion: monitoringAPIVersion, Kind: prometheusRuleKind},
		Metadata: b.meta(model.PrometheusRuleName(service)),
	}
	for _, g := range groups.Groups {
		rg := ruleGroup{Name: g.Name, Rules: []rule{}}
		if g.Interval != 0 {
			rg.Interval = g.Interval.String()
		}
		for _, r := range g.Rules {
			out := rule{Record: r.Record, Alert: r.Alert, Expr: r.Expr, Labels: r.Labels, Annotations: r.Annotations}
			if r.For != 0 {
				out.For = r.For.String()
			}
			rg.Rules = append(rg.Rules, out)
		}
		pr.Spec.Groups = append(pr.Spec.Groups, rg)
	}
	return document(pr)
}

// DashboardConfigMap carries one dashboard for Grafana's sidecar, into the
// folder the bundle puts it in.
func DashboardConfigMap(b Bundle, file string, dashboard []byte) ([]byte, error) {
	folder, uid, _ := model.DashboardOf(file)
	cm := configMap{
		typeMeta: typeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		Metadata: b.meta(model.DashboardConfigMapName(uid)),
		Data:     map[string]string{path.Base(file): string(dashboard)},
	}
	cm.Metadata.Labels[DashboardLabel] = "1"
	cm.Metadata.Annotations = map[string]string{FolderAnnotation: folder}
	return document(cm)
}

// AlertmanagerSecret carries the production Alertmanager configuration the
// way prometheus-operator's Alertmanager reads it (key alertmanager.yaml).
// It holds no secret itself: receivers read theirs from files.
func AlertmanagerSecret(b Bundle, config []byte) ([]byte, error) {
	s := secret{
		typeMeta:   typeMeta{APIVersion: "v1", Kind: "Secret"},
		Metadata:   b.meta(model.AlertmanagerSecretName(b.Name)),
		StringData: map[string]string{"alertmanager.yaml": string(config)},
	}
	return document(s)
}

func document(v any) ([]byte, error) {
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte(generated.Header), out...), nil
}
