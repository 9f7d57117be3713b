package model

// Guards reports whether the threshold alert a watches the events of SLO
// o: its error ratio, or a quantile of the histogram o's latency SLI reads,
// narrowed by the same matchers. Such an alert belongs to o as much as its
// tiers do: the SLO's panels link its runbook, and its runbook links them.
func (a ThresholdAlert) Guards(o SLO) bool {
	if a.ErrorRatio != nil {
		return a.ErrorRatio.SLO == o.Name
	}
	l := o.SLI.Latency
	return a.Quantile != nil && l != nil && a.Quantile.Metric == l.Metric && a.Quantile.Matchers == l.Matchers
}

// GuardedSLOs lists, in spec order, the SLOs the threshold alert a guards.
func (s *Service) GuardedSLOs(a ThresholdAlert) []SLO {
	var out []SLO
	for _, o := range s.SLOs {
		if a.Guards(o) {
			out = append(out, o)
		}
	}
	return out
}
