package rules_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

// Native-histogram latency SLIs. The same observations are stored twice, as
// a classic histogram (_bucket, _count) and as a native one (schema 0,
// whose bucket bounds are the powers of two), and Prometheus' engine replays
// the generated rules over both. Where the threshold is a bound of both
// (0.25, 0.5, 1), the native SLI's tiles must equal the classic SLI's, tile
// by tile; at 0.3, a bound of neither, only the native SLI is valid, and its
// bad events lie between the classic ones at 0.25 and 0.5.
//
// The observations go through what the classic tiles are proven on (exact
// tests above): a restart that resets every count, a series that is
// exposed with no observations before its first (a pre-initialised label
// set, whose native fraction is NaN), latencies exactly at a bound (counted
// at or below it by both), and a scrape gap longer than the bridge.

const nativeMetric = "lat_seconds"

// nativeBounds are the classic buckets; each is a bound of the schema-0
// native buckets too.
var nativeBounds = []float64{0.25, 0.5, 1, 2}

// nativeSLO is a latency SLO on every request nativeMetric counts.
func nativeSLO(name string, threshold float64, native bool) model.SLO {
	return model.SLO{
		Name: name, Objective: 0.9,
		SLI: model.SLI{Latency: &model.Latency{Metric: nativeMetric, Threshold: threshold, Native: native}},
		Tiers: []model.Tier{{Name: "fast", Alert: strings.ReplaceAll(name, "_", "-") + "-fast-burn", Severity: model.Page,
			Long: model.Duration(time.Hour), Short: model.Duration(5 * time.Minute), Factor: 5}},
	}
}

func nativeService(t *testing.T, slos ...model.SLO) *model.Service {
	t.Helper()
	s := model.Spec{Name: "native", Version: "1.0.0", Services: []model.Service{{
		Name:               "native",
		Selector:           map[string]string{"job": "native"},
		EvaluationInterval: model.Duration(time.Minute),
		RunbookBaseURL:     "https://runbooks.example.com/native",
		GrafanaURL:         "https://grafana.example.com",
		Metrics:            []model.Metric{{Name: nativeMetric, Type: model.Histogram, Labels: []string{"status"}, Buckets: nativeBounds}},
		SLOs:               slos,
	}}}
	s.SetDefaults()
	require.NoError(t, s.Validate())
	return &s.Services[0]
}

// observation is one request: when it was served and how long it took.
type observation struct {
	at      time.Time
	seconds float64
}

// nativeIndex is the schema-0 bucket holding v: bucket i is (2^(i-1), 2^i].
func nativeIndex(v float64) int {
	frac, exp := math.Frexp(v) // v = frac x 2^exp, frac in [0.5, 1)
	if frac == 0.5 {
		return exp - 1
	}
	return exp
}

// The native buckets span (2^(lowIndex-1), 2^highIndex]; observations are
// kept within.
const lowIndex, highIndex = -6, 7

// histogramSeries is one label set's histogram as a process exposes it.
type histogramSeries struct {
	status string
	// restart: the counts start again from zero at this time.
	restart time.Time
	obs     []observation
}

