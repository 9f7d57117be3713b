package targets

import (
	"bytes"

	"github.com/prometheus/prometheus/model/rulefmt"
	"gopkg.in/yaml.v3"
)

// MimirNamespace renders a service's rule groups as one ruler namespace,
// the file format `mimirtool rules load` (and the Cortex tool) accepts.
func MimirNamespace(namespace string, groups rulefmt.RuleGroups) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(struct {
		Namespace string              `yaml:"namespace"`
		Groups    []rulefmt.RuleGroup `yaml:"groups"`
	}{namespace, groups.Groups}); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
