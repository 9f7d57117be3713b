package diff_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/diff"
	"github.com/tensorwasm/obsbundle/model"
)

// write builds and writes the bundle of s, returning its directory.
func write(t *testing.T, s model.Spec) string {
	t.Helper()
	require.NoError(t, s.Validate())
	b, err := bundle.Build(s)
	require.NoError(t, err)
	dir, err := b.Write(t.TempDir())
	require.NoError(t, err)
	return dir
}

func changes(r *diff.Report) string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.What)
	}
	return strings.Join(out, "\n")
}

func TestThresholdChangeIsReportedAndNotBreaking(t *testing.T) {
	old := catalog.TensorWasm()
	next := catalog.TensorWasm()
	next.Version = "1.1.0"
	next.Services[0].SLOs[0].Tiers[0].Factor = 10
	r, err := diff.Compare(write(t, old), write(t, next))
	require.NoError(t, err)
	require.Contains(t, changes(r), "AvailabilityFastBurn{service=tensor-wasm,slo=availability_http} expression changed")
	require.Contains(t, changes(r), ">= 0.05")
	require.False(t, r.Breaking(), changes(r))
}

func TestRenamedRecordingRuleIsBreakingUnlessTheMajorVersionGoesUp(t *testing.T) {
	old := catalog.TensorWasm()
	next := catalog.TensorWasm()
	next.Version = "1.1.0"
	next.Services[0].EvaluationInterval = model.Duration(30 * time.Second) // slo:*:increase1m become increase30s
	r, err := diff.Compare(write(t, old), write(t, next))
	require.NoError(t, err)
	require.Contains(t, changes(r), "removed slo:bad_events:increase1m")
	require.Contains(t, changes(r), "added slo:bad_events:increase30s")
	require.True(t, r.Breaking(), "the old rules still read increase1m")
	require.False(t, r.MajorBumped())

	next.Version = "2.0.0"
	r, err = diff.Compare(write(t, old), write(t, next))
	require.NoError(t, err)
	require.True(t, r.Breaking())
	require.True(t, r.MajorBumped())
}

func TestRemovedPanelsAreReported(t *testing.T) {
	old := catalog.TensorWasm()
	next := catalog.TensorWasm()
	var kept []model.Metric
	for _, m := range next.Services[0].Metrics {
		if m.Row != "Snapshots" {
			kept = append(kept, m)
		}
	}
	next.Services[0].Metrics = kept
	r, err := diff.Compare(write(t, old), write(t, next))
	require.NoError(t, err)
	require.Contains(t, changes(r), "removed TensorWasm service: Snapshot duration P95")
	require.Contains(t, changes(r), "removed TensorWasm service: Snapshot failures rate")
	require.False(t, r.Breaking())
}

// Services of one bundle may share alert and SLO names; each alert is
// told apart by its service.
func TestAlertsOfServicesSharingNamesAreComparedPerService(t *testing.T) {
	old := catalog.TensorWasm()
	twin := old.Services[0]
	twin.Name, twin.Title = "tensor-wasm-eu", "TensorWasm EU"
	twin.Selector = map[string]string{"job": "tensor-wasm-eu"}
	old.Services = append(old.Services, twin)
	next := catalog.TensorWasm()
	next.Version = "2.0.0"
	r, err := diff.Compare(write(t, old), write(t, next))
	require.NoError(t, err)
	require.Contains(t, changes(r), "removed AvailabilityFastBurn{service=tensor-wasm-eu,slo=availability_http}")
	require.Contains(t, changes(r), "removed SLOUnmeasured{service=tensor-wasm-eu,slo=availability_http}")
	require.NotContains(t, changes(r), "service=tensor-wasm,")
}

func TestIdenticalBundlesHaveNoChanges(t *testing.T) {
	r, err := diff.Compare(write(t, catalog.TensorWasm()), write(t, catalog.TensorWasm()))
	require.NoError(t, err)
	require.Empty(t, r.Changes)
	require.Contains(t, r.String(), "No changes")
}
