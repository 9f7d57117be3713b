package rules_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/rules"
)

// Generation does not load its rule files back; here every one must pass
// Prometheus' strict loader (expressions and templates checked) and load
// as exactly the groups that were built.
func TestEveryRuleFileLoadsAsBuilt(t *testing.T) {
	for _, svc := range services(t) {
		data, built, err := rules.File(svc, "1.0.0")
		require.NoError(t, err)
		parsed, err := rules.Parse(data)
		require.NoError(t, err, svc.Name)
		again, err := rules.Render(*parsed)
		require.NoError(t, err)
		want, err := rules.Render(*built)
		require.NoError(t, err)
		require.Equal(t, string(want), string(again), svc.Name)
	}
}
