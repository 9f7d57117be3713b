package model_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/model"
)

func TestRecordedSeriesAreSelectedByServiceAndSLO(t *testing.T) {
	require.Equal(t, `slo:objective:ratio{service="shop",slo="availability"}`, model.RecordedSelector(model.ObjectiveRecord, "shop", "availability"))
	expr, err := model.ParseExpr(model.RecordedSelector(model.BurnRateRecord(model.Duration(3600e9)), "shop", "latency_p95"))
	require.NoError(t, err)
	require.Equal(t, `slo:burn_rate:ratio_rate1h{service="shop",slo="latency_p95"}`, expr.String())
}

func TestBundlePathsReadBackAsTheirParts(t *testing.T) {
	svc, id, ok := model.RunbookOf(model.RunbookFile("shop", model.UnmeasuredAlert))
	require.True(t, ok)
	require.Equal(t, []string{"shop", model.UnmeasuredAlert}, []string{svc, id})
	for _, p := range []string{"runbooks/x.md", "runbooks/a/b/c.md", "rules/shop.rules.yaml", "runbooks/shop/x.txt"} {
		_, _, ok := model.RunbookOf(p)
		require.False(t, ok, p)
	}
	folder, uid, ok := model.DashboardOf(model.DashboardFile("Inference gateway", model.DashboardUID("gw")))
	require.True(t, ok)
	require.Equal(t, []string{"Inference gateway", "gw-service"}, []string{folder, uid})
	_, _, ok = model.DashboardOf(model.DashboardProviderFile)
	require.False(t, ok)
	require.True(t, model.IsRuleFile(model.RuleFile("shop")))
	require.False(t, model.IsRuleFile(model.RuleTestFile("shop")))
	require.True(t, model.IsAlertmanagerFile(model.AlertmanagerDemoFile))
}

// The runbook_url of an alert ends in the name of its runbook file: the
// service's runbookBaseURL publishes its directory of runbooks.
func TestRunbookURLsEndInTheRunbookFileName(t *testing.T) {
	svc := model.Service{Name: "shop", RunbookBaseURL: "https://runbooks.example.com/shop/"}
	require.Equal(t, "https://runbooks.example.com/shop/availability-fast-burn.md", svc.RunbookURL("availability-fast-burn"))
	require.Equal(t, "runbooks/shop/availability-fast-burn.md", model.RunbookFile("shop", "availability-fast-burn"))
}

func TestVersionsAreSemanticAndFitALabel(t *testing.T) {
	for _, v := range []string{"1.0.0", "1.0.0-rc.1", "2.0.0+build.5", "1.0.0-0.3.7", "1.0.0-x-y-z.--"} {
		require.NoError(t, model.CheckVersion(v), v)
	}
	for _, v := range []string{"", "1", "1.0", "v1.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "01.1.1", "1.0.0/..", "1.0.0 "} {
		require.ErrorContains(t, model.CheckVersion(v), "expected a semantic version", v)
	}
	require.ErrorContains(t, model.CheckVersion("1.0.0-abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"), "at most 63 characters")
	require.Equal(t, "2.0.0_build.5", model.KubernetesLabelValue("2.0.0+build.5"))
}

// Two bundles provisioned into one Grafana: their overviews share the
// folder, so UIDs and titles must differ, and a UID fits 40 characters
// whatever the bundle's name (up to 63).
func TestOverviewsOfTwoBundlesStayApart(t *testing.T) {
	long := strings.Repeat("a", 60)
	uids := map[string]bool{}
	for _, bundle := range []string{"shop", "payments", long + "bcd", long + "bce"} {
		uid := model.OverviewUID(bundle)
		require.LessOrEqual(t, len(uid), 40, uid)
		require.Regexp(t, `^[a-z0-9-]+$`, uid)
		require.False(t, uids[uid], "%s shared", uid)
		uids[uid] = true
		require.NotEqual(t, model.DashboardUID(bundle), uid)
	}
	require.NotEqual(t, model.OverviewTitle("shop"), model.OverviewTitle("payments"))
}
