// Package specgen generates random valid specs, deterministically from a
// seed, for property tests over the whole input space: 1 to 4 services with
// 0 to 4 SLOs each, objectives from 0.5 to 0.99999, periods from 1d to 90d,
// every evaluation interval validation allows, random tiers in both alerting
// modes, events SLIs (naming bad or good events, on the counter of all
// events or on one of their own) and latency SLIs, threshold alerts, and
// label values full of quotes, backslashes and regular-expression
// metacharacters under every kind of matcher.
//
// Every generated spec must pass model validation; Generate panics if it
// does not, because that is a bug of the generator (or a finding about
// validation). Alongside each SLO it returns witnesses: the label sets of a
// series its SLI counts as good and of one it counts as bad, so a test can
// simulate traffic and outages for any generated spec.
package specgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// Generated is one random spec and what a test needs to drive it.
type Generated struct {
	Spec model.Spec
	// Witnesses of each SLO, by service index then SLO index.
	Witnesses [][]Witness
}

// Witness tells how to make an SLO's SLI count events: the labels (besides
// the service's selector) of a good and of a bad series. For an events SLI
// both are series of the counter; for a latency SLI they are label sets of
// the histogram, whose good observations fall in its first bucket and bad
// ones above its last.
type Witness struct {
	Metric    string
	Latency   bool
	Good, Bad map[string]string
	// GoodMetric and BadMetric, when set, are counters of their own that
	// count the good (bad) series' events again, as the SLI reads them.
	GoodMetric, BadMetric string
}

// Generate returns spec number index of the sequence for seed. The same
// (seed, index) always gives the same spec, so a failure names its input.
func Generate(seed uint64, index int) Generated {
	g := &gen{r: rand.New(rand.NewPCG(seed, uint64(index))), alt: rand.New(rand.NewPCG(seed^goodStream, uint64(index))),
		two: rand.New(rand.NewPCG(seed^counterStream, uint64(index)))}
	s := model.Spec{Name: fmt.Sprintf("gen-%d-%d", seed%1000, index), Version: fmt.Sprintf("%d.%d.%d", g.r.IntN(3), g.r.IntN(20), index)}
	var out Generated
	n := 1 + g.r.IntN(4)
	for i := range n {
		svc, ws := g.service(i)
		s.Services = append(s.Services, svc)
		out.Witnesses = append(out.Witnesses, ws)
	}
	// Names and severity values as other tools write them, from a stream
	// of their own, so the rest of every spec stays what it was.
	imported(rand.New(rand.NewPCG(seed^importStream, uint64(index))), &s)
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("specgen: spec %d of seed %d does not validate: %v\n%s", index, seed, err, YAML(s)))
	}
	out.Spec = s
	return out
}

// gen draws every choice from r, but for choices added after specs of a
// seed were first reported, drawn from streams of their own (alt: good
// events, two: a second counter) so the rest of each spec stays as it was.
type gen struct{ r, alt, two *rand.Rand }

// goodStream seeds alt apart from r, counterStream two, and importStream
// imported's stream apart from all.
const (
	goodStream    = 0x600d
	counterStream = 0xc0de
	importStream  = 0x5107
)

// imported gives some services' tiers what imports from Sloth carry: one
// alert name shared by every tier of an SLO, or of the whole service, and
// severity values of their own (pageteam, slack) that routes match.
func imported(r *rand.Rand, s *model.Spec) {
	for i := range s.Services {
		svc := &s.Services[i]
		shared := r.IntN(4) // 0: none, 1: per SLO, 2: per service, 3: none
		own := r.IntN(3) == 0
		for j := range svc.SLOs {
			o := &svc.SLOs[j]
			for k := range o.Tiers {
				t := &o.Tiers[k]
				switch shared {
				case 1:
					t.AlertName = model.AlertName(strings.ToLower(strings.ReplaceAll(o.Name, "_", "-"))) + "Burn"
				case 2:
					t.AlertName = model.AlertName(svc.Name) + "SLOBurn"
				}
				if own {
					t.Labels = map[string]string{model.LabelSeverity: map[model.Severity]string{model.Page: "pageteam", model.Ticket: "slack"}[t.Severity]}
				}
			}
		}
	}
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }

