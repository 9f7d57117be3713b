package simserver_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/simserver"
)

// A receiver on its own keeps the group key, so a test can tell a re-sent
// notification of one incident from a new incident.
func TestReceiverRecordsGroupKeysApartFromTheService(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	rc := simserver.NewReceiver(func() time.Time { return at }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(rc.Handler())
	defer ts.Close()
	payload := `{"status":"firing","groupKey":"{}/{severity=\"page\"}:{service=\"a\", slo=\"b\"}","groupLabels":{"service":"a","slo":"b"},
		"alerts":[{"status":"firing","labels":{"alertname":"AvailabilityFastBurn"},"fingerprint":"f1","startsAt":"2026-01-01T11:59:00Z"}]}`
	resp, err := http.Post(ts.URL+"/alerts/page", "application/json", bytes.NewBufferString(payload))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := rc.Notifications()
	require.Len(t, got, 1)
	require.Equal(t, "page", got[0].Receiver)
	require.Equal(t, at, got[0].At)
	require.Equal(t, `{}/{severity="page"}:{service="a", slo="b"}`, got[0].GroupKey)
	require.Equal(t, map[string]string{"service": "a", "slo": "b"}, got[0].GroupLabels)
	require.Equal(t, "f1", got[0].Alerts[0].Fingerprint)
}
