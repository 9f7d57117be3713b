package spec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/spec"
)

const good = "testdata/minimal.good.yaml"

func TestGoodSpecLoadsWithDefaults(t *testing.T) {
	s, err := spec.LoadFile(good)
	require.NoError(t, err)
	require.Equal(t, "2.1.0", s.Version)
	svc := s.Services[0]
	require.Equal(t, model.DefaultEvaluationInterval, svc.EvaluationInterval)
	require.Equal(t, model.DefaultPeriod, svc.SLOs[0].Period)
	require.Equal(t, 0.5, svc.SLOs[1].SLI.Latency.Threshold)
	require.Equal(t, model.Duration(3600e9), svc.SLOs[0].Tiers[0].Long)
}

// Each bad spec is the good one with one edit; the error must point at the
// line and column of the fault, name the field and say what was expected.
func TestBadSpecsNameFileLineFieldAndExpectation(t *testing.T) {
	base, err := os.ReadFile(good)
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		old, new string
		want     string
	}{
		{"an unknown field", "        objective: 0.999", "        objectiv: 0.999",
			`bad.yaml:19:9: services[0].slos[0].objectiv: unknown field "objectiv"; expected one of name, description, objective,`},
		{"an objective above 1", "objective: 0.999", "objective: 1.2",
			`bad.yaml:19:20: services[0].slos[0].objective: expected a ratio strictly between 0 and 1 (0.995 for 99.5%), got 1.2`},
		{"a 90% objective under a 14.4x tier", "objective: 0.999", "objective: 0.9",
			`bad.yaml:25:102: services[0].slos[0].tiers[0].factor: burn factor 14.4 needs an error ratio of 1.44 (14.4 x budget 0.1), which can never be reached, so the alert could never fire; set alerting: budget on the SLO to compare bad events with the budget instead, use a factor below 10, or an objective above 93.06%`},
		{"a budget tier that would spend more than the whole period's errors in its long window",
			"objective: 0.999\n        sli:\n          events:\n            metric: http_requests_total\n            bad: status=~\"5..\"\n        tiers:\n          - {name: fast, alert: availability-fast-burn, severity: page, long: 1h,",
			"objective: 0.5\n        period: 1d\n        alerting: budget\n        sli:\n          events:\n            metric: http_requests_total\n            bad: status=~\"5..\"\n        tiers:\n          - {name: fast, alert: availability-fast-burn, severity: page, long: 6h,",
			`bad.yaml:27:102: services[0].slos[0].tiers[0].factor: burn factor 14.4 over the long window 6h means spending 360% of the 1d error budget within 6h, but with a budget ratio of 0.5 a window spends at most 200% of it (every event of the period bad, all of them in the window), so the alert could never fire; use a factor below 8 or a long window shorter than 3h20m`},
		{"a latency threshold that is no bucket bound", "threshold: 0.5", "threshold: 0.3",
			`bad.yaml:32:24: services[0].slos[1].sli.latency.threshold: expected one of http_request_duration_seconds's bucket bounds [0.1 0.25 0.5 1], got 0.3 (any threshold needs a native histogram: native: true)`},
		{"a native histogram's threshold that is not positive", "threshold: 0.5", "threshold: 0\n            native: true",
			`bad.yaml:32:24: services[0].slos[1].sli.latency.threshold: expected a positive latency in seconds, got 0`},
		{"a native flag that is not a boolean", "threshold: 0.5", "threshold: 0.5\n            native: \"yes\"",
			`bad.yaml:33:21: services[0].slos[1].sli.latency.native: expected true or false, got "yes"`},
		{"duplicate SLO names", "      - name: latency", "      - name: availability",
			`bad.yaml:26:15: services[0].slos[1].name: duplicate SLO name "availability"`},
		{"a malformed selector", `bad: status=~"5.."`, `bad: status=~"5..`,
			`bad.yaml:23:18: services[0].slos[0].sli.events.bad: expected PromQL label matchers such as status=~"5..": `},
		{"good events beside bad ones", `bad: status=~"5.."`, `bad: status=~"5.."` + "\n            good: status=\"200\"",
			`bad.yaml:23:18: services[0].slos[0].sli.events.bad: expected either bad events (bad, badMetric) or good events (good, goodMetric), got both; leave bad out: the bad events are all events less the good ones`},
		{"a counter of successes outside the contract", `bad: status=~"5.."`, "goodMetric: ok_total",
			`bad.yaml:23:25: services[0].slos[0].sli.events.goodMetric: expected a counter of the service's metric contract, got "ok_total"`},
		{"a label the metric does not have", `bad: status=~"5.."`, `bad: code=~"5.."`,
			`bad.yaml:23:18: services[0].slos[0].sli.events.bad: label "code" is not among http_requests_total's labels [route status]`},
		{"a number where a string belongs", "name: shop\nversion", "name: 12\nversion",
			`bad.yaml:1:7: name: expected a string, got "12" (quote it)`},
		{"a malformed duration", "long: 1h", "long: 1hour",
			`bad.yaml:25:79: services[0].slos[0].tiers[0].long: expected a duration such as 5m or 30d, got "1hour"`},
		{"an unknown severity", "severity: page", "severity: critical",
			`bad.yaml:25:67: services[0].slos[0].tiers[0].severity: expected page or ticket, got "critical"`},
		{"broken YAML", "    slos:\n", "    slos: [\n",
			`bad.yaml:17:1: invalid YAML: did not find expected node content`},
		{"no metrics", "    metrics:\n      - name: http_requests_total\n        type: counter\n        labels: [route, status]\n      - name: http_request_duration_seconds\n        type: histogram\n        labels: [route, status]\n        buckets: [0.1, 0.25, 0.5, 1]\n", "    metrics: []\n",
			`bad.yaml:9:14: services[0].metrics: expected at least one metric: the contract is what every dashboard panel, SLO and alert reads; list the metrics the service exposes`},
		{"a title that climbs out of the dashboards directory", "  - name: shop\n", "  - name: shop\n    title: ../../../../escaped\n",
			`bad.yaml:5:12: services[0].title: the title names the dashboard's folder: expected it not to start with a dot, got "../../../../escaped"`},
		{"a title with a slash", "  - name: shop\n", "  - name: shop\n    title: /etc/shop\n",
			`bad.yaml:5:12: services[0].title: the title names the dashboard's folder: expected none of / \ : * ? " < > |, got "/etc/shop"`},
		{"a service name too long for a Grafana UID", "  - name: shop\n", "  - name: shop-with-a-name-far-too-long-for-uids\n",
			`bad.yaml:4:11: services[0].name: expected at most 32 characters (the dashboard UID "shop-with-a-name-far-too-long-for-uids-service" must fit Grafana's 40), got 38`},
		{"a version with a path in it", "version: 2.1.0", "version: 2.1.0/../../x",
			`bad.yaml:2:10: version: expected a semantic version such as 1.2.0, 1.0.0-rc.1 or 2.0.0+build.5, got "2.1.0/../../x"`},
		{"blank bad matchers", `bad: status=~"5.."`, `bad: " "`,
			`bad.yaml:23:18: services[0].slos[0].sli.events.bad: expected matchers that pick the bad events`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, string(base), tc.old, "the edit must apply")
			path := filepath.Join(t.TempDir(), "bad.yaml")
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(base), tc.old, tc.new, 1)), 0o644))
			_, err := spec.LoadFile(path)
			require.Error(t, err)
			require.Contains(t, err.Error(), path[:len(path)-len("bad.yaml")]+tc.want)
		})
	}
}

