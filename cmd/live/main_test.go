package main

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func cli(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return "http://" + l.Addr().String()
}

func TestUsageErrorsExit2WithTheReason(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{name: "no command", want: "usage:"},
		{name: "an unknown command", args: []string{"replay"}, want: `live: unknown command "replay"`},
		{name: "backtest without a server", args: []string{"backtest"}, want: "-prometheus URL is required"},
		{name: "verify without a server", args: []string{"verify"}, want: "-prometheus URL is required"},
		{name: "a malformed header", args: []string{"backtest", "-prometheus", "http://x", "-header", "X-Scope-OrgID"}, want: `expected Name: value`},
		{name: "a malformed time", args: []string{"backtest", "-prometheus", "http://x", "-from", "yesterday"}, want: `-from: "yesterday": expected RFC 3339`},
		{name: "a token and a password", args: []string{"verify", "-prometheus", "http://x", "-bearer-token-file", "a", "-basic-auth-user", "u", "-basic-auth-password-file", "b"},
			want: "a bearer token and basic auth exclude each other"},
		{name: "a stray argument", args: []string{"verify", "-prometheus", "http://x", "extra"}, want: `unexpected argument "extra"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := cli(c.args...)
			require.Equal(t, exitUsage, code, stderr)
			require.Contains(t, stderr, c.want)
		})
	}
}

func TestUnreachableServers(t *testing.T) {
	url := closedURL(t)
	code, _, stderr := cli("verify", "-prometheus", url)
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "live verify: Prometheus at "+url+" is unreachable")

	code, _, stderr = cli("backtest", "-quiet", "-prometheus", url, "-to", "2026-11-02", "-from", "2026-11-01")
	require.Equal(t, exitFindings, code)
	require.Contains(t, stderr, "live backtest: Prometheus at "+url+" is unreachable")
}

func TestTimesAndTheDefaultRange(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-01T12:00:00+01:00": "2026-11-01T11:00:00Z",
		"2026-11-01":                "2026-11-01T00:00:00Z",
		"1793534400":                "2026-11-01T12:00:00Z",
		"1793534400.5":              "2026-11-01T12:00:00.5Z",
	} {
		got, err := parseTime(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got.Format(time.RFC3339Nano), in)
	}
	set, err := loadSet("")
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, period(set))
}
