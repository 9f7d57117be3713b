package targets

import (
	"bytes"
	"path"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/model/rulefmt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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

func (b Bundle) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"app.kubernetes.io/part-of":    b.Name,
		"app.kubernetes.io/version":    model.KubernetesLabelValue(b.Version),
		"app.kubernetes.io/managed-by": model.Generator,
	}}
}

// PrometheusRule wraps a service's rule groups for prometheus-operator.
func PrometheusRule(b Bundle, service string, groups rulefmt.RuleGroups) ([]byte, error) {
	pr := monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: b.meta(model.PrometheusRuleName(service)),
	}
	for _, g := range groups.Groups {
		rg := monitoringv1.RuleGroup{Name: g.Name, Rules: []monitoringv1.Rule{}}
		if g.Interval != 0 {
			d := monitoringv1.Duration(g.Interval.String())
			rg.Interval = &d
		}
		for _, r := range g.Rules {
			rule := monitoringv1.Rule{Record: r.Record, Alert: r.Alert, Expr: intstr.FromString(r.Expr), Labels: r.Labels, Annotations: r.Annotations}
			if r.For != 0 {
				d := monitoringv1.Duration(r.For.String())
				rule.For = &d
			}
			rg.Rules = append(rg.Rules, rule)
		}
		pr.Spec.Groups = append(pr.Spec.Groups, rg)
	}
	return document(pr)
}

// DashboardConfigMap carries one dashboard for Grafana's sidecar, into the
// folder the bundle puts it in.
func DashboardConfigMap(b Bundle, file string, dashboard []byte) ([]byte, error) {
	folder, uid, _ := model.DashboardOf(file)
	cm := corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: b.meta(model.DashboardConfigMapName(uid)),
		Data:       map[string]string{path.Base(file): string(dashboard)},
	}
	cm.Labels[DashboardLabel] = "1"
	cm.Annotations = map[string]string{FolderAnnotation: folder}
	return document(cm)
}

// AlertmanagerSecret carries the production Alertmanager configuration the
// way prometheus-operator's Alertmanager reads it (key alertmanager.yaml).
// It holds no secret itself: receivers read theirs from files.
func AlertmanagerSecret(b Bundle, config []byte) ([]byte, error) {
	s := corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: b.meta(model.AlertmanagerSecretName(b.Name)),
		StringData: map[string]string{"alertmanager.yaml": string(config)},
	}
	return document(s)
}

func document(v any) ([]byte, error) {
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	// metav1 writes an empty creationTimestamp; drop it so the output
	// depends on the spec alone.
	out = bytes.ReplaceAll(out, []byte("  creationTimestamp: null\n"), nil)
	return append([]byte(generated.Header), out...), nil
}
