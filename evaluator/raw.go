package evaluator

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Raw holds raw float series in memory as plain slices of samples, for
// replays that read far more raw samples than they write: the engine then
// iterates arrays instead of decoding compressed chunks, and appending
// costs no encoding. Any number of evaluators may read one Raw (ReadRaw)
// while it is appended to, as long as each series is appended in time
// order and no query reads past what has been appended.
type Raw struct {
	mu     sync.RWMutex
	byKey  map[string]*rawSeries
	byName map[string][]*rawSeries // each sorted by labels
	all    []*rawSeries            // sorted by labels
}

type rawSeries struct {
	l labels.Labels
	// pts only grows at its end or drops its head, so a reader's copy of
	// the slice header stays valid while appends go on beyond it.
	pts []promql.FPoint
}

// NewRaw returns an empty store.
func NewRaw() *Raw {
	return &Raw{byKey: map[string]*rawSeries{}, byName: map[string][]*rawSeries{}}
}

// Append adds samples of the series l in time order, skipping any at or
// before the series' last sample (a sample on the boundary of two reads
// may come twice). It returns how many it added and whether the series is
// new.
func (r *Raw) Append(l labels.Labels, pts []promql.FPoint) (added int, isNew bool) {
	key := string(l.Bytes(nil))
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.byKey[key]
	if s == nil {
		s = &rawSeries{l: l}
		r.byKey[key] = s
		name := l.Get(prommodel.MetricNameLabel)
		r.byName[name] = insertSorted(r.byName[name], s)
		r.all = insertSorted(r.all, s)
		isNew = true
	}
	for _, p := range pts {
		if n := len(s.pts); n > 0 && p.T <= s.pts[n-1].T {
			continue
		}
		s.pts = append(s.pts, p)
		added++
	}
	return added, isNew
}

func insertSorted(list []*rawSeries, s *rawSeries) []*rawSeries {
	i := sort.Search(len(list), func(i int) bool { return labels.Compare(list[i].l, s.l) > 0 })
	return slices.Insert(list, i, s)
}

// Trim drops every sample before t (milliseconds), which no later query
// reads. The dropped head of a slice is freed when the slice next grows.
func (r *Raw) Trim(t int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.all {
		i := sort.Search(len(s.pts), func(i int) bool { return s.pts[i].T >= t })
		s.pts = s.pts[i:]
		if len(s.pts) == 0 {
			s.pts = nil
		}
	}
}

// holds says whether the store has series named name.
func (r *Raw) holds(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.byName[name]) > 0
}

// selectSeries returns the series the matchers select, sorted by labels,
// each cut to the samples in [mint, maxt].
func (r *Raw) selectSeries(mint, maxt int64, ms ...*labels.Matcher) storage.SeriesSet {
	r.mu.RLock()
	list := r.all
	for _, m := range ms {
		if m.Name == prommodel.MetricNameLabel && m.Type == labels.MatchEqual {
			list = r.byName[m.Value]
		}
	}
	var out []storage.Series
	for _, s := range list {
		if !matches(s.l, ms) {
			continue
		}
		pts := s.pts
		lo := sort.Search(len(pts), func(i int) bool { return pts[i].T >= mint })
		hi := sort.Search(len(pts), func(i int) bool { return pts[i].T > maxt })
		out = append(out, promql.NewStorageSeries(promql.Series{Metric: s.l, Floats: pts[lo:hi]}))
	}
	r.mu.RUnlock()
	return &rawSet{series: out, i: -1}
}

func matches(l labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

type rawSet struct {
	series []storage.Series
	i      int
}

func (s *rawSet) Next() bool {
	s.i++
	return s.i < len(s.series)
}
func (s *rawSet) At() storage.Series                { return s.series[s.i] }
func (s *rawSet) Err() error                        { return nil }
func (s *rawSet) Warnings() annotations.Annotations { return nil }

// queryable routes the engine's reads: series the Raw store holds come from
// it, every other (recorded series, ALERTS) from the TSDB.
type queryable struct{ e *Evaluator }

func (q queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	db, err := q.e.db.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return &querier{Querier: db, e: q.e, mint: mint, maxt: maxt}, nil
}

type querier struct {
	storage.Querier // the TSDB's
	e               *Evaluator
	mint, maxt      int64
}

func (q *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	raw := q.e.raw
	name := ""
	for _, m := range ms {
		if m.Name == memoLabel {
			return q.e.selectMemo(m.Value, q.mint, q.maxt)
		}
		if m.Name == prommodel.MetricNameLabel && m.Type == labels.MatchEqual {
			name = m.Value
		}
	}
	switch {
	case raw == nil || (name != "" && !raw.holds(name)):
		return q.Querier.Select(ctx, sortSeries, hints, ms...)
	case name != "" && !q.e.written[name]:
		return raw.selectSeries(q.mint, q.maxt, ms...)
	}
	return storage.NewMergeSeriesSet([]storage.SeriesSet{
		q.Querier.Select(ctx, true, hints, ms...),
		raw.selectSeries(q.mint, q.maxt, ms...),
	}, 0, storage.ChainedSeriesMerge)
}

// lookback is the engine's lookback delta.
const lookback = 5 * time.Minute

// Reach is how long before an evaluation the rules read series they do not
// write at most: over every such selector, its offset and range (and those
// of the subqueries around it) plus the engine's lookback. A Raw store may
// drop samples older than the next evaluation less Reach. ok is false when
// a selector reaches back without bound (an @ modifier).
func (e *Evaluator) Reach() (reach time.Duration, ok bool) {
	ok = true
	for _, g := range e.groups {
		for _, r := range g.rules {
			parser.Inspect(r.Query(), func(n parser.Node, path []parser.Node) error {
				vs, isVS := n.(*parser.VectorSelector)
				if !isVS || e.written[vs.Name] {
					return nil
				}
				d := lookback + max(vs.OriginalOffset, 0)
				if vs.Timestamp != nil || vs.StartOrEnd != 0 {
					ok = false
				}
				for _, p := range path {
					switch p := p.(type) {
					case *parser.MatrixSelector:
						d += p.Range
					case *parser.SubqueryExpr:
						d += p.Range + max(p.OriginalOffset, 0)
						if p.Timestamp != nil || p.StartOrEnd != 0 {
							ok = false
						}
					}
				}
				reach = max(reach, d)
				return nil
			})
		}
	}
	return reach, ok
}
