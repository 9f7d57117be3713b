package alerttests_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
)

// Every combination of evaluation interval, alerting mode, for: and
// minEvents gets a test file: the arithmetic finds a firing for each.
func TestEveryVariantGetsATestFile(t *testing.T) {
	for _, every := range []time.Duration{10 * time.Second, 12 * time.Second, 15 * time.Second, 16 * time.Second, 20 * time.Second, 30 * time.Second, 48 * time.Second, time.Minute} {
		for _, mode := range []model.AlertingMode{model.RatioAlerting, model.BudgetAlerting} {
			for _, hold := range []time.Duration{0, 5 * time.Minute, 2 * time.Hour} {
				for _, minEvents := range []float64{0, 10, 1000} {
					name := fmt.Sprintf("every %s, %s, for %s, minEvents %g", every, mode, hold, minEvents)
					s := catalog.TensorWasm()
					svc := &s.Services[0]
					svc.EvaluationInterval = model.Duration(every)
					for i := range svc.SLOs {
						svc.SLOs[i].Alerting = mode
						svc.SLOs[i].MinEvents = minEvents
						for j := range svc.SLOs[i].Tiers {
							svc.SLOs[i].Tiers[j].For = model.Duration(hold)
						}
					}
					if s.Validate() != nil {
						continue // a window that is no multiple of the interval
					}
					_, err := file(t, svc)
					require.NoError(t, err, name)
				}
			}
		}
	}
}
