package alerttests

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/model"
)

// aliveSeries is the unrelated series of the absent scenario, which keeps
// the test's storage from being empty.
var aliveSeries = labels.FromStrings(prommodel.MetricNameLabel, "up", "job", "alerttests")

// input is one input series of a scenario: its value at every sample. A
// native input is a native histogram whose every observation lies in the
// schema-0 bucket with index offset; values are its counts.
type input struct {
	series labels.Labels
	values []float64
	native bool
	offset int
}

// scenario is the data one test group feeds to the rules, and what the
// rule under test must do with it.
type scenario struct {
	name string
	// spacing is the time between input samples (the test group's
	// interval); sample i is at i*spacing.
	spacing time.Duration
	input   []input
	// at is the evaluation at which the alert first fires; alerts are
	// the alerts of its name firing then, and before those firing one
	// evaluation earlier (other SLOs' alerts of the same name, or none).
	at             time.Duration
	alerts, before []expAlert
}

// planner picks the scenario of every alerting rule of one service.
type planner struct {
	svc    *model.Service
	groups rulefmt.RuleGroups
	// absent maps an SLO to the selector its SLOUnmeasured rule watches,
	// read from the generated rules so the scenario follows them.
	absent map[string]string
	// absentRules are the SLOUnmeasured rules, by SLO.
	absentRules map[string]rulefmt.Rule
}

// newPlanner indexes the absent selectors of the generated groups.
func newPlanner(svc *model.Service, groups rulefmt.RuleGroups) (*planner, error) {
	p := &planner{svc: svc, groups: groups, absent: map[string]string{}, absentRules: map[string]rulefmt.Rule{}}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != model.AlertName(model.UnmeasuredAlert) {
				continue
			}
			sel, err := absentSelector(r.Expr)
			if err != nil {
				return nil, fmt.Errorf("alert %s of SLO %s: %w", r.Alert, r.Labels[model.LabelSLO], err)
			}
			p.absent[r.Labels[model.LabelSLO]] = sel
			p.absentRules[r.Labels[model.LabelSLO]] = r
		}
	}
	return p, nil
}

// absentSelector returns the selector inside absent(...) of expr.
func absentSelector(expr string) (string, error) {
	e, err := model.ParseExpr(expr)
	if err != nil {
		return "", err
	}
	var sel string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if c, ok := n.(*parser.Call); ok && c.Func.Name == "absent" && len(c.Args) == 1 {
			if vs, ok := c.Args[0].(*parser.VectorSelector); ok && sel == "" {
				sel = vs.String()
			}
		}
		return nil
	})
	if sel == "" {
		return "", fmt.Errorf("no absent(<selector>) in %q", expr)
	}
	return sel, nil
}

// scenario maps a generated alerting rule back to the model element it
// came from. A rule of an unknown kind is an error, so a new kind of alert
// cannot go untested unnoticed.
func (p *planner) scenario(r rulefmt.Rule) (scenario, error) {
	slo := r.Labels[model.LabelSLO]
	if r.Alert == model.AlertName(model.UnmeasuredAlert) {
		return p.absentScenario(r, slo)
	}
	for _, o := range p.svc.SLOs {
		for _, t := range o.Tiers {
			if o.Name == slo && t.RuleName() == r.Alert && t.Name == r.Labels[model.LabelTier] {
				return p.sloScenario(r, o, tierCondition(p.svc, o, t), &t)
			}
		}
	}
	for _, a := range p.svc.Alerts {
		if model.AlertName(a.Alert) != r.Alert {
			continue
		}
		switch {
		case a.ErrorRatio != nil:
			o, ok := p.svc.SLO(a.ErrorRatio.SLO)
			if !ok {
				return scenario{}, fmt.Errorf("unknown SLO %q", a.ErrorRatio.SLO)
			}
			return p.sloScenario(r, o, thresholdCondition(p.svc, a), nil)
		case a.Quantile != nil:
			return p.quantileScenario(r, a)
		}
	}
	return scenario{}, fmt.Errorf("no test scenario for this kind of alert")
}