// Intervals are every evaluation interval validation allows, at the
// millisecond resolution Prometheus durations have: 10s to 1m, dividing 4m.
func Intervals() []time.Duration {
	var out []time.Duration
	tile := model.PeriodTile.Std().Milliseconds()
	for ms := int64(10_000); ms <= 60_000; ms++ {
		if tile%ms == 0 {
			out = append(out, time.Duration(ms)*time.Millisecond)
		}
	}
	return out
}

// weird are label values that must survive quoting in PromQL, YAML, JSON
// and regular expressions.
var weird = []string{
	"/api/v1/items", `/say "hello"`, `C:\temp\x`, `a.b*c+d?`, `(x|y)[z]{2}`, `^$`, `/\d+/`,
	"ünïcødé", "tab\there", "line\nbreak", `'single'`, "{{ $value }}", `$1\1`, "-dash", " spaced ",
}

var kebabWords = []string{"shop", "api", "edge", "gw", "billing", "search", "auth", "inference", "cart", "img"}

func (g *gen) kebab(i int) string {
	w := g.pick(kebabWords...)
	if g.chance(0.5) {
		w += "-" + g.pick(kebabWords...)
	}
	return fmt.Sprintf("%s-%d", w, i)
}

func (g *gen) service(i int) (model.Service, []Witness) {
	name := g.kebab(i)
	intervals := Intervals()
	interval := intervals[g.r.IntN(len(intervals))]
	if g.chance(0.3) {
		interval = time.Minute
	}
	svc := model.Service{
		Name:               name,
		Title:              g.pick("", "", "Shop", "Payments & Billing", "Edge 'proxy'", "API v2", "Ünïcode service", strings.ToUpper(name)),
		Description:        g.pick("", "A service.", `It says "hi" \o/`),
		Selector:           map[string]string{"job": g.pick(append([]string{name}, weird...)...)},
		EvaluationInterval: model.Duration(interval),
		RunbookBaseURL:     "https://runbooks.example.com/" + name + g.pick("", "/"),
		GrafanaURL:         g.pick("https://grafana.example.com", "http://localhost:3000/", "https://example.com/grafana"),
	}
	if g.chance(0.3) {
		svc.Selector["namespace"] = g.pick("prod", `we"ird`, `a\b`)
	}
	if g.chance(0.15) {
		svc.EvaluationInterval = 0 // the default, 1m
	}
	counter := g.pick("http_requests_total", "rpc_calls_total", "grpc_server_handled_total")
	hist := g.pick("http_request_duration_seconds", "rpc_latency_seconds")
	all := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	var buckets []float64
	for _, b := range all {
		if g.chance(0.5) {
			buckets = append(buckets, b)
		}
	}
	if len(buckets) == 0 {
		buckets = []float64{0.5}
	}
	svc.Metrics = []model.Metric{
		{Name: counter, Type: model.Counter, Labels: []string{"route", "status"}, Row: g.pick("", "Traffic")},
		{Name: hist, Type: model.Histogram, Labels: []string{"route", "method"}, Buckets: buckets, Row: g.pick("", "Latency")},
	}
	if g.chance(0.5) {
		svc.Metrics[0].OptionalLabels = []string{"tenant"}
	}
	if g.chance(0.4) {
		svc.Metrics = append(svc.Metrics, model.Metric{Name: "inflight_requests", Type: model.Gauge, Row: "Saturation"})
	}
	if g.chance(0.6) {
		svc.RouteLabel = "route"
	}

	alerts := map[string]bool{model.UnmeasuredAlert: true}
	claim := func(id string) string {
		for k := 2; alerts[id]; k++ {
			id = fmt.Sprintf("%s-%d", strings.TrimRightFunc(id, func(r rune) bool { return r == '-' || (r >= '0' && r <= '9') }), k)
		}
		alerts[id] = true
		return id
	}
	var ws []Witness
	nSLOs := g.r.IntN(5) // 0 to 4
	if g.chance(0.1) {
		nSLOs = 0
	}
	for j := range nSLOs {
		o, w := g.slo(&svc, j, claim)
		svc.SLOs = append(svc.SLOs, o)
		ws = append(ws, w)
	}
	for k := range g.r.IntN(3) {
		if a, ok := g.threshold(&svc, k, claim); ok {
			svc.Alerts = append(svc.Alerts, a)
		}
	}
	return svc, ws
}

