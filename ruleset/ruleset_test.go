package ruleset

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadReadsBundlesSpecsAndRuleFiles(t *testing.T) {
	cases := []struct {
		name, path, want string
		groups           int
		spec             bool
	}{
		{name: "a bundle directory", path: "../examples/bundles/tensor-wasm/1.0.0", want: "tensor-wasm 1.0.0", groups: 7},
		{name: "a spec", path: "../examples/inference-gateway.yaml", want: "inference-gateway.yaml", spec: true},
		{name: "a Sloth spec", path: "../examples/import/sloth.yaml", want: "sloth.yaml", spec: true},
		{name: "a plain rule file", path: "../examples/bundles/tensor-wasm/1.0.0/rules/tensor-wasm.rules.yaml", want: "tensor-wasm.rules.yaml", groups: 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Load(c.path)
			require.NoError(t, err)
			require.Contains(t, s.Name, c.want)
			require.NotEmpty(t, s.Groups)
			if c.groups > 0 {
				require.Len(t, s.Groups, c.groups)
			}
			require.Equal(t, c.spec, s.Spec != nil)
		})
	}
	_, err := Load("../examples")
	require.ErrorContains(t, err, "../examples is not a bundle directory")
}

func TestTheBundleDirectoryAndTheSpecReadTheSameSeries(t *testing.T) {
	dir, err := Load("../examples/bundles/tensor-wasm/1.0.0")
	require.NoError(t, err)
	builtin, err := Builtin()
	require.NoError(t, err)
	require.Equal(t, builtin.Dashboards, dir.Dashboards)
	text := func(sels []Selector) []string {
		var out []string
		for _, s := range sels {
			out = append(out, s.String())
		}
		return out
	}
	require.Equal(t, text(builtin.RawSelectors()), text(dir.RawSelectors()))
	require.Contains(t, text(dir.RawSelectors()), `tensor_wasm_http_requests_total{job="tensor-wasm",status=~"5.."}`)
	require.Equal(t, []string{
		`tensor_wasm_http_request_duration_seconds_bucket{job="tensor-wasm"}`,
		`tensor_wasm_http_request_duration_seconds_count{job="tensor-wasm"}`,
		`tensor_wasm_http_requests_total{job="tensor-wasm"}`,
		`up{job="tensor-wasm"}`,
	}, Fetch(dir))
	shortest, longest := dir.Intervals()
	require.Equal(t, "1m0s", shortest.String())
	require.Equal(t, "4m0s", longest.String())
}