func TestSemanticVersionsWithPreReleaseAndBuildAreAccepted(t *testing.T) {
	base, err := os.ReadFile(good)
	require.NoError(t, err)
	for _, v := range []string{"1.0.0-rc.1", "2.0.0+build.5", "1.0.0-alpha.beta.1+exp.sha.5114f85"} {
		s, err := spec.Parse("v.yaml", []byte(strings.Replace(string(base), "version: 2.1.0", "version: "+v, 1)))
		require.NoError(t, err, v)
		require.Equal(t, v, s.Version)
	}
	for _, v := range []string{"1.0", "01.0.0", "1.0.0-", "1.0.0+", "1.0.0-01", "v1.0.0", "1.0.0+a/b"} {
		_, err := spec.Parse("v.yaml", []byte(strings.Replace(string(base), "version: 2.1.0", `version: "`+v+`"`, 1)))
		require.ErrorContains(t, err, "v.yaml:2:10: version: expected a semantic version", v)
	}
}

// A native histogram takes a latency threshold that no bucket bound
// matches: its fraction below the threshold is read from the histogram.
func TestANativeHistogramTakesAnyThreshold(t *testing.T) {
	base, err := os.ReadFile(good)
	require.NoError(t, err)
	s, err := spec.Parse("native.yaml", []byte(strings.Replace(string(base), "threshold: 0.5", "threshold: 0.3\n            native: true", 1)))
	require.NoError(t, err)
	l := s.Services[0].SLOs[1].SLI.Latency
	require.True(t, l.Native)
	require.Equal(t, 0.3, l.Threshold)
}

// A service with metrics and no SLOs is valid: its dashboards and metric
// contract are still worth a bundle.
func TestAServiceWithoutSLOsIsValid(t *testing.T) {
	base, err := os.ReadFile(good)
	require.NoError(t, err)
	noSLOs, _, ok := strings.Cut(string(base), "    slos:\n")
	require.True(t, ok)
	s, err := spec.Parse("no-slos.yaml", []byte(noSLOs))
	require.NoError(t, err)
	require.Empty(t, s.Services[0].SLOs)
}

func TestUnreadableSpecsSayWhy(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.yaml"), "missing.yaml: cannot read spec: no such file or directory"},
		{dir, ": cannot read spec: is a directory"},
	} {
		_, err := spec.LoadFile(tc.path)
		require.ErrorContains(t, err, tc.want)
	}
	empty := filepath.Join(dir, "empty.yaml")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err := spec.LoadFile(empty)
	require.ErrorContains(t, err, "empty.yaml: the spec is empty")
}

// The spec shown in the README must stay a valid spec.
func TestREADMEExampleLoads(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "## Spec format")
	require.True(t, ok)
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	require.True(t, ok)
	example, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	s, err := spec.Parse("README.md", []byte(example))
	require.NoError(t, err)
	require.Len(t, s.Services[0].Alerts, 2)
}
