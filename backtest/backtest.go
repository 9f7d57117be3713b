// Package backtest replays a bundle's rules over the history a Prometheus
// server holds: it downloads the raw series the rules read, chunk by chunk,
// into the evaluator's in-process TSDB, evaluates the rules there with
// Prometheus' engine, and reports when every alert would have fired, how
// often it would have paged or filed a ticket, and what each SLO spent.
package backtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/ruleset"
)

// Config is what to replay, over which history.
type Config struct {
	Prometheus *promapi.Client
	// Primary is the bundle under test; Compare, when set, is replayed on
	// the same data beside it.
	Primary, Compare *ruleset.Set
	From, To         time.Time
	// Chunk is how much history one request fetches (default 2h).
	Chunk time.Duration
	// Window is how much history is replayed at a time (default 1d): the
	// engine holds every step of a window for every series a rule reads,
	// so windows bound the replay's memory whatever the range.
	Window time.Duration
	// Parallel is how many requests are in flight at once (default 2).
	Parallel int
	// RemoteRead reads the history over the remote-read protocol instead
	// of the query API.
	RemoteRead bool
	// Progress, when set, receives a one-line progress indicator.
	Progress io.Writer
}

// Result is a backtest's findings.
type Result struct {
	From, To time.Time
	// Selectors are the raw series selectors fetched.
	Selectors []string
	Series    int
	Samples   int64
	// FetchSeconds and ReplaySeconds are the wall-clock times spent
	// fetching and replaying, which overlap; WallSeconds is the whole run.
	FetchSeconds, ReplaySeconds, WallSeconds float64
	Sets                                     []SetResult
	SLOs                                     []SLOResult
}

// Weeks is the range in weeks.
func (r *Result) Weeks() float64 { return r.To.Sub(r.From).Hours() / (24 * 7) }

// SetResult is one rule set's alerts.
type SetResult struct {
	Name    string
	Alerts  []AlertResult
	Pages   int
	Tickets int
	Other   int
	// PagesPerWeek and TicketsPerWeek are over the range.
	PagesPerWeek, TicketsPerWeek float64
}

// Alert classes: who hears of it.
const (
	ClassPage   = "page"
	ClassTicket = "ticket"
	ClassOther  = "other"
)

// AlertResult is one alert (a name and label set) over the range.
type AlertResult struct {
	Alert  string            `json:"alert"`
	Labels map[string]string `json:"labels"`
	// Class is page, ticket or other, from the severity labels.
	Class   string   `json:"class"`
	Firings []Firing `json:"firings"`
	PerWeek float64  `json:"perWeek"`
	// SLO is "service/slo" of the SLO the alert guards, when known.
	SLO string `json:"slo,omitempty"`
}

// Firing is one episode from firing to resolved.
type Firing struct {
	Start time.Time `json:"start"`
	// End is when it resolved; nil if still firing at the end of the range.
	End *time.Time `json:"end,omitempty"`
	// BudgetSpent is the fraction of the SLO's period error budget spent
	// from the start of the range to Start; nil when the alert guards no
	// known SLO.
	BudgetSpent *float64 `json:"budgetSpent,omitempty"`
}

// SLOResult is one SLO of the primary set over the range.
type SLOResult struct {
	Service   string  `json:"service"`
	SLO       string  `json:"slo"`
	Objective float64 `json:"objective"`
	Period    string  `json:"period"`
	// Bad and Total are the events over the range; SLI is 1 - bad/total,
	// BudgetRemaining 1 - (bad/total)/(1-objective). Both NaN without
	// traffic (JSON null).
	Bad             float64  `json:"bad"`
	Total           float64  `json:"total"`
	SLI             *float64 `json:"sli"`
	BudgetRemaining *float64 `json:"budgetRemaining"`
	// Burn is the burn rate over BurnWindow, sampled for the timeline.
	BurnWindow string  `json:"burnWindow"`
	Burn       []Point `json:"burn"`

	cum []Point // cumulative bad events at each tile
}

// Point is a value at a time.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Key is "service/slo".
func (s *SLOResult) Key() string { return s.Service + "/" + s.SLO }

// ErrNoData is returned when the range holds no sample of any series.
var ErrNoData = errors.New("no data")

