package rules

import (
	"fmt"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/internal/generated"
	"github.com/tensorwasm/obsbundle/model"
)

// Render writes groups as a Prometheus rule file.
func Render(groups rulefmt.RuleGroups) ([]byte, error) {
	return generated.YAML(groups)
}

// Parse reads a rule file strictly (unknown fields are errors), with every
// expression checked by Prometheus' parser. Tests load rule files with
// Prometheus' own loader too, which also checks templates.
func Parse(content []byte) (*rulefmt.RuleGroups, error) {
	return rulefmt.Parse(content)
}

// File builds and renders one service's rule file. It does not load the
// file back: generation is a pure function of the model, and the tests
// parse every generated file with Prometheus' loader (Parse) and promtool.
func File(svc *model.Service, bundleVersion string) ([]byte, *rulefmt.RuleGroups, error) {
	groups, err := Build(svc, bundleVersion)
	if err != nil {
		return nil, nil, err
	}
	out, err := Render(groups)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", model.RuleFile(svc.Name), err)
	}
	return out, &groups, nil
}
