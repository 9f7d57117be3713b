package alerttests_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
)

// A budget tier whose short window is one evaluation, held longer than its
// long window, needs traffic in every evaluation, so no input gives
// promtool's closed and Prometheus 3's open long windows the same sum. The
// test file still comes out, with promtool's value, and passes promtool.
func TestBudgetTierWithAOneEvaluationShortWindowHeldPastItsLongWindow(t *testing.T) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	svc.SLOs[0].Alerting = model.BudgetAlerting
	svc.SLOs[0].Tiers[0].Short = model.Duration(time.Minute)
	svc.SLOs[0].Tiers[0].For = model.Duration(2 * time.Hour)
	// A slower page tier would open the incident first and hold it.
	svc.SLOs[0].Tiers[1].Severity = model.Ticket
	require.NoError(t, s.Validate())
	data := generate(t, svc)
	out, err := runPromtool(t, writeBoth(t, svc, data))
	require.NoError(t, err, "promtool test rules:\n%s", out)
}

// A budget tier whose long window spends most of the errors its period can
// hold fires only after a quiet stretch of about that share of the
// period (the allowance averages it): here 0.83 of 30d at 1m needs about
// 9,000 quiet evaluations. Doubling from the long window's 16 jumps from
// 8,192, too few, to 16,384, more samples than promtool lets a query load
// from the period's window; the planner bisects up to that bound instead.
func TestBudgetTierNearlyAsLongAsItsPeriodAllows(t *testing.T) {
	if testing.Short() {
		t.Skip("promtool takes about two minutes over 9,000 evaluations")
	}
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	o := &svc.SLOs[0]
	o.Alerting, o.Objective = model.BudgetAlerting, 0.5
	o.Tiers = o.Tiers[:1]
	o.Tiers[0].Long, o.Tiers[0].Short, o.Tiers[0].Factor = model.Duration(time.Hour), model.Duration(5*time.Minute), 1200
	svc.SLOs, svc.Alerts = svc.SLOs[:1], nil
	require.NoError(t, s.Validate())
	data := generate(t, svc)
	out, err := runPromtool(t, writeBoth(t, svc, data))
	require.NoError(t, err, "promtool test rules:\n%s", out)
}
