package rules

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/internal/generated"
	"github.com/tensorwasm/obsbundle/model"
)

// Render writes groups as a Prometheus rule file.
func Render(groups rulefmt.RuleGroups) ([]byte, error) {
	return generated.YAML(groups)
}

// Parse reads a rule file the way Prometheus does: strictly (unknown fields
// are errors), with every expression and template checked. It wraps
// rulefmt.Parse, whose signature changes between Prometheus releases.
func Parse(content []byte) (*rulefmt.RuleGroups, error) {
	groups, errs := rulefmt.Parse(content, false, prommodel.UTF8Validation,
		parser.NewParser(parser.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return groups, errors.Join(errs...)
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
