package catalog

import (
	"time"

	"github.com/tensorwasm/obsbundle/model"
)

// QuickEvaluation is QuickAvailability's evaluation interval.
const QuickEvaluation = 15 * time.Second

// QuickAvailability is TensorWasm's availability SLO alone, its 1h/6h/3d
// tiers scaled down to 5m/10m/30m and evaluated every QuickEvaluation, so
// that a whole incident (page, hold, resolve) on real servers takes
// minutes: the spec of the end-to-end fault and ruler tests.
func QuickAvailability() model.Spec {
	s := TensorWasm()
	svc := &s.Services[0]
	avail, _ := svc.SLO("availability_http")
	avail.Tiers = []model.Tier{
		{Name: "fast", Alert: "availability-fast-burn", Severity: model.Page, Long: minutes(5), Short: minutes(1), Factor: 14.4},
		{Name: "slow", Alert: "availability-slow-burn", Severity: model.Page, Long: minutes(10), Short: minutes(2), Factor: 6},
		{Name: "very-slow", Alert: "availability-very-slow-burn", Severity: model.Ticket, Long: minutes(30), Short: minutes(5), Factor: 1},
	}
	svc.SLOs, svc.Alerts = []model.SLO{avail}, nil
	svc.EvaluationInterval = model.Duration(QuickEvaluation)
	return s
}
