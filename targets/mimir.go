package targets

import (
	"strings"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/internal/generated"
)

// MimirNamespace renders a service's rule groups as one ruler namespace,
// the file format `mimirtool rules load` (and the Cortex tool) accepts.
//
// Those tools decode each group and encode it again with gopkg.in/yaml.v3
// at its default four-space indent before sending it to the ruler. An
// expression whose first line starts with a space is then written as a
// block scalar with an indentation indicator (|4-) that yaml.v3 misplaces
// inside a sequence, and the ruler refuses the group ("unable to decoded
// rule group"). The namespace's expressions start at their first
// character instead; PromQL ignores the whitespace.
func MimirNamespace(namespace string, groups rulefmt.RuleGroups) ([]byte, error) {
	gs := make([]rulefmt.RuleGroup, len(groups.Groups))
	for i, g := range groups.Groups {
		g.Rules = append([]rulefmt.Rule(nil), g.Rules...)
		for j := range g.Rules {
			g.Rules[j].Expr = strings.TrimLeft(g.Rules[j].Expr, " ")
		}
		gs[i] = g
	}
	return generated.YAML(struct {
		Namespace string              `yaml:"namespace"`
		Groups    []rulefmt.RuleGroup `yaml:"groups"`
	}{namespace, gs})
}
