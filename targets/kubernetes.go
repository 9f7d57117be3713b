package targets

import (
	"maps"
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

// Labels the generator puts on every object, naming the bundle.
const (
	partOfLabel    = "app.kubernetes.io/part-of"
	versionLabel   = "app.kubernetes.io/version"
	managedByLabel = "app.kubernetes.io/managed-by"
)

var generatorLabels = []string{partOfLabel, versionLabel, managedByLabel}

// Bundle identifies the bundle the objects come from, and how the cluster
// they go to selects them.
type Bundle struct {
	Name, Version string
	Options       KubernetesOptions
}

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
	grafanaDashboard struct {
		typeMeta `json:",inline"`
		Metadata objectMeta           `json:"metadata"`
		Spec     grafanaDashboardSpec `json:"spec"`
	}
	grafanaDashboardSpec struct {
		InstanceSelector labelSelector `json:"instanceSelector"`
		Folder           string        `json:"folder,omitempty"`
		JSON             string        `json:"json"`
	}
	labelSelector struct {
		MatchLabels map[string]string `json:"matchLabels"`
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
		partOfLabel:    b.Name,
		versionLabel:   model.KubernetesLabelValue(b.Version),
		managedByLabel: model.Generator,
	}}
}

// PrometheusRule wraps a service's rule groups for prometheus-operator,
// with the labels and annotations the cluster's Prometheus selects by.
func PrometheusRule(b Bundle, service string, groups rulefmt.RuleGroups) ([]byte, error) {
	if err := b.Options.Validate(); err != nil {
		return nil, err
	}
	pr := prometheusRule{
		typeMeta: typeMeta{APIVersion: monitoringAPIVersion, Kind: prometheusRuleKind},
		Metadata: b.meta(model.PrometheusRuleName(service)),
	}
	maps.Copy(pr.Metadata.Labels, b.Options.RuleLabels)
	if len(b.Options.RuleAnnotations) > 0 {
		pr.Metadata.Annotations = maps.Clone(b.Options.RuleAnnotations)
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
		Metadata: b.meta(model.DashboardConfigMapName(b.Name, uid)),
		Data:     map[string]string{path.Base(file): string(dashboard)},
	}
	cm.Metadata.Labels[DashboardLabel] = "1"
	cm.Metadata.Annotations = map[string]string{FolderAnnotation: folder}
	return document(cm)
}

// grafana-operator's API group and kind of dashboard objects.
const (
	grafanaAPIVersion    = "grafana.integreatly.org/v1beta1"
	grafanaDashboardKind = "GrafanaDashboard"
)

// GrafanaDashboard carries one dashboard for grafana-operator, which many
// teams run instead of the sidecar: the dashboard's JSON inline, so the
// resource stands alone, into the folder the bundle puts it in, for the
// Grafana instances b's options select.
func GrafanaDashboard(b Bundle, file string, dashboard []byte) ([]byte, error) {
	if err := b.Options.Validate(); err != nil {
		return nil, err
	}
	folder, uid, _ := model.DashboardOf(file)
	gd := grafanaDashboard{
		typeMeta: typeMeta{APIVersion: grafanaAPIVersion, Kind: grafanaDashboardKind},
		Metadata: b.meta(model.GrafanaDashboardName(b.Name, uid)),
		Spec: grafanaDashboardSpec{
			InstanceSelector: labelSelector{MatchLabels: b.Options.grafanaSelector()},
			Folder:           folder,
			JSON:             string(dashboard),
		},
	}
	return document(gd)
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
