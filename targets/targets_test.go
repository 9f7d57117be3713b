package targets_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/dashcheck"
	"github.com/tensorwasm/obsbundle/internal/rulertool"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/targets"
)

func built(t *testing.T) *bundle.Bundle {
	t.Helper()
	b, err := bundle.Build(catalog.TensorWasm(), targets.Kubernetes, targets.Mimir, targets.GrafanaAlerting)
	require.NoError(t, err)
	return b
}

// strict decodes a Kubernetes YAML document into v, rejecting unknown fields.
func strict(t *testing.T, doc []byte, v any) {
	t.Helper()
	js, err := k8syaml.YAMLToJSON(doc)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v))
}

func TestPrometheusRuleDecodesWithTheOperatorsTypesAndHoldsTheRules(t *testing.T) {
	b := built(t)
	doc, ok := b.File("kubernetes/tensor-wasm-prometheusrule.yaml")
	require.True(t, ok)
	var pr monitoringv1.PrometheusRule
	strict(t, doc, &pr)
	require.Equal(t, monitoringv1.PrometheusRuleKind, pr.Kind)

	s := catalog.TensorWasm()
	want, err := rules.Build(&s.Services[0], s.Version)
	require.NoError(t, err)
	require.Len(t, pr.Spec.Groups, len(want.Groups))
	for i, g := range want.Groups {
		got := pr.Spec.Groups[i]
		require.Equal(t, g.Name, got.Name)
		require.Equal(t, g.Interval.String(), string(*got.Interval))
		require.Len(t, got.Rules, len(g.Rules))
		for j, r := range g.Rules {
			require.Equal(t, r.Expr, got.Rules[j].Expr.String())
			require.Equal(t, r.Record+r.Alert, got.Rules[j].Record+got.Rules[j].Alert)
		}
	}
}

func TestMimirNamespaceParsesWithRulefmt(t *testing.T) {
	doc, ok := built(t).File("mimir/tensor-wasm.yaml")
	require.True(t, ok)
	var ns struct {
		Namespace string `yaml:"namespace"`
	}
	require.NoError(t, yaml.Unmarshal(doc, &ns))
	require.Equal(t, "tensor-wasm", ns.Namespace)
	// The rest of the file, as written, is a Prometheus rule file.
	groups := strings.Replace(string(doc), "namespace: tensor-wasm\n", "", 1)
	parsed, err := rules.Parse([]byte(groups))
	require.NoError(t, err)
	require.NotEmpty(t, parsed.Groups)
}

func TestMimirNamespaceGroupsSurviveTheRulerToolsReencoding(t *testing.T) {
	b, err := bundle.Build(catalog.TensorWasm(), targets.Mimir)
	require.NoError(t, err)
	doc, ok := b.File(model.MimirFile("tensor-wasm"))
	require.True(t, ok)
	groups, err := rulertool.Groups(doc)
	require.NoError(t, err)
	require.NotEmpty(t, groups)
	for _, g := range groups {
		// What the tools send: yaml.v3's defaults, four-space indent.
		body, err := yaml.Marshal(&g)
		require.NoError(t, err)
		var back rulertool.Group
		require.NoError(t, yaml.Unmarshal(body, &back), "group %s as the tools send it:\n%s", g.Name, body)
		require.Len(t, back.Rules, len(g.Rules))
		for i := range g.Rules {
			require.Equal(t, g.Rules[i].Expr.Value, back.Rules[i].Expr.Value, "group %s rule %d", g.Name, i)
		}
	}
}

func TestDashboardConfigMapsCarryValidDashboardsForTheSidecar(t *testing.T) {
	b := built(t)
	n := 0
	for _, f := range b.Files {
		if !strings.HasPrefix(f.Path, "kubernetes/dashboards/") {
			continue
		}
		n++
		var cm corev1.ConfigMap
		strict(t, f.Data, &cm)
		require.Equal(t, "1", cm.Labels[targets.DashboardLabel])
		require.NotEmpty(t, cm.Annotations[targets.FolderAnnotation])
		require.Len(t, cm.Data, 1)
		for _, js := range cm.Data {
			require.NoError(t, dashcheck.Check([]byte(js)), f.Path)
		}
	}
	require.Equal(t, len(b.Dashboards), n)
}

func TestAlertmanagerSecretHoldsTheProductionConfiguration(t *testing.T) {
	b := built(t)
	doc, _ := b.File("kubernetes/alertmanager-secret.yaml")
	var s corev1.Secret
	strict(t, doc, &s)
	prod, _ := b.File(model.AlertmanagerFile)
	require.Equal(t, string(prod), s.StringData["alertmanager.yaml"])
	_, err := amconfig.Load(s.StringData["alertmanager.yaml"])
	require.NoError(t, err)
}

func TestUnknownTargetsAreRejected(t *testing.T) {
	_, err := targets.Parse("files,helm")
	require.ErrorContains(t, err, `unknown target "helm"`)
	ts, err := targets.Parse("files,kubernetes,mimir,grafana-alerting")
	require.NoError(t, err)
	require.Len(t, ts, 4)
}