var sloNames = []string{"availability", "latency", "Checkout_OK", "api2", "read_path", "writes", "p99"}

func (g *gen) slo(svc *model.Service, j int, claim func(string) string) (model.SLO, Witness) {
	name := sloNames[(j+g.r.IntN(len(sloNames)))%len(sloNames)]
	for _, o := range svc.SLOs {
		if o.Name == name {
			name = fmt.Sprintf("%s_%d", name, j)
		}
	}
	// Budgets are log-uniform from 1e-5 to 0.5, with at most 5 decimals.
	budget := math.Pow(10, -5+g.r.Float64()*(5+math.Log10(0.5)))
	objective := model.Clean(math.Round((1-budget)*1e5) / 1e5)
	objective = math.Min(math.Max(objective, 0.5), 0.99999)
	o := model.SLO{Name: name, Objective: objective, Description: g.pick("", "Requests succeed.")}
	if g.chance(0.7) {
		if g.chance(0.5) {
			o.Period = model.Duration(time.Duration(1+g.r.IntN(90)) * 24 * time.Hour)
		} else {
			o.Period = model.Duration(time.Duration(24+g.r.IntN(90*24-24+1)) * time.Hour)
		}
	}
	if g.chance(0.5) {
		o.Alerting = model.BudgetAlerting
	} else if g.chance(0.5) {
		o.Alerting = model.RatioAlerting
	}
	if g.chance(0.4) {
		o.MinEvents = []float64{1, 5, 10, 50, 100, 1000, 2.5}[g.r.IntN(7)]
	}
	if g.chance(0.3) {
		o.FreezeBelow = g.pick2(0.1, 0.5, 0.9, 0.01)
	}
	var w Witness
	if g.chance(0.4) {
		o.SLI, w = g.latencySLI(svc)
	} else {
		o.SLI, w = g.eventsSLI(svc)
	}
	period := o.Period
	if period == 0 {
		period = model.DefaultPeriod
	}
	alerting := o.Alerting
	if alerting == "" {
		alerting = model.RatioAlerting
	}
	tiers := map[string]bool{}
	for k := range g.r.IntN(5) {
		t := g.tier(svc, o, period, alerting, k, claim)
		if tiers[t.Name] {
			continue
		}
		tiers[t.Name] = true
		for _, u := range o.Tiers {
			if t.Severity == model.Page && u.Severity == model.Page && !model.Laddered(t, u) {
				t.Severity = model.Ticket // page tiers must form a ladder
			}
		}
		o.Tiers = append(o.Tiers, t)
	}
	return o, w
}

func (g *gen) pick2(xs ...float64) float64 { return xs[g.r.IntN(len(xs))] }

