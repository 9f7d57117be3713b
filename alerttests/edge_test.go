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
