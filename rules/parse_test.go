package rules_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	prommodel "github.com/prometheus/common/model"
	promrulefmt "github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/rules"
)

// Generation does not load its rule files back; here every one must pass
// Prometheus' own strict loader (expressions and templates checked) and
// this package's reader, and load as exactly the groups that were built.
func TestEveryRuleFileLoadsAsBuilt(t *testing.T) {
	for _, svc := range services(t) {
		data, built, err := rules.File(svc, "1.0.0")
		require.NoError(t, err)
		_, errs := promrulefmt.Parse(data, false, prommodel.UTF8Validation,
			parser.NewParser(parser.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
		require.NoError(t, errors.Join(errs...), svc.Name)
		parsed, err := rules.Parse(data)
		require.NoError(t, err, svc.Name)
		again, err := rules.Render(*parsed)
		require.NoError(t, err)
		want, err := rules.Render(*built)
		require.NoError(t, err)
		require.Equal(t, string(want), string(again), svc.Name)
	}
}