// since returns the observations counted at t: those after the last
// restart at or before t.
func (h histogramSeries) since(t time.Time) []observation {
	var out []observation
	for _, o := range h.obs {
		if o.at.After(t) {
			break
		}
		if !h.restart.IsZero() && !t.Before(h.restart) && o.at.Before(h.restart) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// store appends, for a scrape at t, the classic and the native form of the
// counts exposed at t.
func (h histogramSeries) store(at time.Time, add func(l labels.Labels, ts int64, v float64), addNative func(l labels.Labels, ts int64, fh *histogram.FloatHistogram)) {
	obs := h.since(at)
	ts := at.UnixMilli()
	base := map[string]string{"job": "native", "status": h.status}
	with := func(name string, kv ...string) labels.Labels {
		m := map[string]string{"__name__": name}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return labels.FromMap(m)
	}
	fh := &histogram.FloatHistogram{
		Schema: 0, ZeroThreshold: 1e-128,
		PositiveSpans:   []histogram.Span{{Offset: lowIndex, Length: uint32(highIndex - lowIndex + 1)}},
		PositiveBuckets: make([]float64, highIndex-lowIndex+1),
	}
	for _, o := range obs {
		fh.Count++
		fh.Sum += o.seconds
		fh.PositiveBuckets[nativeIndex(o.seconds)-lowIndex]++
	}
	for _, b := range nativeBounds {
		n := 0.0
		for _, o := range obs {
			if o.seconds <= b {
				n++
			}
		}
		add(with(model.BucketSeries(nativeMetric), "le", model.Decimal(b)), ts, n)
	}
	add(with(model.BucketSeries(nativeMetric), "le", "+Inf"), ts, fh.Count)
	add(with(model.CountSeries(nativeMetric)), ts, fh.Count)
	addNative(with(model.NativeHistogramSeries(nativeMetric)), ts, fh)
}

// nativeScenario is two hours of requests on two label sets: 200s from the
// start, with a restart at 50m and a scrape gap of 3m at 80m, and 500s
// exposed from the start but first observed at 30m.
func nativeScenario(r *rand.Rand) (series []histogramSeries, scrapes []time.Time) {
	latency := func() float64 {
		switch r.IntN(10) {
		case 0: // exactly at a bound: at or below it, in both forms
			return nativeBounds[r.IntN(len(nativeBounds))]
		case 1:
			return 0.3
		default:
			return math.Exp(r.NormFloat64()*0.8 - 1) // median 0.37s
		}
	}
	observe := func(from, to time.Time, perSecond float64) []observation {
		var out []observation
		for t := from; t.Before(to); t = t.Add(time.Duration(r.ExpFloat64() / perSecond * float64(time.Second))) {
			out = append(out, observation{t, math.Min(latency(), 100)})
		}
		return out
	}
	ok := histogramSeries{status: "200", restart: at(50 * time.Minute), obs: observe(epoch, at(2*time.Hour), 3)}
	failed := histogramSeries{status: "500", obs: observe(at(30*time.Minute), at(2*time.Hour), 0.5)}
	for t := epoch; !t.After(at(2 * time.Hour)); t = t.Add(scrape) {
		if !t.Before(at(80*time.Minute)) && t.Before(at(83*time.Minute)) {
			continue
		}
		scrapes = append(scrapes, t)
	}
	return []histogramSeries{ok, failed}, scrapes
}

func TestNativeTilesEqualClassicTilesAtSharedBucketBounds(t *testing.T) {
	svc := nativeService(t,
		nativeSLO("classic_250ms", 0.25, false), nativeSLO("native_250ms", 0.25, true),
		nativeSLO("classic_500ms", 0.5, false), nativeSLO("native_500ms", 0.5, true),
		nativeSLO("classic_1s", 1, false), nativeSLO("native_1s", 1, true),
		nativeSLO("native_300ms", 0.3, true),
	)
	groups, err := rules.Build(svc, "1.0.0")
	require.NoError(t, err)
	ev, err := evaluator.New(groups.Groups...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ev.Close() })

	ctx := context.Background()
	series, scrapes := nativeScenario(rand.New(rand.NewPCG(13, 6)))
	app := ev.Storage().Appender(ctx)
	for _, s := range series {
		for _, at := range scrapes {
			s.store(at, func(l labels.Labels, ts int64, v float64) {
				_, err := app.Append(0, l, ts, v)
				require.NoError(t, err)
			}, func(l labels.Labels, ts int64, fh *histogram.FloatHistogram) {
				_, err := app.AppendHistogram(0, l, ts, nil, fh)
				require.NoError(t, err)
			})
		}
	}
	require.NoError(t, app.Commit())
	end := at(2 * time.Hour)
	require.NoError(t, ev.Evaluate(ctx, epoch, end))

	tile := svc.EvaluationInterval
	tiles := func(record, slo string) map[int64]float64 {
		m, err := ev.QueryRange(ctx, model.RecordedSelector(record, svc.Name, slo), epoch, end, tile.Std())
		require.NoError(t, err)
		require.Len(t, m, 1, "%s of %s", record, slo)
		out := map[int64]float64{}
		for _, p := range m[0].Floats {
			out[p.T] = p.F
		}
		return out
	}
	for _, th := range []string{"250ms", "500ms", "1s"} {
		for _, record := range []string{model.BadEventsRecord(tile), model.TotalEventsRecord(tile)} {
			classic, native := tiles(record, "classic_"+th), tiles(record, "native_"+th)
			require.Equal(t, len(classic), len(native), "%s at %s: tiles", record, th)
			sum := 0.0
			for ts, c := range classic {
				n, ok := native[ts]
				require.True(t, ok, "%s at %s: no native tile at %s", record, th, time.UnixMilli(ts).Sub(epoch))
				require.InDelta(t, c, n, 1e-9, "%s at %s: tile at %s", record, th, time.UnixMilli(ts).Sub(epoch))
				sum += c
			}
			require.Positive(t, sum, "%s at %s counts events", record, th)
		}
	}

	// The period SLIs agree too, and 0.3 lies between 0.25 and 0.5.
	period := model.ErrorRatioRecord(svc.SLOs[0].Period)
	sli := func(slo string) float64 {
		return queryOne(t, ev, ctx, model.RecordedSelector(period, svc.Name, slo), end)
	}
	for _, th := range []string{"250ms", "500ms", "1s"} {
		require.InDelta(t, sli("classic_"+th), sli("native_"+th), 1e-12, th)
	}
	require.Less(t, sli("classic_500ms"), sli("native_300ms"))
	require.Less(t, sli("native_300ms"), sli("classic_250ms"))
	t.Logf("error ratios over the period: >250ms %.4f, >300ms %.4f (native), >500ms %.4f, >1s %.4f",
		sli("classic_250ms"), sli("native_300ms"), sli("classic_500ms"), sli("classic_1s"))
}

// A threshold between the classic bounds is refused for a classic
// histogram, whose tiles could only count a bucket, and accepted for a
// native one.
func TestAThresholdBetweenBucketBoundsNeedsANativeHistogram(t *testing.T) {
	nativeService(t, nativeSLO("native_300ms", 0.3, true))
	s := model.Spec{Name: "native", Version: "1.0.0", Services: []model.Service{*nativeService(t, nativeSLO("classic_500ms", 0.5, false))}}
	s.Services[0].SLOs[0].SLI.Latency.Threshold = 0.3
	err := s.Validate()
	require.ErrorContains(t, err, "services[0].slos[0].sli.latency.threshold: expected one of lat_seconds's bucket bounds [0.25 0.5 1 2], got 0.3 (any threshold needs a native histogram: native: true)")
	s.Services[0].SLOs[0].SLI.Latency.Native = true
	require.NoError(t, s.Validate())
}

// The native tiles read the histogram series itself, never its classic
// _bucket or _count, and SLOUnmeasured watches it: a Prometheus that
// scrapes only the classic series has none.
func TestNativeTilesReadOnlyTheNativeSeries(t *testing.T) {
	svc := nativeService(t, nativeSLO("native_300ms", 0.3, true))
	groups, err := rules.Build(svc, "1.0.0")
	require.NoError(t, err)
	sel := fmt.Sprintf(`%s{job="native"}`, nativeMetric)
	var read []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if strings.Contains(r.Expr, nativeMetric) {
				read = append(read, r.Expr)
				require.NotContains(t, r.Expr, model.BucketSeries(nativeMetric), r.Expr)
				require.NotContains(t, r.Expr, model.CountSeries(nativeMetric), r.Expr)
				require.Contains(t, r.Expr, sel, r.Expr)
			}
		}
	}
	require.Len(t, read, 4, "the bad and total tiles, SLOUnmeasured, and the page tier its unmeasured condition holds: %q", read)
}

// Debian's promtool 2.42 parses the native rules (histogram_count and
// histogram_fraction exist since 2.40); the bundles that use them are run
// on Prometheus 3 only, which scrapes native histograms by configuration.
func TestPromtool242AcceptsNativeHistogramRules(t *testing.T) {
	bin := debian.Binary(t, "promtool")
	svc := nativeService(t, nativeSLO("native_300ms", 0.3, true), nativeSLO("classic_500ms", 0.5, false))
	data, _, err := rules.File(svc, "1.0.0")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	out, err := exec.Command(bin, "check", "rules", path).CombinedOutput()
	require.NoError(t, err, "promtool check rules:\n%s", out)
	require.Contains(t, string(out), "SUCCESS")
}