// sloScenario makes every event of the SLO bad: its counters stay 0 for
// a quiet stretch, then count rate events per evaluation interval. The
// quiet stretch is as long as the rule needs: budget tiers want history
// (their allowance averages it, and they wait until it is as long as
// their long window).
//
// Where tier, the tier r alerts for, shares its alert name with other
// tiers of o, the scenario expects theirs too (shared.go).
func (p *planner) sloScenario(r rulefmt.Rule, o model.SLO, cond condition, tier *model.Tier) (scenario, error) {
	every := p.svc.EvaluationInterval.Std()
	rate := math.Max(1, math.Ceil(o.MinEvents))
	base, name, err := p.badSeries(o)
	if err != nil {
		return scenario{}, err
	}
	// Ratio tiers wait for their coverage guard: quiet tiles count, so
	// after a quiet stretch as long as the short window the tier fires on
	// its first bad events, as slower tiers cannot do sooner.
	quiet := 1
	if cond.tier {
		quiet = steps(cond.short, every) + 2
	}
	if o.Alerting == model.BudgetAlerting && cond.budget {
		quiet = int(math.Ceil(cond.long.Seconds()/model.PeriodTile.Std().Seconds())) + 1
	}
	// promtool loads at most promtoolSamples samples per range selector:
	// when the period window could hold more, so may the scenario not.
	longest := maxSteps
	if steps(o.Period.Std(), every) >= promtoolSamples-1 {
		longest = promtoolSamples - 2
	}
	limit := longest - steps(time.Duration(r.For), every) - 11 // fire's tiles, beyond the quiet stretch
	try := func(q int) (run, error) { return fire(o, cond, every, rate, q, time.Duration(r.For)) }
	run, err := quietest(quiet, limit, try)
	if err != nil && longest < maxSteps {
		// No scenario fits promtool's limit (a window needing more than
		// its samples of history): the spec is valid, so keep the longer
		// scenario, which the engine replays check and promtool 2.42
		// refuses to load (README).
		longest = maxSteps
		run, err = quietest(quiet, maxSteps-steps(time.Duration(r.For), every)-11, try)
	}
	if err == nil {
		sc := scenario{name: fmt.Sprintf("%s fires when every %s %s", r.Alert, o.Name, name), spacing: every, at: time.Duration(run.at) * every}
		counter := cumulative(run.tiles)
		for _, s := range base {
			v := counter
			if s.flat {
				v = make([]float64, len(counter))
			}
			sc.input = append(sc.input, input{series: s.series, values: v, native: s.native, offset: s.offset})
		}
		if err := p.notHeld(r, o, run); err != nil {
			return scenario{}, err
		}
		a, err := p.expAlert(r, labelsOf(r), sloResult(r), run.value)
		if err != nil {
			return scenario{}, err
		}
		sc.alerts = []expAlert{a}
		if tier != nil {
			at, before, err := p.namesakes(o, *tier, run, base)
			if err != nil {
				return scenario{}, err
			}
			sc.alerts, sc.before = append(sc.alerts, at...), before
			byLabels(sc.alerts)
			byLabels(sc.before)
		}
		return sc, nil
	}
	return scenario{}, fmt.Errorf("alert %s %v never fired within %d evaluations of its scenario: %w", r.Alert, r.Labels, longest, err)
}

// quietest returns the run of a quiet stretch that fires: the first of
// quiet, doubled while it does not, up to limit. Where the next doubling
// would pass limit, it tries limit itself and bisects down to the shortest
// stretch that fires (more quiet only lowers a budget tier's allowance,
// which averages it): a budget tier whose long window spends most of the
// errors its period can hold needs a long quiet stretch, which doubling
// alone overshoots.
func quietest(quiet, limit int, try func(int) (run, error)) (run, error) {
	lastErr := fmt.Errorf("no quiet stretch of %d evaluations or less fires", limit)
	for ; quiet <= limit; quiet *= 2 {
		r, err := try(quiet)
		if err == nil {
			return r, nil
		}
		lastErr = err
		if quiet < limit && quiet*2 > limit {
			r, err := try(limit)
			if err != nil {
				return run{}, lastErr
			}
			lo, hi := quiet, limit
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				if m, err := try(mid); err == nil {
					r, hi = m, mid
				} else {
					lo = mid
				}
			}
			return r, nil
		}
	}
	return run{}, lastErr
}

