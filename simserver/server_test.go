package simserver_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser/posrange"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/sim"
	"github.com/tensorwasm/obsbundle/simserver"
)

// server runs a simulator whose clock the test moves.
func server(t *testing.T) (*httptest.Server, *time.Time) {
	t.Helper()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	spec := catalog.TensorWasm()
	s := simserver.New(catalog.Simulation(now, sim.Constant(10)), spec.Services[0].Metrics, func() time.Time { return now },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, &now
}

// scrape parses /metrics with Prometheus' own text parser.
func scrape(t *testing.T, url string) map[string]*dto {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(prommodel.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	out := map[string]*dto{}
	for name, f := range families {
		out[name] = &dto{typ: f.GetType().String(), n: len(f.GetMetric())}
	}
	return out
}

type dto struct {
	typ string
	n   int
}

func TestMetricsServeTheWholeContractWithTypes(t *testing.T) {
	ts, _ := server(t)
	families := scrape(t, ts.URL)
	for _, m := range catalog.TensorWasm().Services[0].Metrics {
		f, ok := families[m.Name]
		require.True(t, ok, m.Name)
		require.Equal(t, strings.ToUpper(string(m.Type)), f.typ, m.Name)
	}
	resp, err := http.Get(ts.URL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NotContains(t, string(body), `job=`, "the scraper attaches job and instance")
}

func TestIncidentsStartAndStopOverHTTP(t *testing.T) {
	ts, now := server(t)
	resp, err := http.Post(ts.URL+"/incidents?error_ratio=1&duration=10m", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp.Body.Close()

	*now = now.Add(time.Minute)
	failed := `tensor_wasm_http_requests_total{method="POST",route="/invoke",status="500"} 540`
	require.True(t, strings.Contains(get(t, ts.URL+"/metrics"), failed), "a minute at 10/s, 90%% on /invoke, all failing: want %s", failed)

	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/incidents", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	*now = now.Add(time.Minute)
	require.True(t, strings.Contains(get(t, ts.URL+"/metrics"), failed), "no more failures after the incident ends")

	resp, err = http.Post(ts.URL+"/incidents?error_ratio=2", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestWebhooksAreRecorded(t *testing.T) {
	ts, _ := server(t)
	payload := `{"status":"firing","alerts":[{"status":"firing","labels":{"alertname":"AvailabilityFastBurn","severity":"page"}}]}`
	resp, err := http.Post(ts.URL+"/alerts/page", "application/json", bytes.NewBufferString(payload))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got []simserver.Notification
	require.NoError(t, json.Unmarshal([]byte(get(t, ts.URL+"/alerts")), &got))
	require.Len(t, got, 1)
	require.Equal(t, "page", got[0].Receiver)
	require.Equal(t, "AvailabilityFastBurn", got[0].Alerts[0].Labels["alertname"])
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestIncidentControlIsBounded(t *testing.T) {
	ts, _ := server(t)
	post := func(query string) int {
		resp, err := http.Post(ts.URL+"/incidents?"+query, "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusBadRequest, post("error_ratio=1&duration=25h"), "longer than a day")
	for i := range 100 {
		require.Equal(t, http.StatusCreated, post("error_ratio=0.1&duration=1m"), "incident %d", i)
	}
	require.Equal(t, http.StatusTooManyRequests, post("error_ratio=0.1&duration=1m"), "the 101st incident")
}

// With native histograms on, a scraper that asks for the protobuf format
// (Prometheus 3 with scrape_native_histograms) gets the request latency as
// a native histogram beside its classic buckets, read here with
// Prometheus' own scrape parser: the native buckets hold every request, and
// at 1s, a bound of both (2^0 at schema 3), they count what the classic
// bucket counts. The text format is unchanged.
func TestNativeHistogramsAreServedInProtobufBesideTheClassicBuckets(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	spec := catalog.TensorWasm()
	scenario := catalog.Simulation(now, sim.Constant(10), sim.Incident{Duration: time.Hour, SlowRatio: 0.2, Routes: []string{"/invoke"}})
	scenario.HTTP.Native = true
	s := simserver.New(scenario, spec.Services[0].Metrics, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	now = now.Add(10 * time.Minute)

	req, err := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,text/plain;version=0.0.4;q=0.1`)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	p, err := textparse.New(body, resp.Header.Get("Content-Type"), nil, textparse.ParserOptions{KeepClassicOnClassicAndNativeHistograms: true})
	require.NoError(t, err)

	type nativeSeries struct {
		l  labels.Labels
		fh *histogram.FloatHistogram
	}
	native := map[string]nativeSeries{}
	classic := map[string]float64{}
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		var l labels.Labels
		switch e {
		case textparse.EntryHistogram:
			p.Labels(&l)
			_, _, h, fh := p.Histogram()
			require.Nil(t, h, "the simulation's counts are real numbers: float histograms")
			native[l.String()] = nativeSeries{l, fh}
		case textparse.EntrySeries:
			p.Labels(&l)
			_, _, v := p.Series()
			// Prometheus 3 spells the bound 1 as "1.0".
			if l.Get(prommodel.MetricNameLabel) == model.BucketSeries(catalog.HTTPRequestDuration) && model.LeMatcher(1).Matches(l.Get(labels.BucketLabel)) {
				l = labels.NewBuilder(l).Set(labels.BucketLabel, "1").Labels()
			}
			classic[l.String()] = v
		}
	}
	require.Len(t, native, 4, "route x status")
	served := 0
	for key, n := range native {
		l, fh := n.l, n.fh
		require.Equal(t, catalog.HTTPRequestDuration, l.Get(prommodel.MetricNameLabel))
		require.EqualValues(t, sim.NativeSchema, fh.Schema)
		count := classic[labels.NewBuilder(l).Set(prommodel.MetricNameLabel, model.CountSeries(catalog.HTTPRequestDuration)).Labels().String()]
		below := classic[labels.NewBuilder(l).Set(prommodel.MetricNameLabel, model.BucketSeries(catalog.HTTPRequestDuration)).Set(labels.BucketLabel, "1").Labels().String()]
		if count == 0 { // no failures simulated: the 500s' histograms are empty
			require.Zero(t, fh.Count, key)
			continue
		}
		served++
		require.InEpsilon(t, count, fh.Count, 1e-9, "%s: native and classic count", key)
		fraction, _ := promql.HistogramFraction(math.Inf(-1), 1, fh, "", posrange.PositionRange{})
		require.InEpsilon(t, below, fraction*fh.Count, 1e-9, "%s: requests within 1s", key)
	}

	require.Equal(t, 2, served, "both routes served requests")

	text := scrape(t, ts.URL)
	require.Equal(t, "HISTOGRAM", text[catalog.HTTPRequestDuration].typ)
}
