package promapi

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestOptionsAreCheckedBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		name string
		url  string
		opts Options
		want string
	}{
		{name: "a URL without a scheme", url: "localhost:9090", want: `Prometheus URL "localhost:9090": expected http(s)://host[:port][/path]`},
		{name: "a token and basic auth together", url: "http://x", opts: Options{BearerTokenFile: "a", BasicAuthPasswordFile: "b"}, want: "a bearer token and basic auth exclude each other"},
		{name: "a password without a user", url: "http://x", opts: Options{BasicAuthPasswordFile: write(t, "pw", "s3cret")}, want: "needs a user (-basic-auth-user)"},
		{name: "a token file that does not exist", url: "http://x", opts: Options{BearerTokenFile: "/nonexistent/token"}, want: "reading the bearer token file: open /nonexistent/token"},
		{name: "an empty token file", url: "http://x", opts: Options{BearerTokenFile: write(t, "token", "\n")}, want: "the bearer token file"},
		{name: "a CA file without a certificate", url: "https://x", opts: Options{CAFile: write(t, "ca.pem", "not a certificate")}, want: "holds no PEM certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New("Prometheus", c.url, c.opts)
			require.ErrorContains(t, err, c.want)
		})
	}
}

// headersSeen starts a server that records the request headers of the
// last request and answers an empty query result.
func headersSeen(t *testing.T) (string, *http.Header) {
	var seen http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &seen
}

func TestCredentialsAndHeadersAreSentWithEveryRequest(t *testing.T) {
	url, seen := headersSeen(t)
	cases := []struct {
		name   string
		opts   Options
		header string
		want   string
	}{
		{name: "a bearer token, its trailing newline dropped", opts: Options{BearerTokenFile: write(t, "token", "abc123\n")},
			header: "Authorization", want: "Bearer abc123"},
		{name: "basic auth from a password file", opts: Options{BasicAuthUser: "alice", BasicAuthPasswordFile: write(t, "pw", "s3cret\n")},
			header: "Authorization", want: "Basic YWxpY2U6czNjcmV0"},
		{name: "a Mimir tenant header", opts: Options{Headers: http.Header{"X-Scope-Orgid": {"tenant-1"}}},
			header: "X-Scope-OrgID", want: "tenant-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, err := New("Prometheus", url, c.opts)
			require.NoError(t, err)
			_, err = cl.Query(context.Background(), "up", time.Time{})
			require.NoError(t, err)
			require.Equal(t, c.want, seen.Get(c.header))
		})
	}
}

func TestErrorsSayWhatToCheck(t *testing.T) {
	status := func(code int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	l.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	cases := []struct {
		name, url string
		want      string
	}{
		{name: "a wrong token", url: status(401, "Unauthorized"), want: "HTTP 401 (authentication failed: check the bearer token or basic-auth password file)"},
		{name: "a wrong tenant", url: status(403, ""), want: "HTTP 403 (forbidden: the credentials lack access, or the tenant header is wrong)"},
		{name: "a wrong path prefix", url: status(404, "404 page not found"), want: "HTTP 404 (not found: is the URL the server's root"},
		{name: "a bad query", url: status(400, `{"status":"error","errorType":"bad_data","error":"parse error"}`), want: "HTTP 400: parse error"},
		{name: "nothing listening", url: closed, want: "Prometheus at " + closed + " is unreachable"},
		{name: "no answer in time", url: slow.URL, want: "no answer within the timeout (-timeout)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, err := New("Prometheus", c.url, Options{Timeout: 300 * time.Millisecond})
			require.NoError(t, err)
			_, err = cl.Query(context.Background(), "up", time.Time{})
			require.ErrorContains(t, err, c.want)
			if c.url == closed {
				var un *Unreachable
				require.True(t, errors.As(err, &un))
			}
		})
	}
}

func TestTLSWithTheGivenCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`))
	}))
	defer srv.Close()
	ca := write(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))

	cl, err := New("Prometheus", srv.URL, Options{})
	require.NoError(t, err)
	_, err = cl.Query(context.Background(), "1", time.Time{})
	require.ErrorContains(t, err, "certificate")

	cl, err = New("Prometheus", srv.URL, Options{CAFile: ca})
	require.NoError(t, err)
	v, err := cl.Query(context.Background(), "2", time.Time{})
	require.NoError(t, err)
	require.Equal(t, 2.0, v[0].Value)
}

func TestRawReadsEverySampleWithItsTimestamp(t *testing.T) {
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query().Get("query") + " @" + r.URL.Query().Get("time")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[
			{"metric":{"__name__":"x","job":"a"},"values":[[1700000000.123,"1"],[1700000015,"NaN"], [1700000030.5,"+Inf"]]},
			{"metric":{"__name__":"x","job":"b"},"values":[]}]}}`))
	}))
	defer srv.Close()
	cl, err := New("Prometheus", srv.URL, Options{})
	require.NoError(t, err)
	var got []string
	err = cl.Raw(context.Background(), `x{job=~"a|b"}`, time.UnixMilli(1700000040000), time.Hour, func(l labels.Labels, s []Sample) error {
		var b strings.Builder
		b.WriteString(l.String())
		for _, p := range s {
			b.WriteString(" " + time.UnixMilli(p.T).UTC().Format("15:04:05.000") + "=" + strconv.FormatFloat(p.V, 'g', -1, 64))
		}
		got = append(got, b.String())
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, `x{job=~"a|b"}[3600000ms] @1700000040.000`, query)
	require.Equal(t, []string{`{__name__="x", job="a"} 22:13:20.123=1 22:13:35.000=NaN 22:13:50.500=+Inf`, `{__name__="x", job="b"}`}, got)
}

func TestHeaderFlag(t *testing.T) {
	var f HeaderFlag
	require.NoError(t, f.Set("X-Scope-OrgID: tenant-1"))
	require.NoError(t, f.Set("X-Extra:a:b"))
	require.Equal(t, "tenant-1", f.H.Get("X-Scope-OrgID"))
	require.Equal(t, "a:b", f.H.Get("X-Extra"))
	require.ErrorContains(t, f.Set("no colon"), `header "no colon": expected Name: value (e.g. X-Scope-OrgID: tenant-1)`)
	require.ErrorContains(t, f.Set(": value"), "expected Name: value")
}