// notHeld checks that no slower page tier of o fires in page tier r's
// scenario before r does: it would open the incident and keep r from
// starting (package rules). Validation's page ladder rules it out; this
// says so if a spec slips through.
func (p *planner) notHeld(r rulefmt.Rule, o model.SLO, run run) error {
	factor := -1.0
	for _, t := range o.Tiers {
		if t.RuleName() == r.Alert && t.Name == r.Labels[model.LabelTier] && t.Severity == model.Page {
			factor = t.Factor
		}
	}
	if factor < 0 {
		return nil
	}
	every := p.svc.EvaluationInterval.Std()
	for _, t := range o.Tiers {
		if t.Severity != model.Page || t.Factor >= factor {
			continue
		}
		for _, rg := range []regime{promtool, engine} {
			at, _, ok := simulate(tierCondition(p.svc, o, t), run.tiles, every, steps(t.For.Std(), every), run.at, rg)
			if ok && at < run.at { // at one evaluation, r runs first (rules.tierAlerts)
				return fmt.Errorf("slower page tier %s fires at evaluation %d of the scenario, before %s at %d, and would hold the incident", t.Name, at, r.Alert, run.at)
			}
		}
	}
	return nil
}

// maxSteps bounds the evaluations a scenario may need.
const maxSteps = 1 << 17

// promtoolSamples is how many samples promtool's unit tests let one query
// load (promql.NewLazyLoader's engine); a range selector holding more
// fails the rule's evaluation.
const promtoolSamples = 10000

// part is one input series of an SLO scenario: a flat one stays 0, the
// others count the scenario's events. A native part is a native histogram
// whose observations all lie in the bucket with index offset.
type part struct {
	series labels.Labels
	flat   bool
	native bool
	offset int
}

// badSeries returns the series whose every event is bad for SLO o, and how
// the scenario's name describes them.
func (p *planner) badSeries(o model.SLO) ([]part, string, error) {
	switch {
	case o.SLI.Events != nil && o.SLI.Events.CountsGood():
		return p.notGoodSeries(o.SLI.Events)
	case o.SLI.Events != nil:
		total, bad := p.svc.EventSelectors(o.SLI.Events)
		lbls, err := concrete(bad)
		if err != nil {
			return nil, "", err
		}
		parts := []part{{series: lbls}}
		if o.SLI.Events.BadMetric != "" { // every failure is counted twice: as a failure and as an event
			all, err := concrete(total)
			if err != nil {
				return nil, "", err
			}
			parts = append(parts, part{series: all})
		}
		return parts, "event fails", nil
	case o.SLI.Latency != nil && o.SLI.Latency.Native:
		l := o.SLI.Latency
		h, err := concrete(p.svc.NativeHistogramSelector(l))
		if err != nil {
			return nil, "", err
		}
		return []part{{series: h, native: true, offset: nativeAbove(l.Threshold)}}, "request is slower than " + seconds(l.Threshold), nil
	case o.SLI.Latency != nil:
		l := o.SLI.Latency
		countSel, fastSel := p.svc.HistogramSelectors(l)
		count, err := concrete(countSel)
		if err != nil {
			return nil, "", err
		}
		fast := bucket(count, l.Metric, model.Decimal(l.Threshold))
		if err := verify(fast, fastSel); err != nil {
			return nil, "", err
		}
		return []part{{series: count}, {series: fast, flat: true}, {series: bucket(count, l.Metric, "+Inf")}},
			"request is slower than " + seconds(l.Threshold), nil
	}
	return nil, "", fmt.Errorf("SLO %s has no SLI", o.Name)
}

