package model

import "time"

// coarseFrom is the shortest window summed from the period's coarse tiles
// instead of the evaluation interval's fine ones. A coarse window lags the
// fine tiles by less than one PeriodTile (4m, about 1% of 6h), and reads
// PeriodTile/EvaluationInterval times fewer samples: at a 1m interval a 3d
// window reads 1,080 samples per series instead of 4,320, every evaluation.
const coarseFrom = Duration(6 * time.Hour)

// WindowTile is the width of the recorded tiles a window of width w is
// summed from: PeriodTile for windows of 6h or more that it divides evenly,
// else the service's evaluation interval.
func (s *Service) WindowTile(w Duration) Duration {
	if w >= coarseFrom && w%PeriodTile == 0 {
		return PeriodTile
	}
	return s.EvaluationInterval
}