// matcher renders a matcher of type ty on label that `yes` satisfies and,
// when no is not empty, `no` does not.
func (g *gen) matcher(label, yes, no string) string {
	for {
		var m *labels.Matcher
		switch g.r.IntN(4) {
		case 0:
			m = labels.MustNewMatcher(labels.MatchEqual, label, yes)
		case 1:
			other := g.pick(weird...)
			if other == yes {
				continue
			}
			if no != "" {
				other = no
			}
			m = labels.MustNewMatcher(labels.MatchNotEqual, label, other)
		case 2:
			re := regexp.QuoteMeta(yes)
			switch {
			case g.chance(0.3) && len(yes) > 2:
				re = regexp.QuoteMeta(yes[:2]) + ".*"
			case g.chance(0.5):
				re = re + "|" + regexp.QuoteMeta(g.pick(weird...))
			}
			m = labels.MustNewMatcher(labels.MatchRegexp, label, re)
		default:
			re := regexp.QuoteMeta(g.pick(weird...))
			if no != "" {
				re = regexp.QuoteMeta(no) + "|" + re
			}
			m = labels.MustNewMatcher(labels.MatchNotRegexp, label, re)
		}
		if m.Matches(yes) && (no == "" || !m.Matches(no)) {
			return m.String()
		}
	}
}

// badStatus are matchers on the status label that 5xx statuses match and 200 does not.
var badStatus = []string{`status=~"5.."`, `status!~"[1-4].."`, `status!~"2..|3..|4.."`, `status!="200"`, `status=~"50[0-9]|5\\d\\d"`}

func (g *gen) eventsSLI(svc *model.Service) (model.SLI, Witness) {
	c := svc.Metrics[0]
	route := g.pick(weird...)
	bad := g.pick(badStatus...)
	badCode := g.pick("500", "503", "504")
	if g.chance(0.2) {
		bad = fmt.Sprintf(`status=%q`, badCode)
	}
	total := ""
	if g.chance(0.6) {
		total = g.matcher("route", route, "")
	}
	if g.chance(0.2) {
		tenant := "t1"
		if slices.Contains(c.OptionalLabels, "tenant") {
			total = join(total, g.matcher("tenant", tenant, ""))
		}
	}
	if g.chance(0.2) {
		bad = join(bad, g.matcher("route", route, ""))
	}
	good := map[string]string{"route": route, "status": "200", "tenant": "t1"}
	badL := map[string]string{"route": route, "status": badCode, "tenant": "t1"}
	e := &model.EventRatio{Metric: c.Name, Total: total, Bad: bad}
	if g.alt.Float64() < 0.25 {
		// The SLI names its successes instead: bad = total - good, with
		// one good matcher or several (whose complement is no selector).
		e.Bad, e.Good = "", goodStatus[g.alt.IntN(len(goodStatus))]
		if g.alt.Float64() < 0.5 {
			e.Good = join(e.Good, `status!="429"`)
		}
	}
	w := Witness{Metric: c.Name, Good: good, Bad: badL}
	if g.two.Float64() < 0.25 {
		g.secondCounter(svc, e, &w)
	}
	return model.SLI{Events: e}, w
}

// secondCounter moves the SLI's good or bad events onto a counter of their
// own (requests_ok_total or errors_total beside the counter of all events),
// selected by the SLI's matchers or taken whole.
func (g *gen) secondCounter(svc *model.Service, e *model.EventRatio, w *Witness) {
	c := svc.Metrics[0]
	suffix, matchers, name := "_errors_total", &e.Bad, &e.BadMetric
	if e.CountsGood() {
		suffix, matchers, name = "_ok_total", &e.Good, &e.GoodMetric
	}
	*name = strings.TrimSuffix(c.Name, "_total") + suffix
	if g.two.IntN(2) == 0 {
		*matchers = ""
	}
	if _, ok := svc.Metric(*name); !ok {
		svc.Metrics = append(svc.Metrics, model.Metric{Name: *name, Type: model.Counter,
			Labels: slices.Clone(c.Labels), OptionalLabels: slices.Clone(c.OptionalLabels)})
	}
	w.GoodMetric, w.BadMetric = e.GoodMetric, e.BadMetric
}

// goodStatus are matchers on the status label that 200 matches and no 5xx
// status does.
var goodStatus = []string{`status!~"5.."`, `status=~"[1-4].."`, `status="200"`, `status=~"2..|3..|4.."`, `status!~"5\\d\\d"`}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