// notGoodSeries returns, for an SLI that names its good events, a series of
// all events that is not good and a good series that stays 0, so the rule's
// subtraction runs on both. With a counter of successes any series of all
// events will do; among one counter's series, the bad one refuses one of
// the good matchers, the first that a series of all events can refuse.
func (p *planner) notGoodSeries(e *model.EventRatio) ([]part, string, error) {
	total, _ := p.svc.EventSelectors(e)
	goodSel := p.svc.GoodSelector(e)
	good, err := concrete(goodSel)
	if err != nil {
		return nil, "", err
	}
	if e.GoodMetric != "" {
		all, err := concrete(total)
		if err != nil {
			return nil, "", err
		}
		return []part{{series: all}, {series: good, flat: true}}, "event fails", nil
	}
	scope, err := model.ParseMatchers(e.Total)
	if err != nil {
		return nil, "", err
	}
	ms, err := model.ParseMatchers(e.Good)
	if err != nil {
		return nil, "", err
	}
	for _, m := range ms {
		all, err := concrete(p.svc.Series(e.Metric, append(append([]*labels.Matcher{}, scope...), model.NegatedMatcher(m))...))
		if err != nil {
			continue
		}
		if ok, err := matchesAll(all, goodSel); err == nil && !ok {
			return []part{{series: all}, {series: good, flat: true}}, "event fails", nil
		}
	}
	return nil, "", fmt.Errorf("no series of %s escapes the good events %s", total, goodSel)
}

// quantileScenario puts every observation of the histogram in buckets
// whose lower bound is at or above the alert's threshold, so the quantile
// lies above it. Samples come twice per evaluation, so a rate() window as
// short as the evaluation interval holds two of them under both range
// semantics.
func (p *planner) quantileScenario(r rulefmt.Rule, a model.ThresholdAlert) (scenario, error) {
	q := a.Quantile
	every := p.svc.EvaluationInterval.Std()
	sel := p.svc.QuantileSelector(q)
	base, err := concrete(sel)
	if err != nil {
		return scenario{}, err
	}
	m, ok := p.svc.Metric(q.Metric)
	if !ok || len(m.Buckets) == 0 {
		return scenario{}, fmt.Errorf("histogram %s has no bucket bounds in the contract", q.Metric)
	}
	above := parseDecimal(a.Above)
	at := 1 + steps(time.Duration(r.For), every)
	samples := 2*at + 3
	rising, flat := make([]float64, samples), make([]float64, samples)
	for i := 2; i < samples; i++ {
		rising[i] = float64(i - 1)
	}
	var in []input
	var bs []bucketCount
	lower := 0.0
	for _, bound := range m.Buckets {
		values, count := flat, 0.0
		if lower >= above {
			values, count = rising, 1
		}
		in = append(in, input{series: bucket(base, q.Metric, model.Decimal(bound)), values: values})
		bs = append(bs, bucketCount{bound, count})
		lower = bound
	}
	in = append(in, input{series: bucket(base, q.Metric, "+Inf"), values: rising})
	bs = append(bs, bucketCount{math.Inf(1), 1})
	for _, s := range in {
		if err := verify(s.series, sel); err != nil {
			return scenario{}, err
		}
	}
	value := bucketQuantile(parseDecimal(q.Quantile), bs)
	if !(value > above) {
		return scenario{}, fmt.Errorf("the P%s quantile can never exceed %s: the histogram's highest bound is %s", model.Decimal(q.Quantile*100), model.Decimal(a.Above), model.Decimal(m.Buckets[len(m.Buckets)-1]))
	}
	exp, err := p.expAlert(r, labelsOf(r), map[string]string{}, value)
	if err != nil {
		return scenario{}, err
	}
	return scenario{
		name:    fmt.Sprintf("%s fires when every request is slower than %s", r.Alert, seconds(a.Above)),
		spacing: every / 2,
		input:   in,
		at:      time.Duration(at) * every,
		alerts:  []expAlert{exp},
	}, nil
}

// bucketCount is one cumulative bucket of a classic histogram.
type bucketCount struct{ upper, count float64 }

