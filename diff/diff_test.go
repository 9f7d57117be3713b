package diff_test

import (
	"os"
	"path/filepath"
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
	key := "AvailabilityFastBurn{service=tensor-wasm,slo=availability_http,tier=fast}"
	require.Contains(t, r.Changes, diff.Change{Kind: "alert", What: key + " burn factor changed", Before: "14.4", After: "10"})
	c := find(t, r, key+" expression changed")
	require.Contains(t, c.Before, ">= 0.072")
	require.Contains(t, c.After, ">= 0.05")
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
	require.Contains(t, changes(r), "removed AvailabilityFastBurn{service=tensor-wasm-eu,slo=availability_http,tier=fast}")
	require.Contains(t, changes(r), "removed SLOUnmeasured{service=tensor-wasm-eu,slo=availability_http}")
	require.NotContains(t, changes(r), "service=tensor-wasm,")
}

func TestIdenticalBundlesHaveNoChanges(t *testing.T) {
	r, err := diff.Compare(write(t, catalog.TensorWasm()), write(t, catalog.TensorWasm()))
	require.NoError(t, err)
	require.Empty(t, r.Changes)
	require.Contains(t, r.String(), "No changes")
}

// find returns the one change whose What is what.
func find(t *testing.T, r *diff.Report, what string) diff.Change {
	t.Helper()
	for _, c := range r.Changes {
		if c.What == what {
			return c
		}
	}
	t.Fatalf("no change %q among:\n%s", what, changes(r))
	return diff.Change{}
}

// edit rewrites one file of a written bundle, replacing old by new once.
func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(file))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), old)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}

func TestChangingOnlyAnSLIMatcherShowsTheSLIBeforeAndAfter(t *testing.T) {
	old := catalog.TensorWasm()
	next := catalog.TensorWasm()
	next.Version = "1.0.1"
	next.Services[0].SLOs[0].SLI.Events.Bad = `status=~"5..|429"`
	r, err := diff.Compare(write(t, old), write(t, next))
	require.NoError(t, err)
	c := find(t, r, "slo:bad_events:increase1m{service=tensor-wasm,slo=availability_http} expression changed")
	require.Contains(t, c.Before, `status=~"5.."`)
	require.Contains(t, c.After, `status=~"5..|429"`)
	require.NotContains(t, changes(r), model.InfoRecord, "a version bump alone changes nothing a reviewer needs to read")
	require.NotContains(t, changes(r), "added")
	require.NotContains(t, changes(r), "removed")
	for _, c := range r.Changes {
		require.Contains(t, []string{"recording rule", "panel"}, c.Kind, "only the SLI's tiles and the panels that show the bad events change: %+v", c)
	}
	require.False(t, r.Breaking())
}

func TestChangingOnlyATierWindowShowsTheWindows(t *testing.T) {
	old := catalog.TensorWasm()
	next := catalog.TensorWasm()
	next.Services[0].SLOs[0].Tiers[2].Short = model.Duration(30 * time.Minute) // 30m is recorded for the slow tier already
	r, err := diff.Compare(write(t, old), write(t, next))
	require.NoError(t, err)
	key := "AvailabilityVerySlowBurn{service=tensor-wasm,slo=availability_http,tier=very-slow}"
	require.Contains(t, r.Changes, diff.Change{Kind: "alert", What: key + " windows changed", Before: "3d/6h", After: "3d/30m"})
	for _, c := range r.Changes {
		require.True(t, strings.HasPrefix(c.What, key), "only that alert changes: %+v", c)
	}
}

func TestChangingOnlyAPanelQueryShowsTheQuery(t *testing.T) {
	old, next := write(t, catalog.TensorWasm()), write(t, catalog.TensorWasm())
	dash := model.DashboardFile("TensorWasm", model.DashboardUID("tensor-wasm"))
	edit(t, next, dash, `[$__rate_interval]`, `[10m]`)
	r, err := diff.Compare(old, next)
	require.NoError(t, err)
	require.Len(t, r.Changes, 1, changes(r))
	c := r.Changes[0]
	require.Equal(t, "panel", c.Kind)
	require.Contains(t, c.Before, "[$__rate_interval]")
	require.Contains(t, c.After, "[10m]")
}

func TestAnUnparsablePanelQueryIsAnError(t *testing.T) {
	old, next := write(t, catalog.TensorWasm()), write(t, catalog.TensorWasm())
	edit(t, next, model.DashboardFile("TensorWasm", model.DashboardUID("tensor-wasm")), `[$__rate_interval]`, `[$__rate_interval`)
	_, err := diff.Compare(old, next)
	require.ErrorContains(t, err, "does not parse")
}

func TestChangingOnlyARouteShowsTheRoute(t *testing.T) {
	old, next := write(t, catalog.TensorWasm()), write(t, catalog.TensorWasm())
	edit(t, next, model.AlertmanagerFile, "repeat_interval: 1h", "repeat_interval: 30m")
	r, err := diff.Compare(old, next)
	require.NoError(t, err)
	require.Len(t, r.Changes, 1, changes(r))
	c := r.Changes[0]
	require.Equal(t, "route", c.Kind)
	require.Equal(t, model.AlertmanagerFile+`: route > alertname="SLOUnmeasured",severity="page" changed`, c.What)
	require.Contains(t, c.Before, `"repeat_interval":"1h"`)
	require.Contains(t, c.After, `"repeat_interval":"30m"`)
}

func TestRemovingAnAlertARouteMatchesByNameIsBreaking(t *testing.T) {
	old := catalog.TensorWasm()
	next := catalog.TensorWasm()
	next.Services[0].SLOs[0].Tiers = next.Services[0].SLOs[0].Tiers[:2]
	oldDir, nextDir := write(t, old), write(t, next)
	edit(t, oldDir, model.AlertmanagerFile, "routes:\n", "routes:\n    - matchers:\n        - alertname=~\"AvailabilityVery.*\"\n      receiver: ticket\n")
	r, err := diff.Compare(oldDir, nextDir)
	require.NoError(t, err)
	c := find(t, r, "removed AvailabilityVerySlowBurn{service=tensor-wasm,slo=availability_http,tier=very-slow} (an Alertmanager route matches it by name)")
	require.True(t, c.Breaking)
}
