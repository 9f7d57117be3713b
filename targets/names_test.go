package targets_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/targets"
)

// Object names are DNS subdomains and label values valid ones, for every
// service of a bundle and a version with build metadata.
func TestKubernetesNamesAndLabelsAreValid(t *testing.T) {
	s := examples.Pair(t)
	s.Version = "2.0.0+build.5"
	require.NoError(t, s.Validate())
	b, err := bundle.Build(s, targets.Kubernetes)
	require.NoError(t, err)
	paths := []string{model.AlertmanagerSecretFile}
	for _, path := range b.Dashboards {
		_, uid, _ := model.DashboardOf(path)
		paths = append(paths, model.DashboardConfigMapFile(uid))
	}
	for _, svc := range s.Services {
		paths = append(paths, model.PrometheusRuleFile(svc.Name))
	}
	objects := 0
	for _, path := range paths {
		data, ok := b.File(path)
		require.True(t, ok, path)
		var obj struct {
			Kind     string
			Metadata metav1.ObjectMeta
		}
		require.NoError(t, k8syaml.Unmarshal(data, &obj), path)
		objects++
		require.Empty(t, validation.IsDNS1123Subdomain(obj.Metadata.Name), "%s: %s", path, obj.Metadata.Name)
		for k, v := range obj.Metadata.Labels {
			require.Empty(t, validation.IsValidLabelValue(v), "%s: label %s=%q", path, k, v)
		}
		require.Equal(t, "2.0.0_build.5", obj.Metadata.Labels["app.kubernetes.io/version"])
	}
	require.Equal(t, 1+3+2, objects, "the Secret, a ConfigMap per dashboard (two services and the overview), a PrometheusRule per service")
}