// bucketQuantile is Prometheus' histogram_quantile over classic buckets
// (sorted, cumulative, the last one +Inf).
func bucketQuantile(q float64, bs []bucketCount) float64 {
	total := bs[len(bs)-1].count
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	b := sort.Search(len(bs)-1, func(i int) bool { return bs[i].count >= rank })
	if b == len(bs)-1 {
		return bs[len(bs)-2].upper
	}
	if b == 0 && bs[0].upper <= 0 {
		return bs[0].upper
	}
	start, end, count := 0.0, bs[b].upper, bs[b].count
	if b > 0 {
		start = bs[b-1].upper
		count -= bs[b-1].count
		rank -= bs[b-1].count
	}
	return start + (end-start)*(rank/count)
}

// absentScenario removes every series the SLO's absent rule watches. The
// series every other SLO's absent rule watches stay present (as long as
// they do not match this one's); any other absent rule that still sees
// nothing fires at the same time and is expected too, since promtool
// compares every alert of the name.
func (p *planner) absentScenario(r rulefmt.Rule, slo string) (scenario, error) {
	sel, ok := p.absent[slo]
	if !ok {
		return scenario{}, fmt.Errorf("no absent rule for SLO %q", slo)
	}
	every := p.svc.EvaluationInterval.Std()
	at := steps(time.Duration(r.For), every)
	samples := at + 3
	alive := make([]float64, samples)
	for i := range alive {
		alive[i] = 1
	}
	in := []input{{series: aliveSeries, values: alive}}
	for _, o := range p.svc.SLOs {
		other, ok := p.absent[o.Name]
		if o.Name == slo || !ok {
			continue
		}
		lbls, err := concrete(other)
		if err != nil {
			return scenario{}, err
		}
		hides, err := matchesAll(lbls, sel)
		if err != nil {
			return scenario{}, err
		}
		if !hides {
			in = append(in, input{series: lbls, values: make([]float64, samples)})
		}
	}
	// Every SLO whose series are all missing here fires after its own
	// for: (a page sooner than a ticket), so some may already fire one
	// evaluation before this one does.
	var alerts, before []expAlert
	for _, o := range p.svc.SLOs {
		ar, ok := p.absentRules[o.Name]
		if !ok {
			continue
		}
		seen := false
		for _, s := range in {
			m, err := matchesAll(s.series, p.absent[o.Name])
			if err != nil {
				return scenario{}, err
			}
			seen = seen || m
		}
		fires := steps(time.Duration(ar.For), every)
		if seen || fires > at {
			continue
		}
		// The rule's expression yields one sample without labels
		// (vector(1)); the alert carries the rule's labels.
		a, err := p.expAlert(ar, labelsOf(ar), map[string]string{}, 1)
		if err != nil {
			return scenario{}, err
		}
		alerts = append(alerts, a)
		if fires < at {
			before = append(before, a)
		}
	}
	byLabels(alerts)
	byLabels(before)
	return scenario{
		name:    fmt.Sprintf("%s fires when the series of %s are missing", r.Alert, slo),
		spacing: every,
		input:   in,
		at:      time.Duration(at) * every,
		alerts:  alerts,
		before:  before,
	}, nil
}

// byLabels sorts expected alerts by their labels, for a stable file.
func byLabels(as []expAlert) {
	sort.Slice(as, func(i, j int) bool {
		return labels.Compare(labels.FromMap(as[i].Labels), labels.FromMap(as[j].Labels)) < 0
	})
}

// labelsOf is the label set of the alert of a rule whose expression yields
// the SLO's recorded identity labels (or none): the rule's own labels,
// which repeat them.
func labelsOf(r rulefmt.Rule) map[string]string {
	out := map[string]string{}
	for k, v := range r.Labels {
		out[k] = v
	}
	return out
}

