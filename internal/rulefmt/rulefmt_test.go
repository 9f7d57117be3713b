package rulefmt_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"
)

func TestParseIsStrict(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"unknown field", "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n        extra: 1\n", "field extra not found"},
		{"record and alert", "groups:\n  - name: g\n    rules:\n      - record: r\n        alert: A\n        expr: up\n", "exactly one of record and alert"},
		{"bad expression", "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: sum(\n", "rule 0 (r)"},
		{"unnamed group", "groups:\n  - rules:\n      - record: r\n        expr: up\n", "no name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rulefmt.Parse([]byte(tc.file))
			require.ErrorContains(t, err, tc.want)
		})
	}
	g, err := rulefmt.Parse([]byte("groups:\n  - name: g\n    interval: 1m\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5m\n"))
	require.NoError(t, err)
	require.Equal(t, "A", g.Groups[0].Rules[0].Alert)
	require.Equal(t, "5m", g.Groups[0].Rules[0].For.String())
}
