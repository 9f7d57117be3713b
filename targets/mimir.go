package targets

import (
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/internal/generated"
)

// MimirNamespace renders a service's rule groups as one ruler namespace,
// the file format `mimirtool rules load` (and the Cortex tool) accepts.
func MimirNamespace(namespace string, groups rulefmt.RuleGroups) ([]byte, error) {
	return generated.YAML(struct {
		Namespace string              `yaml:"namespace"`
		Groups    []rulefmt.RuleGroup `yaml:"groups"`
	}{namespace, groups.Groups})
}
