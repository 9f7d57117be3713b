package model

// SetDefaults fills what a spec may leave out. It is idempotent, and both the
// Go catalog and YAML specs go through it, so they share one set of defaults.
func (s *Spec) SetDefaults() {
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.EvaluationInterval == 0 {
			svc.EvaluationInterval = DefaultEvaluationInterval
		}
		if svc.Title == "" {
			svc.Title = svc.Name
		}
		for j := range svc.Metrics {
			m := &svc.Metrics[j]
			if m.Title == "" {
				m.Title = m.Name
			}
			if m.Row == "" {
				m.Row = DefaultRow
			}
		}
		for j := range svc.SLOs {
			o := &svc.SLOs[j]
			if o.Period == 0 {
				o.Period = DefaultPeriod
			}
			if o.FreezeBelow == 0 {
				o.FreezeBelow = DefaultFreezeBelow
			}
			if o.Alerting == "" {
				o.Alerting = RatioAlerting
			}
		}
	}
}
