package targets_test

import (
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/dashcheck"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/targets"
)

// kubeOptions are what a kube-prometheus-stack cluster with
// grafana-operator would be given.
var kubeOptions = targets.KubernetesOptions{
	RuleLabels:      map[string]string{"release": "kube-prometheus-stack", "team": "wasm"},
	RuleAnnotations: map[string]string{"example.com/owner": "SRE, on call"},
	GrafanaSelector: map[string]string{"app.kubernetes.io/name": "grafana"},
}

func TestPrometheusRuleWithConfiguredLabelsDecodesWithTheOperatorsTypes(t *testing.T) {
	s := catalog.TensorWasm()
	b, err := bundle.BuildWith(s, bundle.Options{Targets: []targets.Target{targets.Kubernetes}, Kubernetes: kubeOptions})
	require.NoError(t, err)
	doc, ok := b.File(model.PrometheusRuleFile(s.Services[0].Name))
	require.True(t, ok)
	var pr monitoringv1.PrometheusRule
	strict(t, doc, &pr)
	require.Equal(t, "kube-prometheus-stack", pr.Labels["release"])
	require.Equal(t, "wasm", pr.Labels["team"])
	require.Equal(t, s.Name, pr.Labels["app.kubernetes.io/part-of"], "the generator's labels stay")
	require.Equal(t, map[string]string{"example.com/owner": "SRE, on call"}, pr.Annotations)
	// kube-prometheus-stack's Prometheus selects rules by its release label.
	sel, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: map[string]string{"release": "kube-prometheus-stack"}})
	require.NoError(t, err)
	require.True(t, sel.Matches(labelSet(pr.Labels)))
}

type labelSet map[string]string

func (l labelSet) Has(k string) bool              { _, ok := l[k]; return ok }
func (l labelSet) Get(k string) string            { return l[k] }
func (l labelSet) Lookup(k string) (string, bool) { v, ok := l[k]; return v, ok }

// grafanaDashboard is grafana-operator's GrafanaDashboard (v1beta1) as its
// API types define it (api/v1beta1/grafanadashboard_types.go, common.go,
// content.go in grafana/grafana-operator): the operator's Go module is not
// served here, so its schema is restated with the Kubernetes types it
// uses. Every field of the spec that could carry content is listed, so a
// strict decode rejects anything else.
type grafanaDashboard struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		ResyncPeriod              *metav1.Duration             `json:"resyncPeriod,omitempty"`
		InstanceSelector          *metav1.LabelSelector        `json:"instanceSelector"`
		AllowCrossNamespaceImport *bool                        `json:"allowCrossNamespaceImport,omitempty"`
		CustomUID                 string                       `json:"uid,omitempty"`
		JSON                      string                       `json:"json,omitempty"`
		GzipJSON                  []byte                       `json:"gzipJson,omitempty"`
		URL                       string                       `json:"url,omitempty"`
		Jsonnet                   string                       `json:"jsonnet,omitempty"`
		ConfigMapRef              *corev1.ConfigMapKeySelector `json:"configMapRef,omitempty"`
		FolderTitle               string                       `json:"folder,omitempty"`
		FolderUID                 string                       `json:"folderUID,omitempty"`
		FolderRef                 string                       `json:"folderRef,omitempty"`
	} `json:"spec"`
}

func TestGrafanaDashboardsFollowTheOperatorsSchema(t *testing.T) {
	s := catalog.TensorWasm()
	for _, o := range []targets.KubernetesOptions{{}, kubeOptions} {
		b, err := bundle.BuildWith(s, bundle.Options{Targets: []targets.Target{targets.Kubernetes}, Kubernetes: o})
		require.NoError(t, err)
		want := o.GrafanaSelector
		if len(want) == 0 {
			want = targets.DefaultGrafanaSelector
		}
		require.NotEmpty(t, b.Dashboards)
		for _, path := range b.Dashboards {
			folder, uid, _ := model.DashboardOf(path)
			doc, ok := b.File(model.GrafanaDashboardFile(uid))
			require.True(t, ok, uid)
			var gd grafanaDashboard
			strict(t, doc, &gd)
			require.Equal(t, "grafana.integreatly.org/v1beta1", gd.APIVersion)
			require.Equal(t, "GrafanaDashboard", gd.Kind)
			require.Empty(t, validation.IsDNS1123Subdomain(gd.Name))
			require.NotNil(t, gd.Spec.InstanceSelector, "instanceSelector is required")
			require.Equal(t, want, gd.Spec.InstanceSelector.MatchLabels)
			require.Equal(t, folder, gd.Spec.FolderTitle)
			require.Empty(t, gd.Spec.FolderUID+gd.Spec.FolderRef, "folder excludes folderUID and folderRef")
			dashboard, _ := b.File(path)
			require.Equal(t, string(dashboard), gd.Spec.JSON, "the dashboard inline, as the bundle has it")
			require.NoError(t, dashcheck.Check([]byte(gd.Spec.JSON)))
		}
	}
}

// Two bundles' objects can share a namespace: every overview has the same
// UID, so the dashboards' object names carry the bundle's name.
func TestKubernetesObjectsOfTwoBundlesHaveDistinctNames(t *testing.T) {
	seen := map[string]string{}
	for _, s := range []model.Spec{catalog.TensorWasm(), examples.Gateway(t)} {
		b, err := bundle.Build(s, targets.Kubernetes)
		require.NoError(t, err)
		for _, f := range b.Files {
			if !strings.HasPrefix(f.Path, "kubernetes/") {
				continue
			}
			var obj struct {
				Kind     string
				Metadata metav1.ObjectMeta
			}
			require.NoError(t, k8syaml.Unmarshal(f.Data, &obj), f.Path)
			key := obj.Kind + "/" + obj.Metadata.Name
			require.NotContains(t, seen, key, "%s of %s and %s", key, seen[key], s.Name)
			seen[key] = s.Name
		}
	}
}

// The options' syntax checks agree with Kubernetes' own validation.
func TestKubernetesOptionsAreValidatedAsKubernetesDoes(t *testing.T) {
	keys := []string{"release", "app.kubernetes.io/name", "example.com/a_b.c-d", "", "-x", "x-", "a/b/c", "Example.com/x", "/x", "x/", strings.Repeat("k", 63), strings.Repeat("k", 64)}
	values := []string{"", "kube-prometheus-stack", "a_b.c", "-x", "x y", strings.Repeat("v", 63), strings.Repeat("v", 64)}
	for _, k := range keys {
		for _, v := range values {
			err := targets.KubernetesOptions{RuleLabels: map[string]string{k: v}}.Validate()
			valid := len(validation.IsQualifiedName(k)) == 0 && len(validation.IsValidLabelValue(v)) == 0
			require.Equal(t, valid, err == nil, "label %q=%q: %v", k, v, err)
		}
		err := targets.KubernetesOptions{RuleAnnotations: map[string]string{k: "any text: at all"}}.Validate()
		require.Equal(t, len(validation.IsQualifiedName(k)) == 0, err == nil, "annotation %q: %v", k, err)
	}
	err := targets.KubernetesOptions{RuleLabels: map[string]string{"app.kubernetes.io/version": "9"}}.Validate()
	require.ErrorContains(t, err, "the generator sets this label")
	_, err = bundle.BuildWith(catalog.TensorWasm(), bundle.Options{Kubernetes: targets.KubernetesOptions{RuleLabels: map[string]string{"bad key": "x"}}})
	require.ErrorContains(t, err, `PrometheusRule label "bad key"`)
}