// Run fetches the history, replays both sets and summarises.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if !cfg.From.Before(cfg.To) {
		return nil, fmt.Errorf("the range is empty: from %s is not before to %s", cfg.From.Format(time.RFC3339), cfg.To.Format(time.RFC3339))
	}
	if cfg.Chunk <= 0 {
		cfg.Chunk = 2 * time.Hour
	}
	sets := []*ruleset.Set{cfg.Primary}
	if cfg.Compare != nil {
		sets = append(sets, cfg.Compare)
	}
	// Evaluations align to the minute, as a server's would on a fresh start.
	from := cfg.From.Truncate(time.Minute)
	res := &Result{From: from, To: cfg.To, Selectors: ruleset.Fetch(sets...)}
	if len(res.Selectors) == 0 {
		return nil, errors.New("the rules read no raw series")
	}
	// The raw series are held once, in memory, for every evaluator, and
	// dropped once no later evaluation reads them.
	raw := evaluator.NewRaw()
	evs := make([]*evaluator.Evaluator, len(sets))
	var reach time.Duration
	bounded := true
	for i, s := range sets {
		ev, err := evaluator.New(s.Groups...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		defer ev.Close()
		ev.ReadRaw(raw)
		evs[i] = ev
		r, ok := ev.Reach()
		reach, bounded = max(reach, r), bounded && ok
	}
	if cfg.Window <= 0 {
		cfg.Window = 24 * time.Hour
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 2
	}
	// Windows are whole multiples of every group's interval, so each group
	// keeps its evaluation grid from one window to the next. Consecutive
	// windows share their boundary step, evaluated twice with the same
	// data and so the same results.
	_, longest := cfg.Primary.Intervals()
	if cfg.Compare != nil {
		if _, l := cfg.Compare.Intervals(); l > longest {
			longest = l
		}
	}
	step := cfg.Window.Truncate(lcm(longest, time.Minute))
	if step <= 0 {
		step = lcm(longest, time.Minute)
	}
	f := newFetcher(cfg, res, raw)
	type window struct{ from, to time.Time }
	var windows []window
	for ws := from; ws.Before(cfg.To); ws = ws.Add(step) {
		we := ws.Add(step)
		if we.After(cfg.To) {
			we = cfg.To
		}
		windows = append(windows, window{ws, we})
	}
	// The next window's history is fetched while this one is replayed:
	// Prometheus and the decoding run beside the engine. The buffer lets
	// the fetch run at most one window ahead.
	wall := time.Now()
	fetched := make(chan error, 1)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var fetchTime time.Duration
	go func() {
		defer close(fetched)
		for _, w := range windows {
			began := time.Now()
			err := f.fetch(fctx, w.to)
			fetchTime += time.Since(began)
			select {
			case fetched <- err:
			case <-fctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	// On an error, the fetch stops before the evaluators close.
	stop := func() {
		cancel()
		for range fetched {
		}
	}
	var replayTime time.Duration
	for _, w := range windows {
		if err := <-fetched; err != nil {
			stop()
			return nil, err
		}
		began := time.Now()
		// One evaluator at a time: each spreads its long range queries
		// over every core already.
		for i, ev := range evs {
			if err := ev.Evaluate(ctx, w.from, w.to); err != nil {
				stop()
				return nil, fmt.Errorf("replaying %s: %w", sets[i].Name, err)
			}
		}
		if bounded {
			raw.Trim(w.to.Add(-reach).UnixMilli())
		}
		replayTime += time.Since(began)
	}
	for range fetched {
	}
	if err := f.done(); err != nil {
		return nil, err
	}
	res.FetchSeconds = fetchTime.Seconds()
	began := time.Now()
	slos, err := sloResults(ctx, evs[0], cfg.Primary, from, cfg.To)
	if err != nil {
		return nil, err
	}
	res.SLOs = slos
	for i, ev := range evs {
		res.Sets = append(res.Sets, setResult(sets[i].Name, ev.Events, res))
	}
	res.ReplaySeconds = (replayTime + time.Since(began)).Seconds()
	res.WallSeconds = time.Since(wall).Seconds()
	return res, nil
}

func lcm(a, b time.Duration) time.Duration {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	if x == 0 {
		return a + b
	}
	return a / x * b
}

// fetcher streams every selector's raw samples, chunk by chunk and in time
// order, into the evaluators' raw store. Requests run Parallel at a time,
// each decoded into memory (one chunk of one selector); they are stored in
// order. A range selector is closed on the left in Prometheus 2 (open in
// 3), so a sample on a chunk boundary may come twice: the store skips
// samples at or before a series' last.
type fetcher struct {
	cfg         Config
	res         *Result
	raw         *evaluator.Raw
	perSelector []int
	next        time.Time // start of the next chunk to fetch
	chunks, n   int
}

func newFetcher(cfg Config, res *Result, raw *evaluator.Raw) *fetcher {
	return &fetcher{cfg: cfg, res: res, raw: raw, perSelector: make([]int, len(res.Selectors)),
		next: res.From, chunks: int((cfg.To.Sub(res.From) + cfg.Chunk - 1) / cfg.Chunk)}
}

type fetched struct {
	series []rawSeries
	err    error
}

type rawSeries struct {
	l       labels.Labels
	samples []promql.FPoint
}

type job struct {
	start, end time.Time
	sel        int
	out        chan fetched
}

// fetch stores every chunk that ends at or before until (and the one that
// holds until).
func (f *fetcher) fetch(ctx context.Context, until time.Time) error {
	var jobs []job
	for ; f.next.Before(until); f.next = f.next.Add(f.cfg.Chunk) {
		end := f.next.Add(f.cfg.Chunk)
		if end.After(f.cfg.To) {
			end = f.cfg.To
		}
		for si := range f.res.Selectors {
			jobs = append(jobs, job{start: f.next, end: end, sel: si, out: make(chan fetched, 1)})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan job)
	go func() {
		defer close(queue)
		for _, j := range jobs {
			select {
			case queue <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range f.cfg.Parallel {
		go func() {
			for j := range queue {
				var got fetched
				read := f.cfg.Prometheus.Raw
				if f.cfg.RemoteRead {
					read = f.cfg.Prometheus.RemoteRaw
				}
				got.err = read(ctx, f.res.Selectors[j.sel], j.end, j.end.Sub(j.start), func(l labels.Labels, s []promapi.Sample) error {
					pts := make([]promql.FPoint, len(s))
					for i, p := range s {
						pts[i] = promql.FPoint{T: p.T, F: p.V}
					}
					got.series = append(got.series, rawSeries{l: l, samples: pts})
					return nil
				})
				j.out <- got
			}
		}()
	}
	for _, j := range jobs {
		got := <-j.out
		if got.err != nil {
			return got.err
		}
		for _, rs := range got.series {
			added, isNew := f.raw.Append(rs.l, rs.samples)
			if isNew {
				f.res.Series++
			}
			f.perSelector[j.sel]++
			f.res.Samples += int64(added)
		}
		if j.sel == len(f.res.Selectors)-1 {
			f.n++
			if f.cfg.Progress != nil {
				fmt.Fprintf(f.cfg.Progress, "\rfetching %s: chunk %d/%d, %s, %s samples ", j.start.Format("2006-01-02 15:04"), f.n, f.chunks, seriesCount(f.res.Series), count(f.res.Samples))
			}
		}
	}
	return nil
}

// done checks that the range held data, and data of every selector.
func (f *fetcher) done() error {
	cfg, res := f.cfg, f.res
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress)
	}
	if res.Samples == 0 {
		return fmt.Errorf("%w: %s holds no sample of %s between %s and %s", ErrNoData, cfg.Prometheus.URL(),
			strings.Join(res.Selectors, ", "), res.From.Format(time.RFC3339), cfg.To.Format(time.RFC3339))
	}
	var missing []string
	for i, c := range f.perSelector {
		// up is written by the scraping Prometheus: backfilled or
		// remote-written history may lack it, and the rules then judge
		// a service unmeasured by its SLI series alone.
		if c == 0 && !strings.HasPrefix(res.Selectors[i], model.UpSeries+"{") {
			missing = append(missing, res.Selectors[i])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing series: %s holds no series of %s between %s and %s; check the metric names and the service's selector",
			cfg.Prometheus.URL(), strings.Join(missing, ", "), res.From.Format(time.RFC3339), cfg.To.Format(time.RFC3339))
	}
	return nil
}

func count(n int64) string {
	switch {
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	case n >= 1e3:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// sloInfo is what the rules say about one SLO.
type sloInfo struct {
	service, slo           string
	objective              float64
	tile, period, burnName string
	burnWindow             string
}

// slosOf finds every SLO in the set by its recorded series: the objective,
// the finest event tile, the period (the longest error-ratio window) and a
// burn-rate window for the timeline (1h if recorded, else the shortest).
func slosOf(set *ruleset.Set) []sloInfo {
	by := map[string]*sloInfo{}
	var periods = map[string]time.Duration{}
	var tiles = map[string]time.Duration{}
	var burns = map[string]time.Duration{}
	var order []string
	for _, g := range set.Groups {
		for _, r := range g.Rules {
			svc, slo := r.Labels[model.LabelService], r.Labels[model.LabelSLO]
			if r.Record == "" || svc == "" || slo == "" {
				continue
			}
			key := svc + "/" + slo
			info := by[key]
			if info == nil {
				info = &sloInfo{service: svc, slo: slo, objective: math.NaN()}
				by[key] = info
				order = append(order, key)
			}
			window := func(prefix string) (time.Duration, bool) {
				if !strings.HasPrefix(r.Record, prefix) {
					return 0, false
				}
				d, err := model.ParseDuration(strings.TrimPrefix(r.Record, prefix))
				return d.Std(), err == nil
			}
			switch {
			case r.Record == model.ObjectiveRecord:
				v := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(r.Expr), "vector("), ")")
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					info.objective = f
				}
			}
			if d, ok := window("slo:bad_events:increase"); ok && (tiles[key] == 0 || d < tiles[key]) {
				tiles[key], info.tile = d, r.Record
			}
			if d, ok := window("slo:sli_error:ratio_rate"); ok && d > periods[key] {
				periods[key], info.period = d, model.Duration(d).String()
			}
			if d, ok := window("slo:burn_rate:ratio_rate"); ok {
				if burns[key] == 0 || d == time.Hour || (d < burns[key] && burns[key] != time.Hour) {
					burns[key], info.burnName, info.burnWindow = d, r.Record, model.Duration(d).String()
				}
			}
		}
	}
	var out []sloInfo
	for _, k := range order {
		if i := by[k]; i.tile != "" && !math.IsNaN(i.objective) {
			out = append(out, *i)
		}
	}
	return out
}

// timelinePoints bounds the points of a burn-rate timeline.
const timelinePoints = 720

func sloResults(ctx context.Context, ev *evaluator.Evaluator, set *ruleset.Set, from, to time.Time) ([]SLOResult, error) {
	var out []SLOResult
	for _, info := range slosOf(set) {
		sel := fmt.Sprintf("{%s=%q,%s=%q}", model.LabelService, info.service, model.LabelSLO, info.slo)
		tile, _ := model.ParseDuration(strings.TrimPrefix(info.tile, "slo:bad_events:increase"))
		r := SLOResult{Service: info.service, SLO: info.slo, Objective: info.objective, Period: info.period, BurnWindow: info.burnWindow}
		var err error
		if r.cum, r.Bad, err = cumulative(ctx, ev, info.tile+sel, from, to, tile.Std()); err != nil {
			return nil, err
		}
		totalName := "slo:total_events:increase" + strings.TrimPrefix(info.tile, "slo:bad_events:increase")
		if _, r.Total, err = cumulative(ctx, ev, totalName+sel, from, to, tile.Std()); err != nil {
			return nil, err
		}
		if r.Total > 0 {
			sli := 1 - r.Bad/r.Total
			left := 1 - (r.Bad/r.Total)/(1-r.Objective)
			r.SLI, r.BudgetRemaining = &sli, &left
		}
		if info.burnName != "" {
			step := (to.Sub(from) / timelinePoints).Truncate(time.Minute)
			if step < tile.Std() {
				step = tile.Std()
			}
			m, err := ev.QueryRange(ctx, info.burnName+sel, from, to, step)
			if err != nil {
				return nil, err
			}
			for _, s := range m {
				for _, p := range s.Floats {
					if !math.IsNaN(p.F) && !math.IsInf(p.F, 0) {
						r.Burn = append(r.Burn, Point{T: time.UnixMilli(p.T).UTC(), V: p.F})
					}
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// cumulative sums a tile series over [from, to], returning the running sum
// at every tile and the total.
func cumulative(ctx context.Context, ev *evaluator.Evaluator, q string, from, to time.Time, step time.Duration) ([]Point, float64, error) {
	m, err := ev.QueryRange(ctx, "sum("+q+")", from, to, step)
	if err != nil {
		return nil, 0, err
	}
	var pts []Point
	sum := 0.0
	for _, s := range m {
		for _, p := range s.Floats {
			if !math.IsNaN(p.F) {
				sum += p.F
			}
			pts = append(pts, Point{T: time.UnixMilli(p.T).UTC(), V: sum})
		}
	}
	return pts, sum, nil
}

// budgetSpent is the fraction of the period's error budget spent from the
// range's start to t: bad events so far over the bad events the budget
// allows in a period, with the period's traffic estimated from the range's.
func (s *SLOResult) budgetSpent(t time.Time, rangeLen time.Duration) *float64 {
	period, err := model.ParseDuration(s.Period)
	if err != nil || s.Total == 0 || len(s.cum) == 0 {
		return nil
	}
	i := sort.Search(len(s.cum), func(i int) bool { return s.cum[i].T.After(t) })
	bad := 0.0
	if i > 0 {
		bad = s.cum[i-1].V
	}
	allowed := (1 - s.Objective) * s.Total * period.Std().Seconds() / rangeLen.Seconds()
	v := bad / allowed
	return &v
}

// ClassOf says who hears of an alert, from Sloth's sloth_severity or the
// severity label.
func ClassOf(l map[string]string) string {
	for _, name := range []string{model.LabelSlothSeverity, model.LabelSeverity} {
		switch strings.ToLower(l[name]) {
		case "page", "critical", "pager", "pageteam":
			return ClassPage
		case "ticket", "warning", "slack":
			return ClassTicket
		}
	}
	return ClassOther
}

func setResult(name string, events []evaluator.Event, res *Result) SetResult {
	out := SetResult{Name: name}
	slos := map[string]*SLOResult{}
	for i := range res.SLOs {
		s := &res.SLOs[i]
		slos[s.Key()] = s
		slos[s.SLO] = s
	}
	byKey := map[string]*AlertResult{}
	var keys []string
	rangeLen := res.To.Sub(res.From)
	for _, e := range events {
		key := e.Labels.String()
		a := byKey[key]
		if a == nil {
			l := e.Labels.Map()
			delete(l, "alertname")
			a = &AlertResult{Alert: e.Alert, Labels: l, Class: ClassOf(l)}
			if s := slos[l[model.LabelService]+"/"+l[model.LabelSLO]]; s != nil {
				a.SLO = s.Key()
			} else if s := slos[l["sloth_slo"]]; s != nil {
				a.SLO = s.Key()
			}
			byKey[key] = a
			keys = append(keys, key)
		}
		switch e.State {
		case evaluator.Firing:
			if n := len(a.Firings); n > 0 && a.Firings[n-1].End == nil {
				continue // the same episode, reported again by the next window
			}
			f := Firing{Start: e.At.UTC()}
			if s := slos[a.SLO]; s != nil {
				f.BudgetSpent = s.budgetSpent(e.At, rangeLen)
			}
			a.Firings = append(a.Firings, f)
		case evaluator.Resolved:
			if n := len(a.Firings); n > 0 && a.Firings[n-1].End == nil {
				at := e.At.UTC()
				a.Firings[n-1].End = &at
			}
		}
	}
	for _, k := range keys {
		a := byKey[k]
		if len(a.Firings) == 0 {
			continue // pending only
		}
		a.PerWeek = float64(len(a.Firings)) / res.Weeks()
		switch a.Class {
		case ClassPage:
			out.Pages += len(a.Firings)
		case ClassTicket:
			out.Tickets += len(a.Firings)
		default:
			out.Other += len(a.Firings)
		}
		out.Alerts = append(out.Alerts, *a)
	}
	sort.SliceStable(out.Alerts, func(i, j int) bool {
		if out.Alerts[i].Alert != out.Alerts[j].Alert {
			return out.Alerts[i].Alert < out.Alerts[j].Alert
		}
		return labels.FromMap(out.Alerts[i].Labels).String() < labels.FromMap(out.Alerts[j].Labels).String()
	})
	out.PagesPerWeek = float64(out.Pages) / res.Weeks()
	out.TicketsPerWeek = float64(out.Tickets) / res.Weeks()
	return out
}
