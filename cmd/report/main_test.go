package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// The command replays any service, not only the built-in one: the
// simulated traffic comes from the spec's SLIs.
func TestReportSimulatesASpecsService(t *testing.T) {
	if testing.Short() {
		t.Skip("replays every tier with the engine")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"-spec", "../../spec/testdata/minimal.good.yaml"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	require.Contains(t, stdout.String(), "# Time to first alert: shop")
	require.Contains(t, stdout.String(), "simulated")
	t.Log(stdout.String())
}