func (g *gen) latencySLI(svc *model.Service) (model.SLI, Witness) {
	h := svc.Metrics[1]
	route, method := g.pick(weird...), g.pick("GET", "POST", `PU"T`)
	var ms string
	if g.chance(0.7) {
		ms = g.matcher("route", route, "")
	}
	if g.chance(0.4) {
		ms = join(ms, g.matcher("method", method, ""))
	}
	l := map[string]string{"route": route, "method": method}
	return model.SLI{Latency: &model.Latency{Metric: h.Name, Matchers: ms, Threshold: h.Buckets[g.r.IntN(len(h.Buckets))]}},
		Witness{Metric: h.Name, Latency: true, Good: l, Bad: l}
}

// window returns a random multiple of interval in [lo, hi], or 0 if none.
func (g *gen) window(interval, lo, hi time.Duration) time.Duration {
	kLo, kHi := int64((lo+interval-1)/interval), int64(hi/interval)
	if kLo < 1 {
		kLo = 1
	}
	if kHi < kLo {
		return 0
	}
	// Log-uniform in k, so short and long windows are both common.
	k := int64(math.Round(math.Exp(math.Log(float64(kLo)) + g.r.Float64()*(math.Log(float64(kHi))-math.Log(float64(kLo))))))
	return time.Duration(min(max(k, kLo), kHi)) * interval
}

var tierNames = []string{"fast", "medium", "slow", "very-slow", "t1", "x9"}

// interval is the service's evaluation interval, defaulted.
func interval(svc *model.Service) time.Duration {
	if svc.EvaluationInterval == 0 {
		return model.DefaultEvaluationInterval.Std()
	}
	return svc.EvaluationInterval.Std()
}

func (g *gen) tier(svc *model.Service, o model.SLO, period model.Duration, alerting model.AlertingMode, k int, claim func(string) string) model.Tier {
	interval := interval(svc)
	// Long windows mostly up to 3d (replays of outages stay short), at
	// times up to the whole period.
	hi := min(period.Std()-interval, 3*24*time.Hour)
	if g.chance(0.05) {
		hi = period.Std() - interval
	}
	long := g.window(interval, 2*interval, hi)
	short := g.window(interval, interval, max(long/6, interval))
	if short >= long {
		short = long - interval
	}
	name := tierNames[(k+g.r.IntN(len(tierNames)))%len(tierNames)]
	t := model.Tier{
		Name:     name,
		Alert:    claim(strings.ToLower(strings.ReplaceAll(o.Name, "_", "-")) + "-" + name + "-burn"),
		Severity: model.Severity(g.pick(string(model.Page), string(model.Ticket))),
		Long:     model.Duration(long), Short: model.Duration(short),
	}
	if g.chance(0.4) {
		t.For = model.Duration(time.Duration(g.r.IntN(20)) * interval)
	} else if g.chance(0.2) {
		t.For = model.Duration(time.Duration(1+g.r.IntN(600)) * time.Second)
	}
	budget := o.BudgetRatio()
	for {
		t.Factor = model.Clean(math.Round(math.Exp(math.Log(0.2)+g.r.Float64()*(math.Log(100)-math.Log(0.2)))*10) / 10)
		if g.chance(0.3) {
			t.Factor = g.pick2(14.4, 6, 3, 1)
		}
		// A tier must be able to fire: a ratio tier's threshold below 1, a
		// budget tier's long window spending less than all the errors the
		// period can hold (model validation).
		ratioOK := alerting != model.BudgetAlerting && t.Threshold(budget) < 1
		budgetOK := alerting == model.BudgetAlerting && model.Clean(t.BudgetSpent(period)*budget) < 1
		if t.Factor > 0 && (ratioOK || budgetOK) {
			return t
		}
	}
}

