package dashboards_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/internal/dashcheck"
)

// Every dashboard a bundle holds decodes strictly with the SDK's types:
// no unknown field, no missing required one.
func TestEveryDashboardDecodesStrictly(t *testing.T) {
	for name, s := range specs(t) {
		b, err := bundle.Build(s)
		require.NoError(t, err)
		require.NotEmpty(t, b.Dashboards, name)
		for _, path := range b.Dashboards {
			data, _ := b.File(path)
			require.NoError(t, dashcheck.Check(data), path)
		}
	}
}
