package backtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/backtest"
	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/ruleset"
)

// fakePrometheus answers range-vector queries: series of the metrics in
// have (one sample a minute over the asked range), nothing for the rest.
func fakePrometheus(t *testing.T, have ...string) *promapi.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("query")
		metric := q[:strings.IndexAny(q, "{[")]
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[`)
		for _, m := range have {
			if m == metric {
				fmt.Fprintf(w, `{"metric":{"__name__":%q,"job":"tensor-wasm","status":"200"},"values":[[%s,"1"]]}`, m, r.URL.Query().Get("time"))
			}
		}
		fmt.Fprint(w, `]}}`)
	}))
	t.Cleanup(srv.Close)
	c, err := promapi.New("Prometheus", srv.URL, promapi.Options{})
	require.NoError(t, err)
	return c
}

func TestErrorsNameWhatIsMissing(t *testing.T) {
	set, err := ruleset.Builtin()
	require.NoError(t, err)
	to := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	from := to.Add(-4 * time.Hour)

	_, err = backtest.Run(context.Background(), backtest.Config{Prometheus: fakePrometheus(t), Primary: set, From: from, To: to})
	require.True(t, errors.Is(err, backtest.ErrNoData), "%v", err)
	require.ErrorContains(t, err, `holds no sample of tensor_wasm_http_request_duration_seconds_bucket{job="tensor-wasm"}`)
	require.ErrorContains(t, err, "between 2026-11-01T20:00:00Z and 2026-11-02T00:00:00Z")

	_, err = backtest.Run(context.Background(), backtest.Config{Prometheus: fakePrometheus(t, "tensor_wasm_http_requests_total"), Primary: set, From: from, To: to})
	require.ErrorContains(t, err, `missing series: `)
	require.ErrorContains(t, err, `holds no series of tensor_wasm_http_request_duration_seconds_bucket{job="tensor-wasm"}, tensor_wasm_http_request_duration_seconds_count{job="tensor-wasm"} between`)
	require.NotContains(t, err.Error(), "tensor_wasm_http_requests_total")

	_, err = backtest.Run(context.Background(), backtest.Config{Prometheus: fakePrometheus(t), Primary: set, From: to, To: to})
	require.ErrorContains(t, err, "the range is empty")
}

func TestClassOfReadsSlothAndPlainSeverities(t *testing.T) {
	for labels, want := range map[string]string{
		"severity=page": backtest.ClassPage, "severity=critical": backtest.ClassPage, "sloth_severity=page": backtest.ClassPage,
		"severity=ticket": backtest.ClassTicket, "severity=warning": backtest.ClassTicket, "severity=info": backtest.ClassOther,
	} {
		k, v, _ := strings.Cut(labels, "=")
		require.Equal(t, want, backtest.ClassOf(map[string]string{k: v}), labels)
	}
}