func (g *gen) threshold(svc *model.Service, k int, claim func(string) string) (model.ThresholdAlert, bool) {
	interval := interval(svc)
	a := model.ThresholdAlert{
		Severity: model.Severity(g.pick(string(model.Page), string(model.Ticket))),
		Summary:  g.pick("Too many errors.", `Latency is "high".`, "P99 above 1s: {{ $labels.service }}"),
	}
	if g.chance(0.3) {
		a.For = model.Duration(time.Duration(g.r.IntN(10)) * interval)
	}
	window := model.Duration(g.window(interval, interval, 6*time.Hour))
	if len(svc.SLOs) > 0 && g.chance(0.5) {
		o := svc.SLOs[g.r.IntN(len(svc.SLOs))]
		a.Alert = claim(fmt.Sprintf("error-ratio-%d", k))
		a.ErrorRatio = &model.ErrorRatioOver{SLO: o.Name, Window: window}
		a.Above = g.pick2(0.01, 0.5, 0.001, 0.25)
		return a, true
	}
	h := svc.Metrics[1]
	a.Alert = claim(fmt.Sprintf("slow-%d", k))
	var ms string
	if g.chance(0.5) {
		ms = g.matcher("route", g.pick(weird...), "")
	}
	a.Quantile = &model.QuantileOver{Metric: h.Name, Matchers: ms, Quantile: g.pick2(0.5, 0.95, 0.99, 0.999), Window: window}
	a.Above = g.pick2(0.1, 1, 2.5, 0.25)
	if last := h.Buckets[len(h.Buckets)-1]; a.Above >= last {
		a.Above = last / 2 // a quantile never exceeds the highest bound
	}
	return a, true
}

// YAML renders s as a spec file, leaving out empty fields and defaults'
// zero values, so a failing spec prints short and loads back as it was.
func YAML(s model.Spec) string {
	s = undefault(s)
	var n yaml.Node
	if err := n.Encode(s); err != nil {
		return fmt.Sprintf("# cannot encode: %v\n%#v", err, s)
	}
	prune(&n)
	out, err := yaml.Marshal(&n)
	if err != nil {
		return fmt.Sprintf("# cannot encode: %v\n%#v", err, s)
	}
	return string(out)
}

// prune removes null, empty and zero fields from mappings.
func prune(n *yaml.Node) {
	for _, c := range n.Content {
		prune(c)
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		empty := (v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "" || v.Value == "0" || v.Value == "0s")) ||
			((v.Kind == yaml.SequenceNode || v.Kind == yaml.MappingNode) && len(v.Content) == 0)
		if !empty {
			kept = append(kept, n.Content[i], v)
		}
	}
	n.Content = kept
	if len(n.Content) > 0 && n.Style == 0 {
		// Short lists of scalars read best inline.
		for _, c := range n.Content {
			if c.Kind == yaml.SequenceNode && len(c.Content) > 0 && c.Content[0].Kind == yaml.ScalarNode {
				c.Style = yaml.FlowStyle
			}
		}
	}
}

// undefault clears what SetDefaults would fill in, on a copy of s.
func undefault(s model.Spec) model.Spec {
	s.Services = slices.Clone(s.Services)
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.Title == svc.Name {
			svc.Title = ""
		}
		if svc.EvaluationInterval == model.DefaultEvaluationInterval {
			svc.EvaluationInterval = 0
		}
		svc.Metrics = slices.Clone(svc.Metrics)
		for j := range svc.Metrics {
			m := &svc.Metrics[j]
			if m.Title == m.Name {
				m.Title = ""
			}
			if m.Row == model.DefaultRow {
				m.Row = ""
			}
		}
		svc.SLOs = slices.Clone(svc.SLOs)
		for j := range svc.SLOs {
			o := &svc.SLOs[j]
			if o.Period == model.DefaultPeriod {
				o.Period = 0
			}
			if o.FreezeBelow == model.DefaultFreezeBelow {
				o.FreezeBelow = 0
			}
			if o.Alerting == model.RatioAlerting {
				o.Alerting = ""
			}
		}
	}
	return s
}
