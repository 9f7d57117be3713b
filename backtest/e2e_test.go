package backtest_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/backtest"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/promstack"
	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/ruleset"
	"github.com/tensorwasm/obsbundle/sim"
)

// history is the simulated TensorWasm of the end-to-end test: three days
// at a diurnal rate with 0.1% errors and three incidents.
func history(start time.Time) *sim.Scenario {
	s := catalog.Simulation(start, sim.Diurnal(20, 5),
		sim.Incident{Start: 20 * time.Hour, Duration: 20 * time.Minute, ErrorRatio: 1},                               // outage: fast burn
		sim.Incident{Start: 40 * time.Hour, Duration: 3 * time.Hour, ErrorRatio: 0.1},                                // slow burn
		sim.Incident{Start: 60 * time.Hour, Duration: 30 * time.Minute, SlowRatio: 0.3, Routes: []string{"/invoke"}}, // latency
	)
	s.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.001 }
	return s
}

const days = 3

type span struct {
	alert, labels string
	start, end    time.Time
}

// reference replays the same simulated history in-process and lists every
// firing episode.
func reference(t *testing.T, set *ruleset.Set, start, end time.Time) []span {
	ev, err := evaluator.New(set.Groups...)
	require.NoError(t, err)
	defer ev.Close()
	require.NoError(t, ev.Run(context.Background(), start, end, time.Minute, history(start).Scrape))
	var out []span
	open := map[string]int{}
	for _, e := range ev.Events {
		key := e.Labels.String()
		switch e.State {
		case evaluator.Firing:
			open[key] = len(out)
			out = append(out, span{alert: e.Alert, labels: key, start: e.At.UTC()})
		case evaluator.Resolved:
			if i, ok := open[key]; ok {
				out[i].end = e.At.UTC()
				delete(open, key)
			}
		}
	}
	return sortSpans(out)
}

func spans(set backtest.SetResult) []span {
	var out []span
	for _, a := range set.Alerts {
		l := map[string]string{"alertname": a.Alert}
		for k, v := range a.Labels {
			l[k] = v
		}
		for _, f := range a.Firings {
			s := span{alert: a.Alert, labels: labelString(l), start: f.Start}
			if f.End != nil {
				s.end = *f.End
			}
			out = append(out, s)
		}
	}
	return sortSpans(out)
}

func labelString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=\"" + m[k] + "\"")
	}
	b.WriteString("}")
	return b.String()
}

func sortSpans(s []span) []span {
	sort.Slice(s, func(i, j int) bool {
		if !s[i].start.Equal(s[j].start) {
			return s[i].start.Before(s[j].start)
		}
		return s[i].labels < s[j].labels
	})
	return s
}

// The backtest against Debian's real Prometheus, loaded with three days of
// simulated TensorWasm history through promtool's OpenMetrics import,
// reports every alert at the times an in-process replay of the same
// history gives, and sets a Sloth-style rule file beside the bundle.
func TestBacktestAgainstRealPrometheusMatchesInProcessReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	dir := t.TempDir()
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(-(days + 1) * 24 * time.Hour)
	end := start.Add(days * 24 * time.Hour)
	om := filepath.Join(dir, "history.om")
	require.NoError(t, promstack.WriteOpenMetrics(om, start, end, time.Minute, history(start).Scrape, nil))
	data := filepath.Join(dir, "data")
	promstack.Import(t, om, data)
	url := promstack.Prometheus(t, dir, data)

	primary, err := ruleset.Builtin()
	require.NoError(t, err)
	sloth, err := ruleset.Load("testdata/sloth-tensor-wasm.rules.yaml")
	require.NoError(t, err)
	client, err := promapi.New("Prometheus", url, promapi.Options{})
	require.NoError(t, err)
	var progress bytes.Buffer
	res, err := backtest.Run(context.Background(), backtest.Config{
		Prometheus: client, Primary: primary, Compare: sloth, From: start, To: end, Chunk: 6 * time.Hour, Progress: &progress,
	})
	require.NoError(t, err)
	t.Logf("fetched %d series, %d samples in %.1fs; replayed in %.1fs", res.Series, res.Samples, res.FetchSeconds, res.ReplaySeconds)
	require.Contains(t, progress.String(), "chunk 12/12")

	// Exactly the in-process replay's alerts, at the same times.
	require.Len(t, res.Sets, 2)
	want := reference(t, primary, start, end)
	require.NotEmpty(t, want)
	require.Equal(t, want, spans(res.Sets[0]))
	require.Equal(t, reference(t, sloth, start, end), spans(res.Sets[1]))

	// Each incident pages or tickets while it lasts.
	for _, in := range history(start).Incidents() {
		from, to := start.Add(in.Start), start.Add(in.Start+in.Duration)
		found := false
		for _, s := range want {
			found = found || (!s.start.Before(from) && !s.start.After(to.Add(10*time.Minute)))
		}
		require.True(t, found, "no alert for the incident at %s", from)
	}
	require.Positive(t, res.Sets[0].Pages)
	require.Positive(t, res.Sets[1].Pages)

	// The SLOs over the range: the outage and the 10% incident cost most of
	// the availability budget's share of three days.
	require.NotEmpty(t, res.SLOs)
	avail := res.SLOs[0]
	require.Equal(t, "tensor-wasm/availability_http", avail.Key())
	require.NotNil(t, avail.SLI)
	require.Less(t, *avail.SLI, 0.995)
	for _, a := range res.Sets[0].Alerts {
		if a.Alert == "AvailabilityFastBurn" {
			require.NotNil(t, a.Firings[0].BudgetSpent)
			require.Greater(t, *a.Firings[0].BudgetSpent, 0.0)
		}
	}

	// Remote read gives the same history, so the same alerts.
	remote, err := backtest.Run(context.Background(), backtest.Config{
		Prometheus: client, Primary: primary, Compare: sloth, From: start, To: end, RemoteRead: true,
	})
	require.NoError(t, err)
	require.Equal(t, res.Samples, remote.Samples)
	require.Equal(t, want, spans(remote.Sets[0]))
	require.Equal(t, spans(res.Sets[1]), spans(remote.Sets[1]))

	var text, md, svg, js bytes.Buffer
	res.Text(&text)
	res.Markdown(&md, map[string]string{avail.Key(): "timeline.svg"})
	res.SVG(&svg, avail)
	require.NoError(t, res.JSON(&js))
	t.Logf("summary:\n%s", text.String())
	require.Contains(t, text.String(), "On the same data, sloth-tensor-wasm.rules.yaml would have paged")
	require.Contains(t, md.String(), "| AvailabilityFastBurn | page |")
	require.Contains(t, svg.String(), "sloth-tensor-wasm.rules.yaml: TensorWasmAvailabilityPage")
	require.Contains(t, js.String(), `"budgetSpent"`)
}