// expAlert is the expectation of rule r's alert with these labels and value:
// the annotations expanded as Prometheus would, where $labels holds the
// labels of the expression's sample (result), not the rule's own labels.
func (p *planner) expAlert(r rulefmt.Rule, lbls, result map[string]string, value float64) (expAlert, error) {
	a := expAlert{Labels: lbls, Annotations: map[string]string{}}
	for k, text := range r.Annotations {
		s, err := expand(r.Alert, text, result, value)
		if err != nil {
			return expAlert{}, err
		}
		a.Annotations[k] = s
	}
	return a, nil
}

// sloResult is the labels of the samples an SLO's alert expressions yield:
// the identity labels of the recorded series they read.
func sloResult(r rulefmt.Rule) map[string]string {
	return map[string]string{model.LabelService: r.Labels[model.LabelService], model.LabelSLO: r.Labels[model.LabelSLO]}
}

// steps is how many evaluations `for:` takes: the alert fires at the first
// evaluation at least d after it became pending.
func steps(d, every time.Duration) int {
	return int((d + every - 1) / every)
}

// cumulative turns per-evaluation increments into counter values.
func cumulative(tiles []float64) []float64 {
	out := make([]float64, len(tiles))
	sum := 0.0
	for i, t := range tiles {
		sum += t
		out[i] = sum
	}
	return out
}

// parseDecimal reads back the decimal the rules spell v as, so the
// arithmetic compares with exactly the rule's constant.
func parseDecimal(v float64) float64 {
	f, err := strconv.ParseFloat(model.Decimal(v), 64)
	if err != nil {
		return v
	}
	return f
}

// bucket is the bucket series of histogram with upper bound le, carrying
// the other labels of base.
func bucket(base labels.Labels, histogram, le string) labels.Labels {
	b := labels.NewBuilder(base)
	b.Set(prommodel.MetricNameLabel, model.BucketSeries(histogram))
	b.Set(labels.BucketLabel, le)
	return b.Labels()
}

// seconds spells a latency in seconds as a duration for test names.
func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).String()
}

// nativeAbove is the schema-0 native bucket whose every observation is
// slower than threshold: bucket k holds (2^(k-1), 2^k], so its lower bound
// 2^(k-1) must be at or above the threshold.
func nativeAbove(threshold float64) int {
	return int(math.Ceil(math.Log2(threshold))) + 1
}

// nativeValuesString spells counts as native histograms in promtool's
// series notation, every observation in bucket offset (and at its upper
// bound, for the sum), runs of equal increments folded into `{{a}}+{{b}}xn`.
// Only promtool of Prometheus 3 reads it (Debian's 2.42 does not).
func nativeValuesString(vs []float64, offset int) string {
	upper := math.Exp2(float64(offset))
	return series(vs, func(c float64) string {
		n := strconv.FormatFloat(c, 'f', -1, 64)
		return fmt.Sprintf("{{schema:0 sum:%s count:%s buckets:[%s] offset:%d}}", strconv.FormatFloat(c*upper, 'f', -1, 64), n, n, offset)
	}, false)
}

// valuesString spells values in promtool's series notation, runs of equal
// increments folded into `a+bxn`.
func valuesString(vs []float64) string {
	return series(vs, func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }, true)
}

// series spells values with num, runs of equal increments folded into
// `a+bxn`; decreasing runs are folded into `a-bxn` if minus, else spelled
// one by one.
func series(vs []float64, num func(float64) string, minus bool) string {
	var parts []string
	for i := 0; i < len(vs); {
		if i+1 == len(vs) {
			parts = append(parts, num(vs[i]))
			break
		}
		d := vs[i+1] - vs[i]
		j := i + 1
		for j+1 < len(vs) && vs[j+1]-vs[j] == d {
			j++
		}
		switch {
		case d == 0:
			parts = append(parts, fmt.Sprintf("%sx%d", num(vs[i]), j-i))
		case d > 0:
			parts = append(parts, fmt.Sprintf("%s+%sx%d", num(vs[i]), num(d), j-i))
		case minus:
			parts = append(parts, fmt.Sprintf("%s-%sx%d", num(vs[i]), num(-d), j-i))
		default:
			parts = append(parts, num(vs[i]))
			j = i
		}
		i = j + 1
	}
	return strings.Join(parts, " ")
}
